"""Followers of the notification log: the dispatcher, the sweeper, the indexer."""

"""Projections: tables kept by a follower from the notification log, read by the questions."""

"""Domain model: aggregates, events, ids and the RecordStore application.

Imports nothing of ours; every other package builds on this one.
"""

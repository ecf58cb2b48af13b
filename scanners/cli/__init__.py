"""The `sohoa` command line: a thin edge over pipeline use cases."""

# importing a group module registers its commands on `main`
from scanners.cli import (
    documents,
    exporting,
    importing,
    ingest,
    models,
    parcels,
    processes,
    records,
    review,
    search,
    stats,
    users,
)
from scanners.cli.main import main

__all__ = [
    "documents",
    "exporting",
    "importing",
    "ingest",
    "main",
    "models",
    "parcels",
    "processes",
    "records",
    "review",
    "search",
    "stats",
    "users",
]

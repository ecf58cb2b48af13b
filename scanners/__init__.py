"""Input adapters (CLI, hot folder, batch import) and the `sohoa` command line."""

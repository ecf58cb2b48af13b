"""Settings, wiring, ingest, followers, use-case handlers and pure stages."""

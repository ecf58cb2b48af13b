"""Pure stages: bytes or paths in, facts out. No store, no broker, no settings."""

"""The land officer console."""

"""One module per job name, plus the isolation of heavy children."""

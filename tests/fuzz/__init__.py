"""Coverage-guided fuzzing (atheris) of every parser we own; see `run.py` and README "Fuzzing"."""

"""What operators see of a running sohoa: its logs (`logs.py`) and its metrics (`metrics.py`)."""

"""One module per external program, with its errors."""

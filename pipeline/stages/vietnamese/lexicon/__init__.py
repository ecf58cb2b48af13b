"""Data of the Vietnamese OCR correction model and the script that builds it (build.py)."""

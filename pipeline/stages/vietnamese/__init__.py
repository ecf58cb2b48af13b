"""Vietnamese correction of OCR text and its lexicon."""

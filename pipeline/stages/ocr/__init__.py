"""OCR of one page: preprocessing, recognition, hOCR."""

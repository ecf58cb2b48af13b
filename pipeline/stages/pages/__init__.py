"""Page images, PDF text layers, the PageText currency, searchable PDFs."""

"""The embedded search backend (tantivy)."""

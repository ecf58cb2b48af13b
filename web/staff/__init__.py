"""Archive staff: upload, review, publish, audit."""

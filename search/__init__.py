"""Search: indexing, querying and Vietnamese text handling."""

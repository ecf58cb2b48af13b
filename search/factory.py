"""Choose a search backend from its URL (`SOHOA_SEARCH_URL`)."""

from __future__ import annotations

from urllib.parse import unquote, urlsplit

from search.index import SearchIndex

SCHEMES = ("tantivy", "memory", "http", "https")


def search_index_from_url(url: str) -> SearchIndex:
    """`tantivy:///path` (a folder), `memory://` (a temporary folder), `http(s)://…` (ES)."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme == "tantivy":
        from search.tantivy_index import TantivyIndex

        path = unquote(parts.netloc + parts.path)
        if not path:
            raise ValueError(
                f"{url}: a tantivy URL needs a folder, e.g. tantivy:///var/sohoa/index"
            )
        return TantivyIndex(path)
    if scheme == "memory":
        from search.tantivy_index import TantivyIndex

        return TantivyIndex.temporary()
    if scheme in ("http", "https"):
        from search.elastic import ElasticIndex  # imported only when Elasticsearch is used

        return ElasticIndex.from_url(url)
    raise ValueError(f"{url}: search URL scheme must be one of {', '.join(SCHEMES)}")

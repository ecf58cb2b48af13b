"""Choose a search backend from its URL (`SOHOA_SEARCH_URL`)."""

from __future__ import annotations

from urllib.parse import unquote, urlsplit

from search.index import SearchIndex

NODE_SCHEMES = (
    "opensearch+http",
    "opensearch+https",
    "elasticsearch+http",
    "elasticsearch+https",
    "http",  # Elasticsearch, as before the OpenSearch client came
    "https",
)
SCHEMES = ("tantivy", "memory", *NODE_SCHEMES)


def search_index_from_url(url: str) -> SearchIndex:
    """`tantivy:///path` (a folder), `memory://` (a temporary folder),
    `opensearch+http(s)://host:9200/alias` (OpenSearch 2),
    `elasticsearch+http(s)://host:9200/alias` or plain `http(s)://…` (Elasticsearch 8)."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme == "tantivy":
        from search.tantivy.index import TantivyIndex

        path = unquote(parts.netloc + parts.path)
        if not path:
            raise ValueError(
                f"{url}: a tantivy URL needs a folder, e.g. tantivy:///var/sohoa/index"
            )
        return TantivyIndex(path)
    if scheme == "memory":
        from search.tantivy.index import TantivyIndex

        return TantivyIndex.temporary()
    if scheme in NODE_SCHEMES:
        from search.elastic.index import ElasticIndex  # imported only when a search node is used

        return ElasticIndex.from_url(url)
    raise ValueError(f"{url}: search URL scheme must be one of {', '.join(SCHEMES)}")

"""The OpenSearch client of the search backend (`opensearch-py`): see `search.elastic.index`.

OpenSearch 2 speaks the same REST API as Elasticsearch for everything the backend sends; the
one difference it meets is the name of the highlight option that bounds the analysed text
(`max_analyzer_offset`, where Elasticsearch says `max_analyzed_offset`).
"""

from __future__ import annotations

from typing import Any

from opensearchpy import OpenSearch
from opensearchpy.exceptions import ConnectionError as OpenSearchConnectionError
from opensearchpy.exceptions import TransportError

from search.elastic.client import NodeClient, NodeError, NodeUnreachableError


class OpenSearchClient(NodeClient):
    """`NodeClient` on `opensearch-py`."""

    product = "OpenSearch"
    highlight_offset_option = "max_analyzer_offset"

    def __init__(self, node: str, auth: tuple[str, str] | None, **options: Any) -> None:
        options = {"timeout": 30, "max_retries": 2, "retry_on_timeout": True, **options}
        if auth:
            options["http_auth"] = auth
        self._client = OpenSearch([node], **options)

    def request(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        body: bytes | None = None,
        ndjson: bool = False,
    ) -> Any:
        headers = {"content-type": "application/x-ndjson"} if ndjson else None
        try:
            return self._client.transport.perform_request(
                method, path, params=params, body=body, headers=headers
            )
        except OpenSearchConnectionError as exc:  # refused, reset, timed out, TLS
            raise NodeUnreachableError(str(exc)) from exc
        except TransportError as exc:
            status = exc.status_code if isinstance(exc.status_code, int) else 500
            raise NodeError.of(status, exc.info if isinstance(exc.info, dict) else {}) from exc

    def close(self) -> None:
        self._client.close()

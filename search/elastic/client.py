"""The node clients of the search backend: `NodeClient`, `ElasticsearchClient`, `NodeError`.

A client only carries a request and turns the node's refusals into `NodeError` (status, error
type) and a node it cannot reach into `NodeUnreachableError`; see `search.elastic.index`.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any

UNAVAILABLE_TYPES = frozenset(
    {
        "index_not_found_exception",  # a rebuild or a restore is under way: not the document
        "index_closed_exception",
        "cluster_block_exception",  # read-only while the disk is full
        "no_shard_available_action_exception",
        "unavailable_shards_exception",
        "es_rejected_execution_exception",
        "opensearch_rejected_execution_exception",
        "circuit_breaking_exception",
        "process_cluster_event_timeout_exception",
    }
)


class NodeError(Exception):
    """The node answered a request with an HTTP error."""

    def __init__(self, status: int, error_type: str, reason: str = "") -> None:
        super().__init__(f"HTTP {status} {error_type}")
        self.status = status
        self.error_type = error_type
        self.reason = reason

    @property
    def transient(self) -> bool:
        """Worth trying again later: busy, failing, or the index missing or closed for now."""
        return (
            self.status in (408, 429)
            or self.status >= 500
            or self.error_type in (UNAVAILABLE_TYPES)
        )

    @classmethod
    def of(cls, status: int, body: Any) -> NodeError:
        """From a node's error body (`{"error": {"type", "reason"}}` or `{"error": "text"}`)."""
        error = body.get("error") if isinstance(body, dict) else None
        if isinstance(error, dict):
            return cls(status, str(error.get("type") or "error"), str(error.get("reason") or ""))
        return cls(status, "error" if error is None else str(error)[:200])


class NodeUnreachableError(Exception):
    """Nothing reached the node, or no answer came back (refused, reset, timed out, TLS)."""


class NodeClient(ABC):
    """One REST request at a time to an Elasticsearch-compatible node."""

    product = "Elasticsearch"
    highlight_offset_option = "max_analyzed_offset"
    """The highlight option that bounds how much text is analysed for a snippet."""

    @abstractmethod
    def request(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        body: bytes | None = None,
        ndjson: bool = False,
    ) -> Any:
        """The node's JSON answer; NodeError for an HTTP error, else NodeUnreachableError."""

    @abstractmethod
    def close(self) -> None: ...


class ElasticsearchClient(NodeClient):
    """`NodeClient` on the official `elasticsearch` 8 client."""

    _JSON = "application/vnd.elasticsearch+json; compatible-with=8"
    _NDJSON = "application/vnd.elasticsearch+x-ndjson; compatible-with=8"

    def __init__(self, node: str, auth: tuple[str, str] | None, **options: Any) -> None:
        from elasticsearch import Elasticsearch

        options = {"request_timeout": 30, "max_retries": 2, "retry_on_timeout": True, **options}
        if auth:
            options["basic_auth"] = auth
        self._client = Elasticsearch(node, **options)

    def request(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        body: bytes | None = None,
        ndjson: bool = False,
    ) -> Any:
        from elasticsearch import ApiError, TransportError

        headers = {"accept": self._JSON}
        if body is not None:
            headers["content-type"] = self._NDJSON if ndjson else self._JSON
        try:
            response = self._client.perform_request(
                method, path, params=params, headers=headers, body=body
            )
        except ApiError as exc:
            raise NodeError.of(int(exc.meta.status), exc.body) from exc
        except TransportError as exc:
            raise NodeUnreachableError(str(exc)) from exc
        return response.body

    def close(self) -> None:
        self._client.close()

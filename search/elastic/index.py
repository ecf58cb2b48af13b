"""The Elasticsearch and OpenSearch backend of `SearchIndex`: one backend, two thin clients.

What is stored is `search.elastic.mapping` and the queries sent are `search.elastic.query` (the
one builder of mappings and queries). `ElasticIndex` turns `SearchIndex` calls into REST
requests (paths, parameters and JSON bodies the two products share) and sends them through a
`NodeClient`: `ElasticsearchClient` here (the official `elasticsearch` 8 client) or
`search.elastic.opensearch.OpenSearchClient` (`opensearch-py`). A client only carries a request and
turns the node's refusals into `NodeError` (status, error type) and a node it cannot reach into
`NodeUnreachableError`; where the products differ (one highlight option's name), the client
says so.

The URL picks the client: `opensearch+http(s)://host:9200/alias`,
`elasticsearch+http(s)://host:9200/alias`, and plain `http(s)://` for Elasticsearch (as before).
Tests run the backend on a real OpenSearch 2.19 node; the Elasticsearch client is exercised only
against a recording HTTP server, since no Elasticsearch node can be started from Maven Central
artifacts here (the codelibs runner stops at 7.10, and the 8.x client refuses a node that is
not Elasticsearch). Set `SOHOA_TEST_ELASTICSEARCH_URL` to run the contract suite on one.

Indices, for the alias `sohoa` (the URL's path picks another):

- the alias `sohoa` points at one concrete index `sohoa-<n>`, and the alias `sohoa-positions`
  at its twin `sohoa-<n>-positions`, which holds one small document per follower (the
  notification id it has indexed up to). Positions therefore move with the index.
- A rebuild creates `sohoa-<n+1>` and its positions index (`create_index(next_index_name())`),
  replays the log into `for_index(name)` and, once caught up, `switch_alias(name)` moves both
  aliases in one atomic `_aliases` request, then deletes the indices the aliases left.
- Index templates: `sohoa` (pattern `sohoa-*`) and `sohoa-positions` (pattern
  `sohoa-*-positions`, higher priority). Priorities grow with the alias's length, so a more
  specific alias (`sohoa-test-…`) beside `sohoa` on one cluster wins instead of clashing.

Failures: a node that cannot be reached, is busy (429), failing (5xx) or is missing or has
closed the index is `SearchUnavailableError` (the follower retries later; nothing is skipped).
A template, mapping or credentials the node refuses is `SearchConfigurationError` (an operator
must act). A search the node refuses is a `QueryError`. Bulk writes go out in requests of at
most `max_bulk_bytes`; items refused for a retryable reason are sent again (alone) a few times;
a document the node refuses for itself (malformed, or over its request size: 413) is a bad
document: logged with its id (never its values), listed in `rejected`, and skipped.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import unquote, urlsplit

from search.elastic.client import (
    ElasticsearchClient,
    NodeClient,
    NodeError,
    NodeUnreachableError,
)
from search.elastic.documents import DocumentsMixin
from search.elastic.mapping import index_template, positions_template
from search.elastic.query import can_widen, result_of, search_body
from search.index import SearchConfigurationError, SearchIndex, SearchUnavailableError
from search.query import MAX_QUERY_CHARS, Query, QueryError, SearchResult

DEFAULT_ALIAS = "sohoa"
DEFAULT_PORT = 9200
MAX_BULK_BYTES = 5 * 1024 * 1024
"""A bulk request carries documents up to this many bytes (one larger document goes alone)."""
RETRY_WAITS_S = (0.5, 1.0, 2.0)
"""Waits before sending again the items a bulk request could not store for a retryable reason;
after the last, the batch is `SearchUnavailableError` and the follower tries it again later."""


_ALIAS_NAME = re.compile(r"[a-z0-9][a-z0-9_-]*")
PRODUCTS = ("elasticsearch", "opensearch")


class ElasticIndex(DocumentsMixin, SearchIndex):
    """`SearchIndex` on Elasticsearch 8 or OpenSearch 2 behind the alias `index_alias` (or one
    concrete index, see `for_index`)."""

    def __init__(
        self,
        client: NodeClient,
        index_alias: str = DEFAULT_ALIAS,
        *,
        max_bulk_bytes: int = MAX_BULK_BYTES,
        retry_waits_s: tuple[float, ...] = RETRY_WAITS_S,
    ) -> None:
        self._client = client
        self._alias = index_alias
        self._positions = f"{index_alias}-positions"
        self._is_alias = True
        self.max_bulk_bytes = max_bulk_bytes
        self.retry_waits_s = retry_waits_s
        self.rejected: list[tuple[str, str]] = []
        """(document id, why) of the bad documents the last `upsert` skipped."""

    @classmethod
    def from_url(cls, url: str, *, ensure: bool = True, **client_options: Any) -> ElasticIndex:
        """`[elasticsearch+|opensearch+]http(s)://[user:password@]host[:9200][/alias]`;
        creates what is missing (`ensure`)."""
        parts = urlsplit(url)
        product, _, scheme = parts.scheme.lower().rpartition("+")
        product = product or "elasticsearch"
        if product not in PRODUCTS or scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(
                "a search node URL is [elasticsearch+|opensearch+]http(s)://"
                "[user:password@]host:9200[/alias]"
            )
        alias = parts.path.strip("/") or DEFAULT_ALIAS
        if not _ALIAS_NAME.fullmatch(alias):
            raise ValueError(f"{alias!r} is not an index alias (lower-case letters, digits, -, _)")
        host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
        node = f"{scheme}://{host}:{parts.port or DEFAULT_PORT}"
        auth = (unquote(parts.username), unquote(parts.password or "")) if parts.username else None
        client: NodeClient
        if product == "opensearch":
            from search.elastic.opensearch import OpenSearchClient  # only when OpenSearch is used

            client = OpenSearchClient(node, auth, **client_options)
        else:
            client = ElasticsearchClient(node, auth, **client_options)
        index = cls(client, alias)
        if ensure:
            index.ensure()
        return index

    @property
    def product(self) -> str:
        return self._client.product

    def close(self) -> None:
        self._client.close()

    def _call(self, method: str, path: str, body: Any = None, **params: Any) -> Any:
        data = None if body is None else json.dumps(body, ensure_ascii=False).encode()
        query = {k: _param(v) for k, v in params.items() if v is not None}
        return self._client.request(method, path, params=query or None, body=data)

    # -- set-up, rebuilds, clean-up --------------------------------------------------------------

    def ensure(self) -> None:
        """Put both index templates; create `<alias>-1` and its positions index behind the
        aliases unless the alias exists. The alias comes last: it marks a finished set-up, so
        an interrupted one is completed next time, and two processes starting at once agree."""
        with self._backend("set up the index"):
            self._call("PUT", f"/_index_template/{self._alias}", index_template(self._alias))
            self._call(
                "PUT", f"/_index_template/{self._positions}", positions_template(self._alias)
            )
            if self._alias_exists():
                return
            first = f"{self._alias}-1"
            for name, alias in ((f"{first}-positions", self._positions), (first, self._alias)):
                try:
                    self._call("PUT", f"/{name}", {"aliases": {alias: {}}})
                except NodeError as exc:
                    if exc.error_type != "resource_already_exists_exception":
                        raise

    def _alias_exists(self) -> bool:
        try:
            self._call("GET", f"/_alias/{self._alias}")
        except NodeError as exc:
            if exc.status == 404:
                return False
            raise
        return True

    def create_index(self, name: str) -> str:
        """Create the concrete index `name` and its positions index, behind no alias yet."""
        with self._backend(f"create index {name}"):
            self._call("PUT", f"/{name}")
            self._call("PUT", f"/{name}-positions")
        return name

    def next_index_name(self) -> str:
        """`<alias>-<n+1>`, `n` being the highest number any `<alias>-<n>` index has now."""
        numbers = [int(m[1]) for m in map(self._own_index, self._indices()) if m]
        return f"{self._alias}-{max(numbers, default=0) + 1}"

    def for_index(self, name: str) -> ElasticIndex:
        """The same backend on the concrete index `name` and its positions (a rebuild target)."""
        target = ElasticIndex(
            self._client, name, max_bulk_bytes=self.max_bulk_bytes, retry_waits_s=self.retry_waits_s
        )
        target._is_alias = False
        return target

    def switch_alias(self, new_index: str) -> list[str]:
        """Point the alias (and the positions alias) at `new_index` only, in one atomic request,
        then delete the indices the aliases left (and their positions); returns their names."""
        new_positions = f"{new_index}-positions"
        behind = {k: v for k, v in self._indices().items() if k not in (new_index, new_positions)}
        actions: list[dict[str, Any]] = [
            {"remove": {"index": name, "alias": alias}}
            for name, aliases in sorted(behind.items())
            for alias in aliases
        ]
        actions.append({"add": {"index": new_index, "alias": self._alias}})
        actions.append({"add": {"index": new_positions, "alias": self._positions}})
        with self._backend("switch the alias"):
            self._call("POST", "/_aliases", {"actions": actions})
        left = [name for name, aliases in sorted(behind.items()) if aliases]
        if left:
            with self._backend("delete the indices the alias left"):
                self._call("DELETE", "/" + ",".join(left))
        return [name for name in left if self._alias in behind[name]]

    def drop(self) -> None:
        """Delete this alias's indices (`<alias>-<n>` and their positions) and templates."""
        names = sorted(name for name in self._indices() if self._own_index(name))
        with self._backend("drop the index"):
            if names:
                self._call("DELETE", "/" + ",".join(names))
            for template in (self._alias, self._positions):
                try:
                    self._call("DELETE", f"/_index_template/{template}")
                except NodeError as exc:
                    if exc.status != 404:
                        raise

    def _indices(self) -> dict[str, list[str]]:
        """`<alias>-*` index name -> which of our two aliases it carries."""
        ours = (self._alias, self._positions)
        with self._backend("list indices"):
            found = self._call("GET", f"/{self._alias}-*/_alias")
        return {
            name: [a for a in ours if a in info.get("aliases", {})] for name, info in found.items()
        }

    def _own_index(self, name: str) -> re.Match[str] | None:
        return re.fullmatch(rf"{re.escape(self._alias)}-(\d+)(?:-positions)?", name)

    # -- search ----------------------------------------------------------------------------------

    def search(self, query: Query) -> SearchResult:
        """The words as written first; typos and a prefix forgiven only if they found nothing."""
        option = self._client.highlight_offset_option
        result = result_of(self._search(search_body(query, option)), query.role)
        if result.total or not can_widen(query.text[:MAX_QUERY_CHARS]):
            return result
        widened = self._search(search_body(query, option, widen=True))
        return result_of(widened, query.role, widened_from=query.text)

    def _search(self, body: dict[str, Any]) -> dict[str, Any]:
        with self._backend("search"):
            try:
                return self._call("POST", f"/{self._alias}/_search", body)
            except NodeError as exc:
                if exc.status == 400 and not exc.transient:
                    raise QueryError(f"the search could not be run ({exc.error_type})") from exc
                raise

    # -- errors ----------------------------------------------------------------------------------

    @contextmanager
    def _backend(self, action: str) -> Iterator[None]:
        """NodeUnreachableError and transient refusals -> SearchUnavailableError (the caller
        retries later); any other refusal -> SearchConfigurationError."""
        try:
            yield
        except NodeUnreachableError as exc:
            raise SearchUnavailableError(
                f"{self.product} is unreachable ({action}): {exc}"
            ) from exc
        except NodeError as exc:  # the message is the node's error type: never a document value
            if exc.transient:
                raise SearchUnavailableError(
                    f"{self.product} could not {action} now: HTTP {exc.status} {exc.error_type}"
                ) from exc
            raise self._refused(action, exc) from exc

    def _refused(self, action: str, exc: NodeError) -> SearchConfigurationError:
        why = "access denied" if exc.status in (401, 403) else exc.error_type
        return SearchConfigurationError(
            f"{self.product} refused to {action}: HTTP {exc.status} {why}: {exc.reason[:300]}"
        )


def _param(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)

"""The Elasticsearch backend of `SearchIndex` (Elasticsearch 8.x, official `elasticsearch` client).

Indices, for the alias `sohoa` (the URL's path picks another):

- the alias `sohoa` points at one concrete index `sohoa-<n>`, and the alias `sohoa-positions`
  at its twin `sohoa-<n>-positions`, which holds one small document per follower (the
  notification id it has indexed up to). Positions therefore move with the index.
- A rebuild creates `sohoa-<n+1>` and its positions index (`create_index(next_index_name())`),
  replays the log into `for_index(name)` and, once caught up, `switch_alias(name)` moves both
  aliases in one atomic `_aliases` request.
- Index templates: `sohoa` (pattern `sohoa-*`) and `sohoa-positions` (pattern
  `sohoa-*-positions`, higher priority). Priorities grow with the alias's length, so a more
  specific alias (`sohoa-test-…`) beside `sohoa` on one cluster wins instead of clashing.

What is stored is `search.elastic_mapping`; the queries sent are `search.elastic_query`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from typing import Any
from urllib.parse import unquote, urlsplit

from elasticsearch import (
    ApiError,
    BadRequestError,
    ConflictError,
    Elasticsearch,
    NotFoundError,
    TransportError,
)

from search.elastic_mapping import (
    document_of,
    index_template,
    positions_template,
    source_of,
    stored_count,
)
from search.elastic_query import result_of, search_body
from search.index import Document, SearchIndex, SearchUnavailableError
from search.query import Query, QueryError, SearchResult

DEFAULT_ALIAS = "sohoa"
DEFAULT_PORT = 9200

_ALIAS_NAME = re.compile(r"[a-z0-9][a-z0-9_-]*")


class ElasticIndex(SearchIndex):
    """`SearchIndex` on Elasticsearch 8 behind the alias `index_alias` (or one concrete index,
    see `for_index`)."""

    def __init__(self, client: Elasticsearch, index_alias: str = DEFAULT_ALIAS) -> None:
        self._client = client
        self._alias = index_alias
        self._positions = f"{index_alias}-positions"
        self._is_alias = True

    @classmethod
    def from_url(cls, url: str, *, ensure: bool = True, **client_options: Any) -> ElasticIndex:
        """`http(s)://[user:password@]host[:9200][/alias]`; creates what is missing (`ensure`)."""
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("an Elasticsearch URL is http(s)://[user:password@]host:9200[/alias]")
        alias = parts.path.strip("/") or DEFAULT_ALIAS
        if not _ALIAS_NAME.fullmatch(alias):
            raise ValueError(f"{alias!r} is not an index alias (lower-case letters, digits, -, _)")
        host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
        options: dict[str, Any] = {
            "request_timeout": 30,
            "max_retries": 2,
            "retry_on_timeout": True,
        }
        if parts.username:
            options["basic_auth"] = (unquote(parts.username), unquote(parts.password or ""))
        options.update(client_options)
        client = Elasticsearch(f"{parts.scheme}://{host}:{parts.port or DEFAULT_PORT}", **options)
        index = cls(client, alias)
        if ensure:
            index.ensure()
        return index

    def close(self) -> None:
        self._client.close()

    # -- set-up, rebuilds, clean-up --------------------------------------------------------------

    def ensure(self) -> None:
        """Put both index templates; create `<alias>-1` and its positions index behind the
        aliases unless the alias exists. The alias comes last: it marks a finished set-up, so
        an interrupted one is completed next time, and two processes starting at once agree."""
        with _backend("set up the index"):
            indices = self._client.indices
            indices.put_index_template(name=self._alias, **index_template(self._alias))
            indices.put_index_template(name=self._positions, **positions_template(self._alias))
            if indices.exists_alias(name=self._alias):
                return
            first = f"{self._alias}-1"
            for name, alias in ((f"{first}-positions", self._positions), (first, self._alias)):
                try:
                    indices.create(index=name, aliases={alias: {}})
                except BadRequestError as exc:
                    if exc.error != "resource_already_exists_exception":
                        raise

    def create_index(self, name: str) -> str:
        """Create the concrete index `name` and its positions index, behind no alias yet."""
        with _backend(f"create index {name}"):
            self._client.indices.create(index=name)
            self._client.indices.create(index=f"{name}-positions")
        return name

    def next_index_name(self) -> str:
        """`<alias>-<n+1>`, `n` being the highest number any `<alias>-<n>` index has now."""
        numbers = [int(m[1]) for m in map(self._own_index, self._indices()) if m]
        return f"{self._alias}-{max(numbers, default=0) + 1}"

    def for_index(self, name: str) -> ElasticIndex:
        """The same backend on the concrete index `name` and its positions (a rebuild target)."""
        target = ElasticIndex(self._client, name)
        target._is_alias = False
        return target

    def switch_alias(self, new_index: str) -> list[str]:
        """Point the alias (and the positions alias) at `new_index` only, in one atomic request;
        returns the indices the alias left, for the caller to drop when it sees fit."""
        new_positions = f"{new_index}-positions"
        behind = {k: v for k, v in self._indices().items() if k not in (new_index, new_positions)}
        actions: list[dict[str, Any]] = [
            {"remove": {"index": name, "alias": alias}}
            for name, aliases in sorted(behind.items())
            for alias in aliases
        ]
        actions.append({"add": {"index": new_index, "alias": self._alias}})
        actions.append({"add": {"index": new_positions, "alias": self._positions}})
        with _backend("switch the alias"):
            self._client.indices.update_aliases(actions=actions)
        return [name for name, aliases in sorted(behind.items()) if self._alias in aliases]

    def drop(self) -> None:
        """Delete this alias's indices (`<alias>-<n>` and their positions) and templates."""
        names = sorted(name for name in self._indices() if self._own_index(name))
        with _backend("drop the index"):
            if names:
                self._client.indices.delete(index=",".join(names))
            for template in (self._alias, self._positions):
                with suppress(NotFoundError):
                    self._client.indices.delete_index_template(name=template)

    def _indices(self) -> dict[str, list[str]]:
        """`<alias>-*` index name -> which of our two aliases it carries."""
        ours = (self._alias, self._positions)
        with _backend("list indices"):
            found = self._client.indices.get_alias(index=f"{self._alias}-*").body
        return {
            name: [a for a in ours if a in info.get("aliases", {})] for name, info in found.items()
        }

    def _own_index(self, name: str) -> re.Match[str] | None:
        return re.fullmatch(rf"{re.escape(self._alias)}-(\d+)(?:-positions)?", name)

    # -- documents -------------------------------------------------------------------------------

    def upsert(self, documents: list[Document]) -> int:
        newest: dict[str, Document] = {}
        for doc in documents:  # one action per id: the batch's newest version
            if doc.id not in newest or doc.version > newest[doc.id].version:
                newest[doc.id] = doc
        if not newest:
            return 0
        operations: list[dict[str, Any]] = []
        for doc in newest.values():
            action = {"_id": doc.id, "version": doc.version, "version_type": "external"}
            operations += [{"index": action}, source_of(doc)]
        with _backend("index documents"):
            response = self._client.bulk(
                index=self._alias, operations=operations, require_alias=self._is_alias or None
            )
        return stored_count(response.body)

    def delete(self, doc_id: str, version: int | None = None) -> None:
        """With `version`: external_gte, so the tombstone carries that version (a late index
        of it or an older one meets a 409) and a newer stored version is left alone."""
        versioned = {"version": version, "version_type": "external_gte"} if version else {}
        with _backend("delete a document"), suppress(NotFoundError, ConflictError):
            self._client.delete(index=self._alias, id=doc_id, **versioned)

    def get(self, doc_id: str) -> Document | None:
        with _backend("read a document"):
            try:
                response = self._client.get(index=self._alias, id=doc_id)
            except NotFoundError:
                return None
        return document_of(response["_source"])

    def versions(self, doc_ids: list[str]) -> dict[str, int]:
        """One `_mget` without sources: the external `_version` is the aggregate version."""
        if not doc_ids:
            return {}
        with _backend("read versions"):
            response = self._client.mget(index=self._alias, ids=doc_ids, source=False)
        return {d["_id"]: int(d["_version"]) for d in response["docs"] if d.get("found")}

    def count(self) -> int:
        with _backend("count documents"):
            return int(self._client.count(index=self._alias)["count"])

    def refresh(self) -> None:
        with _backend("refresh the index"):
            self._client.indices.refresh(index=self._alias)

    # -- follower positions ----------------------------------------------------------------------

    def position(self, follower: str) -> int:
        with _backend("read a follower position"):
            try:
                response = self._client.get(index=self._positions, id=follower)
            except NotFoundError:
                return 0
        return int(response["_source"]["notification_id"])

    def set_position(self, follower: str, notification_id: int) -> None:
        document = {"follower": follower, "notification_id": notification_id}
        with _backend("store a follower position"):
            self._client.index(
                index=self._positions,
                id=follower,
                document=document,
                require_alias=self._is_alias or None,
            )

    # -- search ----------------------------------------------------------------------------------

    def search(self, query: Query) -> SearchResult:
        body = search_body(query)
        arguments = {_ARGUMENT.get(key, key): value for key, value in body.items()}
        with _backend("search"):
            try:
                response = self._client.search(index=self._alias, **arguments)
            except BadRequestError as exc:
                raise QueryError(f"the search could not be run ({exc.error})") from exc
        return result_of(response.body, query.role)


_ARGUMENT = {"_source": "source", "from": "from_"}  # body key -> the client's keyword argument


@contextmanager
def _backend(action: str) -> Iterator[None]:
    """Client and HTTP errors -> SearchUnavailableError (the caller retries later)."""
    try:
        yield
    except TransportError as exc:  # refused, timed out, TLS: nothing reached Elasticsearch
        raise SearchUnavailableError(f"Elasticsearch is unreachable ({action}): {exc}") from exc
    except ApiError as exc:  # the message is Elasticsearch's error type: never a document value
        raise SearchUnavailableError(
            f"Elasticsearch could not {action}: HTTP {exc.meta.status} {exc.message}"
        ) from exc

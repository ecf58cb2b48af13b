"""The document calls of `ElasticIndex`: bulk upsert, delete, get, versions, count, refresh, and
the follower positions; see `search.elastic.index` for what is retried and what is skipped.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

from search.elastic.client import UNAVAILABLE_TYPES, NodeError, NodeUnreachableError
from search.elastic.mapping import document_of, source_of
from search.index import Document, SearchUnavailableError

log = logging.getLogger(__name__)


class DocumentsMixin:
    """The documents and follower positions of `ElasticIndex` (which holds the client)."""

    def upsert(self, documents: list[Document]) -> int:
        """Bulk `index` actions with external versions, in requests of at most
        `max_bulk_bytes`; see the module docstring for what is retried and what is skipped."""
        self.rejected = []
        newest: dict[str, Document] = {}
        for doc in documents:  # one action per id: the batch's newest version
            if doc.id not in newest or doc.version > newest[doc.id].version:
                newest[doc.id] = doc
        pending = [(doc.id, _bulk_lines(doc)) for doc in newest.values()]
        stored = 0
        for wait in (*self.retry_waits_s, None):
            again: list[tuple[str, bytes]] = []
            for chunk in _chunks(pending, self.max_bulk_bytes):
                done, retry = self._bulk(chunk)
                stored += done
                again += retry
            if not again:
                return stored
            if wait is None:
                raise SearchUnavailableError(
                    f"{self.product} could not store {len(again)} document(s) now"
                )
            log.info("%s: %d document(s) to send again", self.product, len(again))
            time.sleep(wait)
            pending = again
        return stored  # pragma: no cover - the loop returns or raises

    def _bulk(self, chunk: list[tuple[str, bytes]]) -> tuple[int, list[tuple[str, bytes]]]:
        """One `_bulk` request: (documents stored, items to send again)."""
        params = {"require_alias": "true"} if self._is_alias else None
        body = b"".join(lines for _, lines in chunk)
        try:
            response = self._client.request(
                "POST", f"/{self._alias}/_bulk", params=params, body=body, ndjson=True
            )
        except NodeError as exc:
            if exc.status == 413 and len(chunk) > 1:  # the node's limit is below ours: halve
                half = len(chunk) // 2
                first, second = self._bulk(chunk[:half]), self._bulk(chunk[half:])
                return first[0] + second[0], first[1] + second[1]
            if exc.status == 413:
                self._reject(chunk[0][0], f"HTTP 413: larger than the node takes ({len(body)} B)")
                return 0, []
            if exc.transient:
                return 0, chunk
            raise self._refused("index documents", exc) from exc
        except NodeUnreachableError as exc:
            raise SearchUnavailableError(
                f"{self.product} is unreachable (index documents): {exc}"
            ) from exc
        lines = dict(chunk)
        stored, retry = 0, []
        for item in response.get("items", []):
            ((_, result),) = item.items()
            status = int(result.get("status", 500))
            if 200 <= status < 300:
                stored += 1
            elif status == 409:
                log.debug("search document %s: older than the indexed version", result.get("_id"))
            elif NodeError.of(status, result).transient:
                retry.append((result["_id"], lines[result["_id"]]))
            else:
                error = NodeError.of(status, result)
                self._reject(result["_id"], f"HTTP {status} {error.error_type}")
        return stored, retry

    def _reject(self, doc_id: str, why: str) -> None:
        """A bad document: reported by id and reason (the error type, never a value)."""
        log.warning("search document %s rejected by %s: %s", doc_id, self.product, why)
        self.rejected.append((doc_id, why))

    def delete(self, doc_id: str, version: int | None = None) -> None:
        """With `version`: external_gte, so the tombstone carries that version (a late index
        of it or an older one meets a 409) and a newer stored version is left alone."""
        versioned = {"version": version, "version_type": "external_gte"} if version else {}
        with self._backend("delete a document"):
            try:
                self._call("DELETE", f"/{self._alias}/_doc/{_id(doc_id)}", **versioned)
            except NodeError as exc:
                if exc.status not in (404, 409) or exc.error_type in UNAVAILABLE_TYPES:
                    raise

    def get(self, doc_id: str) -> Document | None:
        with self._backend("read a document"):
            found = self._read(f"/{self._alias}/_doc/{_id(doc_id)}")
        return document_of(found["_source"]) if found else None

    def _read(self, path: str) -> dict[str, Any] | None:
        """A document by path; None if it is not there (a missing index is an error)."""
        try:
            return self._call("GET", path)
        except NodeError as exc:
            if exc.status == 404 and exc.error_type not in UNAVAILABLE_TYPES:
                return None
            raise

    def versions(self, doc_ids: list[str]) -> dict[str, int]:
        """One `_mget` without sources: the external `_version` is the aggregate version."""
        if not doc_ids:
            return {}
        with self._backend("read versions"):
            response = self._call("POST", f"/{self._alias}/_mget", {"ids": doc_ids}, _source=False)
        return {d["_id"]: int(d["_version"]) for d in response["docs"] if d.get("found")}

    def count(self) -> int:
        with self._backend("count documents"):
            return int(self._call("GET", f"/{self._alias}/_count")["count"])

    def refresh(self) -> None:
        with self._backend("refresh the index"):
            self._call("POST", f"/{self._alias}/_refresh")

    # -- follower positions ----------------------------------------------------------------------

    def position(self, follower: str) -> int:
        with self._backend("read a follower position"):
            found = self._read(f"/{self._positions}/_doc/{_id(follower)}")
        return int(found["_source"]["notification_id"]) if found else 0

    def set_position(self, follower: str, notification_id: int) -> None:
        document = {"follower": follower, "notification_id": notification_id}
        with self._backend("store a follower position"):
            self._call(
                "PUT",
                f"/{self._positions}/_doc/{_id(follower)}",
                document,
                require_alias=self._is_alias or None,
            )


def _bulk_lines(doc: Document) -> bytes:
    action = {"index": {"_id": doc.id, "version": doc.version, "version_type": "external"}}
    source = json.dumps(source_of(doc), ensure_ascii=False)
    return f"{json.dumps(action)}\n{source}\n".encode()


def _chunks(items: list[tuple[str, bytes]], limit: int) -> Iterator[list[tuple[str, bytes]]]:
    """Consecutive runs of items of at most `limit` bytes (an item over it goes alone)."""
    chunk: list[tuple[str, bytes]] = []
    size = 0
    for item in items:
        if chunk and size + len(item[1]) > limit:
            yield chunk
            chunk, size = [], 0
        chunk.append(item)
        size += len(item[1])
    if chunk:
        yield chunk


def _id(doc_id: str) -> str:
    return quote(doc_id, safe="")

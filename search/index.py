"""The SearchIndex interface: documents in, query results out; backends are interchangeable."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any

from search.query import Query, SearchResult


class SearchUnavailableError(Exception):
    """The search backend could not be reached; the indexer retries later."""


class SearchConfigurationError(Exception):
    """The search backend refused its set-up (a template, a mapping, credentials): retrying
    does not help, an operator must act."""


@dataclass(frozen=True)
class Document:
    """One searchable thing (a record or a capture), built from one aggregate version.

    `public` holds what anyone may see; `restricted` what only officers may (owners, ID
    numbers, serials). A backend must never return restricted fields to a public query,
    nor match public queries against them.
    """

    id: str
    version: int
    kind: str  # parcel | site | document | capture
    title: str
    published: bool
    public: dict[str, Any] = field(default_factory=dict)
    restricted: dict[str, Any] = field(default_factory=dict)
    text: str = ""  # searchable body: descriptions, OCR text
    point: tuple[float, float] | None = None  # (lat, lon) WGS 84
    shape: dict[str, Any] | None = None  # GeoJSON geometry in WGS 84


class SearchIndex(ABC):
    @abstractmethod
    def upsert(self, documents: list[Document]) -> int:
        """Store documents; a document older than the stored version is ignored. Returns stored."""

    @abstractmethod
    def delete(self, doc_id: str, version: int | None = None) -> None:
        """Remove a document. With `version` (the aggregate version that removed it), a stored
        newer version is kept, and a late upsert of that version or an older one is refused
        (tantivy: for good; Elasticsearch: for its `index.gc_deletes`, 60 s by default)."""

    @abstractmethod
    def get(self, doc_id: str) -> Document | None: ...

    @abstractmethod
    def search(self, query: Query) -> SearchResult: ...

    @abstractmethod
    def count(self) -> int: ...

    @abstractmethod
    def position(self, follower: str) -> int:
        """The notification id the named follower has indexed up to (stored with the index)."""

    @abstractmethod
    def set_position(self, follower: str, notification_id: int) -> None: ...

    def refresh(self) -> None:  # noqa: B027 - optional hook
        """Make recent writes visible to search (a no-op where writes are visible at once)."""

    def versions(self, doc_ids: list[str]) -> dict[str, int]:
        """The stored version of each of `doc_ids` that is indexed (backends may batch this)."""
        found = {doc_id: self.get(doc_id) for doc_id in doc_ids}
        return {doc_id: doc.version for doc_id, doc in found.items() if doc is not None}

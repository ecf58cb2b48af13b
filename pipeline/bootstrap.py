"""The one wiring point: settings in, collaborators out.

Importing this module costs almost nothing: each collaborator's library (the event store's,
the search engine's, Pillow) loads when `bootstrap` builds it or a property first opens it, so
a command that never searches never loads the search engine (`sohoa status`, `sohoa ingest`).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING

from pipeline.settings import Settings

if TYPE_CHECKING:
    from eventsourcing.persistence import TrackingRecorder

    from models.application import RecordStore
    from models.places.gazetteer import Gazetteer
    from search.index import SearchIndex
    from storage.base import BlobStore


@dataclass
class Services:
    settings: Settings
    store: RecordStore
    blobs: BlobStore
    positions: TrackingRecorder

    @cached_property
    def index(self) -> SearchIndex:
        """The search index, opened on first use (many commands never need it)."""
        from search.factory import search_index_from_url

        return search_index_from_url(self.settings.search_url)

    @cached_property
    def gazetteer(self) -> Gazetteer | None:
        """Administrative units of both eras, when SOHOA_GAZETTEER_DIR names their tables."""
        from models.places.gazetteer import Gazetteer

        folder = self.settings.gazetteer_dir
        return Gazetteer.load(folder) if folder else None

    def close(self) -> None:
        self.store.close()


def bootstrap(settings: Settings) -> Services:
    from pipeline.media.images import configure_pillow
    from storage.factory import blob_store_from_url

    settings.data_dir.mkdir(parents=True, exist_ok=True)
    configure_pillow(settings.limits)
    store = _record_store(settings)
    return Services(
        settings=settings,
        store=store,
        blobs=blob_store_from_url(settings.storage_url, settings.storage_public_url),
        positions=store.factory.tracking_recorder(),
    )


def _record_store(settings: Settings, attempts: int = 5) -> RecordStore:
    """The store; processes starting together on one PostgreSQL schema may race to create its
    tables ("tuple concurrently updated"): the loser tries again."""
    import random
    import time

    from eventsourcing.persistence import PersistenceError

    from models.application import RecordStore

    for attempt in range(1, attempts + 1):
        try:
            return RecordStore(env=settings.eventstore_env())
        except PersistenceError:
            if attempt == attempts:
                raise
            time.sleep(random.uniform(0.1, 0.5) * attempt)
    raise AssertionError("unreachable")

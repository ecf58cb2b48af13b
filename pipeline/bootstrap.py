"""The one wiring point: settings in, collaborators out."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from eventsourcing.persistence import TrackingRecorder

from models.store import RecordStore
from pipeline.gazetteer import Gazetteer
from pipeline.media import configure_pillow
from pipeline.settings import Settings
from search.factory import search_index_from_url
from search.index import SearchIndex
from storage.base import BlobStore
from storage.factory import blob_store_from_url


@dataclass
class Services:
    settings: Settings
    store: RecordStore
    blobs: BlobStore
    positions: TrackingRecorder

    @cached_property
    def index(self) -> SearchIndex:
        """The search index, opened on first use (many commands never need it)."""
        return search_index_from_url(self.settings.search_url)

    @cached_property
    def gazetteer(self) -> Gazetteer | None:
        """Administrative units of both eras, when SOHOA_GAZETTEER_DIR names their tables."""
        folder = self.settings.gazetteer_dir
        return Gazetteer.load(folder) if folder else None

    def close(self) -> None:
        self.store.close()


def bootstrap(settings: Settings) -> Services:
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    configure_pillow(settings.limits)
    store = RecordStore(env=settings.eventstore_env())
    return Services(
        settings=settings,
        store=store,
        blobs=blob_store_from_url(settings.storage_url),
        positions=store.factory.tracking_recorder(),
    )

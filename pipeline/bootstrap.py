"""The one wiring point: settings in, collaborators out."""

from __future__ import annotations

from dataclasses import dataclass

from eventsourcing.persistence import TrackingRecorder

from models.store import RecordStore
from pipeline.media import configure_pillow
from pipeline.settings import Settings
from storage.base import BlobStore
from storage.factory import blob_store_from_url


@dataclass
class Services:
    settings: Settings
    store: RecordStore
    blobs: BlobStore
    positions: TrackingRecorder

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

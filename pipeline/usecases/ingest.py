"""Ingest: store bytes, then append one event. Never talks to the broker.

Each item is checked (name, size, content type, structure) before any byte is
stored; a rejected item costs nothing else and the batch goes on.
"""

from __future__ import annotations

import errno
import json
import logging
import os
import time
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from models.application import Receipt, RecordStore
from pipeline.errors import InputRejectedError
from pipeline.media.bounded import INTERNAL_ERROR, internal_error
from pipeline.media.limits import Limits
from pipeline.media.probe import probe
from pipeline.media.sniff import MODEL_TYPES, PAGE_TYPES, PHOTO_TYPES, sniff_file
from pipeline.observability.metrics import observe_ingest
from pipeline.usecases.inputs import SET_KINDS, Item, Source, materialised, sidecar_meta
from pipeline.usecases.sidecar import CaptureMeta
from storage.base import (
    BlobRef,
    BlobStore,
    StorageAccessDeniedError,
    StorageError,
    StorageUnavailableError,
)

log = logging.getLogger(__name__)

STORAGE_BACKOFF_S = (0.5, 1.0, 2.0)
"""Pauses between attempts to store a file while storage is unavailable."""

DISK_FULL = frozenset({errno.ENOSPC, errno.EDQUOT})
"""A store out of room: the item failed (retry once there is room), it was not bad input."""

SET_MEDIA_TYPES = {
    "photo-set": "application/vnd.sohoa.photo-set+json",
    "scan-set": "application/vnd.sohoa.scan-set+json",
}
MEMBER_TYPES = {"photo-set": PHOTO_TYPES, "scan-set": MODEL_TYPES}


@dataclass(frozen=True)
class IngestResult:
    path: str
    status: str  # ingested | duplicate | rejected (bad input) | failed (storage down, or our bug)
    capture_id: str | None = None
    sha256: str | None = None
    error: str | None = None

    @property
    def retryable(self) -> bool:
        """Failed because storage was down: the same input may go through later."""
        return self.status == "failed" and not (self.error or "").startswith(INTERNAL_ERROR)

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False)


@dataclass
class Ingestor:
    store: RecordStore
    blobs: BlobStore
    limits: Limits
    tmp_dir: Path
    operator: str
    source: str
    adopt: bool = False
    """The files given by path are ours to take (finished uploads): the blob store moves them
    into place (a rename on the same file system) instead of copying them."""

    def ingest(
        self, items: Iterable[Item], meta: CaptureMeta | dict | None = None
    ) -> Iterator[IngestResult]:
        for item in items:
            yield from self.ingest_item(item, meta)

    def ingest_item(self, item: Item, meta: CaptureMeta | dict | None = None) -> list[IngestResult]:
        """The item's verdicts (a set has one per rejected member too); never raises: an
        unexpected error is this item's `failed: internal error <id>`, the batch goes on."""
        if item.error:
            results = [IngestResult(item.display, item.status, error=item.error)]
        else:
            try:
                results = self._ingest_item(item, meta)
            except Exception:
                error = internal_error(log, item.display)
                results = [IngestResult(item.display, "failed", error=error)]
        observe_ingest(results)
        return results

    def _ingest_item(self, item: Item, meta: CaptureMeta | dict | None) -> list[IngestResult]:
        try:
            item.meta = self._meta_for(item, meta)
            if item.is_set:
                return self._ingest_set(item)
            return [self._ingest_file(item)]
        except InputRejectedError as e:
            return [IngestResult(item.display, "rejected", error=str(e))]
        except PermissionError:
            return [
                IngestResult(
                    item.display, "rejected", error="cannot read the file: permission denied"
                )
            ]
        except (StorageUnavailableError, StorageAccessDeniedError) as e:  # not the input's fault
            return [IngestResult(item.display, "failed", error=str(e))]
        except (OSError, StorageError) as e:
            if isinstance(e, OSError) and e.errno in DISK_FULL:  # ours to fix, not the input's
                return [IngestResult(item.display, "failed", error=f"storage is full: {e}")]
            return [IngestResult(item.display, "rejected", error=f"{type(e).__name__}: {e}")]

    def _meta_for(self, item: Item, meta: CaptureMeta | dict | None) -> CaptureMeta:
        own = sidecar_meta(item.source) if item.source is not None else CaptureMeta()
        if isinstance(meta, dict):  # CSV manifest: per-file rows
            key = item.source.resolve() if isinstance(item.source, Path) else None
            row = meta.get(key) if key else None
            if isinstance(row, InputRejectedError):
                raise row
            return (row or CaptureMeta()).merged(own)
        return (meta or CaptureMeta()).merged(own)

    def _ingest_file(self, item: Item) -> IngestResult:
        assert item.source is not None
        with materialised(item.source, self.tmp_dir, self.limits) as path:
            media_type = self._check(path)
            kind = _kind_for(item.kind or item.meta.kind, media_type)
            adopt = self.adopt and isinstance(item.source, Path)
            blob = self._put(path, adopt=adopt, sha256=item.sha256 if adopt else None)
        return self._receive(item, blob, media_type, kind, members=1)

    def _ingest_set(self, item: Item) -> list[IngestResult]:
        assert item.kind in SET_KINDS
        results: list[IngestResult] = []
        members = []
        allowed = MEMBER_TYPES[item.kind]
        for name, source in item.members:
            shown = f"{item.display}/{name}"
            try:
                members.append(self._store_member(name, source, allowed))
            except InputRejectedError as e:
                results.append(IngestResult(shown, "rejected", error=str(e)))
            except (StorageUnavailableError, PermissionError):
                raise  # the whole set waits for storage; a permission error is the set's
            except Exception:
                results.append(IngestResult(shown, "failed", error=internal_error(log, shown)))
        if not members:
            raise InputRejectedError(f"a {item.kind} needs at least one readable member")
        members.sort(key=lambda m: m["name"])  # a folder and a ZIP of the same files are one set
        manifest = json.dumps({"kind": item.kind, "members": members}, sort_keys=True).encode()
        blob = self.blobs.put_bytes(manifest)
        results.insert(
            0, self._receive(item, blob, SET_MEDIA_TYPES[item.kind], item.kind, len(members))
        )
        return results

    def _store_member(self, name: str, source: Source, allowed: frozenset[str]) -> dict[str, Any]:
        with materialised(source, self.tmp_dir, self.limits) as path:
            media_type = self._check(path)
            if media_type not in allowed:
                raise InputRejectedError(f"{media_type} does not belong in this set")
            blob = self._put(path)
        return {
            "name": name,
            "key": blob.key,
            "sha256": blob.sha256,
            "size": blob.size,
            "media_type": media_type,
        }

    def _put(self, path: Path, adopt: bool = False, sha256: str | None = None) -> BlobRef:
        """Store a file, retrying a storage outage with backoff before giving up clearly.
        An adopted file's `sha256`, when known, spares hashing it again.

        A put is atomic (a temporary file renamed into place; on S3 an object that appears
        whole or not at all), so a failed attempt leaves nothing half-written under the
        content address."""
        for attempt, pause in enumerate((*STORAGE_BACKOFF_S, None), start=1):
            try:
                limit = self.limits.max_file_bytes
                if adopt:
                    return self.blobs.adopt(path, max_bytes=limit, sha256=sha256)
                return self.blobs.put_file(path, max_bytes=limit)
            except StorageUnavailableError as e:
                if pause is None:
                    raise StorageUnavailableError(
                        f"storage unavailable after {attempt} attempts: {e}"
                    ) from e
                log.warning("storage unavailable (attempt %d): %s; retrying", attempt, e)
                time.sleep(pause)
        raise AssertionError("unreachable")

    def _check(self, path: Path) -> str:
        size = os.stat(path).st_size
        if size == 0:
            raise InputRejectedError("empty file")
        media_type = sniff_file(path)
        if media_type is None:
            raise InputRejectedError(
                f"unsupported content: not an accepted image, PDF or 3D format "
                f"(the name ends in {path.suffix or 'nothing'}, but the bytes say otherwise)"
            )
        probe(path, media_type, self.limits)  # also the size limit
        return media_type

    def _receive(
        self, item: Item, blob: BlobRef, media_type: str, kind: str, members: int
    ) -> IngestResult:
        receipt = Receipt(
            sha256=blob.sha256,
            blob_key=blob.key,
            size=blob.size,
            media_type=media_type,
            kind=kind,
            original_name=item.display,
            source=item.meta.values.get("station", self.source),
            operator=item.meta.values.get("operator", self.operator),
            meta=item.meta.stored(),
            member_count=members,
        )
        capture_id, new = self.store.receive(receipt, item.meta.records())
        return IngestResult(
            item.display, "ingested" if new else "duplicate", str(capture_id), blob.sha256
        )


def _kind_for(kind: str | None, media_type: str) -> str:
    if media_type in PAGE_TYPES:
        if kind in (None, "document", "land-certificate"):
            return kind or "document"
    elif media_type in MODEL_TYPES and kind in (None, "model"):
        return "model"
    if kind in SET_KINDS:
        raise InputRejectedError(
            f"a {kind} is a folder or ZIP of files, not a single {media_type} file"
        )
    raise InputRejectedError(f"a {media_type} file cannot be a {kind or 'capture'}")

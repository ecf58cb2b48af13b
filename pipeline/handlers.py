"""Use-case handlers the workers call: run a stage for a capture and record its outcome."""

from __future__ import annotations

import json
import logging
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from uuid import UUID

from models.capture import Capture
from pipeline.bootstrap import Services
from pipeline.errors import InputRejectedError
from pipeline.jobs import INSPECT, job_key
from pipeline.stages.inspect import inspect, inspect_set
from storage import StorageUnavailableError

log = logging.getLogger(__name__)

SET_TYPES = ("application/vnd.sohoa.photo-set+json", "application/vnd.sohoa.scan-set+json")


@dataclass(frozen=True)
class Attempt:
    number: int
    final: bool


def run_inspect(services: Services, capture_id: UUID, attempt: Attempt) -> str:
    """Page count, image metadata and a thumbnail; returns "done", "skipped" or "failed"."""
    store = services.store
    capture = store.capture(capture_id)
    key = job_key(capture, INSPECT.name, {})
    if capture.has_outcome(key):
        return "skipped"  # a message delivered twice has no second effect
    try:
        result = _inspect_blob(services, capture)
    except InputRejectedError as e:
        _record_failure(services, capture_id, key, e, attempt, permanent=True)
        return "failed"
    except Exception as e:
        if not attempt.final:
            raise  # transient: Dramatiq retries with backoff
        _record_failure(services, capture_id, key, e, attempt, permanent=False)
        return "failed"
    thumb = services.blobs.put_bytes(result.thumbnail) if result.thumbnail else None

    def change(c: Capture) -> None:
        if c.has_outcome(key):
            return
        c.record_inspection(job_key=key, stage=INSPECT.name, facts=result.facts)
        if thumb:
            width, height = _image_size(result.thumbnail)
            c.record_thumbnail(blob_key=thumb.key, width=width, height=height)

    store.update(capture_id, change)
    return "done"


def _inspect_blob(services: Services, capture: Capture):
    px = services.settings.thumbnail_px
    limits = services.settings.limits
    try:
        if capture.media_type in SET_TYPES:
            manifest = json.loads(services.blobs.read_bytes(capture.blob_key))
            with ExitStack() as stack:
                members: list[tuple[str, Path, str]] = [
                    (
                        m["name"],
                        stack.enter_context(services.blobs.local_path(m["key"])),
                        m["media_type"],
                    )
                    for m in manifest["members"]
                ]
                return inspect_set(members, thumbnail_px=px, limits=limits)
        with services.blobs.local_path(capture.blob_key) as path:
            return inspect(path, capture.media_type, thumbnail_px=px, limits=limits)
    except StorageUnavailableError:
        raise
    except (InputRejectedError, MemoryError):
        raise
    except (OSError, ValueError, SyntaxError) as e:  # decoders report corrupt data like this
        raise InputRejectedError(f"cannot read {capture.media_type}: {e}") from e


def _record_failure(
    services: Services,
    capture_id: UUID,
    key: str,
    error: Exception,
    attempt: Attempt,
    permanent: bool,
) -> None:
    log.warning(
        "capture %s: %s failed (%s): %s", capture_id, INSPECT.name, type(error).__name__, error
    )

    def change(c: Capture) -> None:
        if not c.has_outcome(key):
            c.record_failure(
                job_key=key,
                stage=INSPECT.name,
                error_class=type(error).__name__,
                message=str(error)[:2000],
                attempt=attempt.number,
                permanent=permanent,
            )

    services.store.update(capture_id, change)


def _image_size(data: bytes) -> tuple[int, int]:
    import io

    from PIL import Image

    with Image.open(io.BytesIO(data)) as im:
        return im.size

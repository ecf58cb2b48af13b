"""The inspect job: facts and a thumbnail of a capture."""

from __future__ import annotations

import json
from contextlib import ExitStack
from pathlib import Path
from typing import TYPE_CHECKING
from uuid import UUID

from models.application import RecordStore
from models.capture import Capture
from models.commands import Thumbnail
from models.plan import INSPECT, MODEL_KINDS, TEXT_KINDS
from pipeline.bootstrap import Services
from pipeline.errors import InputRejectedError
from pipeline.jobs.execute import execute
from pipeline.media.sniff import PAGE_TYPES
from pipeline.stages.inspection import inspect, inspect_set
from storage import StorageUnavailableError

if TYPE_CHECKING:
    from pipeline.jobs.execute import Apply, Attempt

SET_TYPES = ("application/vnd.sohoa.photo-set+json", "application/vnd.sohoa.scan-set+json")


def run_inspect(services: Services, capture_id: UUID, attempt: Attempt) -> str:
    """Page count, image metadata and a thumbnail; then ask for the capture's text or model."""
    settings = services.settings
    auto = {r.strip() for r in settings.auto_runs.split(",")}

    def work(capture: Capture) -> Apply:
        result = _inspect_blob(services, capture)
        thumb = services.blobs.put_bytes(result.thumbnail) if result.thumbnail else None

        thumbnail = Thumbnail(thumb.key, *_image_size(result.thumbnail)) if thumb else None
        wants_text = (
            "text" in auto and capture.kind in TEXT_KINDS and capture.media_type in PAGE_TYPES
        )

        def apply(store: RecordStore, key: str) -> None:
            store.record_inspection(
                capture_id,
                job_key=key,
                stage=INSPECT.name,
                facts=result.facts,
                thumbnail=thumbnail,
                first_text_run=settings.text_params(capture.meta) if wants_text else None,
                first_model_run="model" in auto and capture.kind in MODEL_KINDS,
            )

        return apply

    return execute(services, capture_id, INSPECT, INSPECT.name, {}, attempt, work)


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
    except (OSError, ValueError, SyntaxError, *_decoder_errors()) as e:  # corrupt data
        raise InputRejectedError(f"cannot read {capture.media_type}: {e}") from e


def _decoder_errors() -> tuple[type[Exception], ...]:
    """How PDFium and the LAZ decoder report a corrupt file (not a transient failure)."""
    import lazrs
    import pypdfium2

    return (pypdfium2.PdfiumError, lazrs.LazrsError)


def _image_size(data: bytes) -> tuple[int, int]:
    import io

    from PIL import Image

    with Image.open(io.BytesIO(data)) as im:
        return im.size

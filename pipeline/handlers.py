"""Use-case handlers the workers call: run a stage for a capture and record its outcome.

Every handler has the same shape (`execute`): find the job key, skip if it has an outcome
(a message delivered twice has no second effect), do the work outside any transaction, then
record the result — or the failure: bad input is permanent at once, anything else is retried
by the broker and recorded as a non-permanent failure on the last attempt.
"""

from __future__ import annotations

import json
import logging
import struct
import zlib
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from uuid import UUID

from models.capture import Capture
from models.errors import SohoaError
from pipeline.bootstrap import Services
from pipeline.bounded import internal_error
from pipeline.errors import InputRejectedError
from pipeline.jobs import INSPECT, MODEL_KINDS, TEXT_KINDS, Stage, job_key
from pipeline.media import PAGE_TYPES
from pipeline.stages.inspect import inspect, inspect_set
from storage import StorageUnavailableError
from storage.base import StorageError

log = logging.getLogger(__name__)

SET_TYPES = ("application/vnd.sohoa.photo-set+json", "application/vnd.sohoa.scan-set+json")

Apply = Callable[[Capture, str], None]
"""Records a stage's result on the capture, given the job key (runs inside `store.update`)."""


BUG_ERRORS: tuple[type[Exception], ...] = (
    ArithmeticError,
    AssertionError,
    AttributeError,
    LookupError,
    NameError,
    RecursionError,
    TypeError,
    ValueError,
    struct.error,
    zlib.error,
)
"""Errors that say the same input will fail the same way again: a bug of ours (or of a decoder
we call) on this capture, not an outage. Recorded as a permanent failure with an `internal error
<id>` at once instead of being retried; `sohoa retry` runs the stage again after a fix."""


class InternalError(SohoaError):
    """A stage broke on a capture in a way nobody foresaw; the message carries the log's id."""


def _is_bug(e: Exception) -> bool:
    return isinstance(e, BUG_ERRORS) and not isinstance(e, StorageError | SohoaError)


@dataclass(frozen=True)
class Attempt:
    number: int
    final: bool


def execute(
    services: Services,
    capture_id: UUID,
    stage: Stage,
    outcome: str,
    params: dict[str, Any],
    attempt: Attempt,
    work: Callable[[Capture], Apply],
) -> str:
    """Run `work` for a capture once per job key; returns "done", "skipped" or "failed"."""
    store = services.store
    capture = store.capture(capture_id)
    key = job_key(capture, stage.name, params)
    if capture.has_outcome(key):
        return "skipped"
    try:
        apply = work(capture)
    except InputRejectedError as e:
        record_failure(services, capture_id, outcome, key, e, attempt, permanent=True)
        return "failed"
    except Exception as e:
        if _is_bug(e):
            reason = f"{internal_error(log, f'{outcome} of capture {capture_id}')}"
            bug = InternalError(f"{reason}: {type(e).__name__}")
            record_failure(services, capture_id, outcome, key, bug, attempt, permanent=True)
            return "failed"
        if not attempt.final:
            raise  # transient: Dramatiq retries with backoff
        record_failure(services, capture_id, outcome, key, e, attempt, permanent=False)
        return "failed"

    def change(c: Capture) -> None:
        if not c.has_outcome(key):
            apply(c, key)

    store.update(capture_id, change)
    return "done"


def run_inspect(services: Services, capture_id: UUID, attempt: Attempt) -> str:
    """Page count, image metadata and a thumbnail; then ask for the capture's text or model."""
    settings = services.settings
    auto = {r.strip() for r in settings.auto_runs.split(",")}

    def work(capture: Capture) -> Apply:
        result = _inspect_blob(services, capture)
        thumb = services.blobs.put_bytes(result.thumbnail) if result.thumbnail else None

        def apply(c: Capture, key: str) -> None:
            c.record_inspection(job_key=key, stage=INSPECT.name, facts=result.facts)
            if thumb:
                width, height = _image_size(result.thumbnail)
                c.record_thumbnail(blob_key=thumb.key, width=width, height=height)
            if (
                "text" in auto
                and c.kind in TEXT_KINDS
                and c.media_type in PAGE_TYPES
                and not c.text_runs
            ):
                c.request_text(run=1, params=settings.text_params(c.meta), requested_by="pipeline")
            if "model" in auto and c.kind in MODEL_KINDS and not c.model_runs:
                c.request_reconstruction(run=1, params={}, requested_by="pipeline")

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


def record_failure(
    services: Services,
    capture_id: UUID,
    outcome: str,
    key: str,
    error: Exception,
    attempt: Attempt,
    permanent: bool,
) -> None:
    log.warning("capture %s: %s failed (%s): %s", capture_id, outcome, type(error).__name__, error)

    def change(c: Capture) -> None:
        if not c.has_outcome(key):
            c.record_failure(
                job_key=key,
                stage=outcome,
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


def retry_failed(services: Services, capture_id: UUID, requested_by: str) -> list[str]:
    """Ask for a capture's failed stages to run again; returns their names (none: no-op)."""
    retried: list[str] = []

    def change(c: Capture) -> None:
        failed = c.failed_stages()
        runs = {s.split("/")[1] for s in failed if s.startswith("ocr/")}
        later = [
            f"{stage}/{run}"
            for run in sorted(runs)
            for stage in ("text", "fields")
            if f"{stage}/{run}" in c.outcomes and f"{stage}/{run}" not in failed
        ]
        retried[:] = failed + later  # pages read again mean their text is assembled again
        if retried:
            c.request_retry(stages=list(retried), requested_by=requested_by)

    services.store.update(capture_id, change)
    return retried

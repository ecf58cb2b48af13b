"""Use-case handlers the workers call: run a stage for a capture and record its outcome.

Every handler has the same shape (`execute`): find the job key, skip if it has an outcome
(a message delivered twice has no second effect), do the work outside any transaction, then
record the result — or the failure: bad input is permanent at once, anything else is retried
by the broker and recorded as a non-permanent failure on the last attempt.
"""

from __future__ import annotations

import logging
import struct
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from models.application import RecordStore
from models.capture import Capture
from models.errors import SohoaError
from models.plan import Stage, job_key
from pipeline.bootstrap import Services
from pipeline.errors import InputRejectedError
from pipeline.media.bounded import internal_error
from storage.base import StorageError

log = logging.getLogger(__name__)

Apply = Callable[[RecordStore, str], None]
"""Records a stage's result through one named `RecordStore` command, given the job key (the
command skips a job key that has an outcome already)."""


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

    apply(store, key)
    return "done"


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

    services.store.record_failure(
        capture_id,
        job_key=key,
        stage=outcome,
        error_class=type(error).__name__,
        message=str(error)[:2000],
        attempt=attempt.number,
        permanent=permanent,
    )

"""Retry a capture's failed stages."""

from __future__ import annotations

from uuid import UUID

from models.capture import Capture
from pipeline.bootstrap import Services


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

"""The Capture aggregate: one acquisition as received (a scan, a PDF, a photo set, a 3D scan)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from models.ids import capture_id

KINDS = ("document", "land-certificate", "photo-set", "scan-set", "model")


class Capture(Aggregate):
    """Bytes that arrived, and everything the pipeline learnt from them.

    Every fact is an event; stage results are keyed by a job key (capture,
    stage, input sha256, engine version, parameters hash) so a repeated message
    finds its result recorded and does nothing.
    """

    @staticmethod
    def create_id(sha256: str) -> UUID:
        return capture_id(sha256)

    @event("Received")
    def __init__(
        self,
        *,
        sha256: str,
        blob_key: str,
        size: int,
        media_type: str,
        kind: str,
        original_name: str,
        source: str,
        operator: str,
        meta: dict[str, Any],
        member_count: int,
        links: list[UUID],
    ) -> None:
        self.sha256 = sha256
        self.blob_key = blob_key
        self.size = size
        self.media_type = media_type
        self.kind = kind
        self.original_names = [original_name]
        self.source = source
        self.operator = operator
        self.meta = meta
        self.member_count = member_count
        self.links = list(links)
        self.outcomes: dict[str, dict[str, Any]] = {}
        self.inspection: dict[str, Any] = {}
        self.thumbnail_key: str | None = None
        self.failures: list[dict[str, Any]] = []

    @event("ReceivedAgain")
    def receive_again(self, *, original_name: str, source: str, operator: str) -> None:
        """The same bytes arrived under another name: linked, never stored twice."""
        self.original_names.append(original_name)

    @event("RecordLinked")
    def link_record(self, *, record_id: UUID) -> None:
        self.links.append(record_id)

    @event("Inspected")
    def record_inspection(self, *, job_key: str, stage: str, facts: dict[str, Any]) -> None:
        """Page count and image metadata (dimensions, dpi, colour mode, tags)."""
        self.inspection = facts
        self.outcomes[stage] = {"status": "done", "job_key": job_key}

    @event("ThumbnailRendered")
    def record_thumbnail(self, *, blob_key: str, width: int, height: int) -> None:
        self.thumbnail_key = blob_key

    @event("ProcessingFailed")
    def record_failure(
        self,
        *,
        job_key: str,
        stage: str,
        error_class: str,
        message: str,
        attempt: int,
        permanent: bool,
    ) -> None:
        failure = {
            "job_key": job_key,
            "stage": stage,
            "error_class": error_class,
            "message": message,
            "attempt": attempt,
            "permanent": permanent,
        }
        self.failures.append(failure)
        self.outcomes[stage] = {"status": "failed", **failure}

    def has_outcome(self, job_key: str) -> bool:
        return any(o.get("job_key") == job_key for o in self.outcomes.values())

    def state(self, planned_stages: list[str]) -> str:
        """`failed` if any planned stage failed, `done` if all succeeded, else `pending`."""
        statuses = [self.outcomes.get(s, {}).get("status") for s in planned_stages]
        if "failed" in statuses:
            return "failed"
        if all(s == "done" for s in statuses):
            return "done"
        return "pending"

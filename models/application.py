"""The RecordStore application: the one event-sourced store of captures and records."""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import IntegrityError, Notification, Tracking
from eventsourcing.utils import Environment, get_topic

from models.capture import Capture
from models.errors import NotFoundError, NotYetRecordedError
from models.ids import capture_id
from models.record import Record, record_id

A = TypeVar("A", bound=Aggregate)
CONFLICT_RETRIES = 50


@dataclass(frozen=True)
class Receipt:
    """What ingest knows of some bytes it has just stored."""

    sha256: str
    blob_key: str
    size: int
    media_type: str
    kind: str
    original_name: str
    source: str
    operator: str
    meta: Mapping[str, Any]
    member_count: int = 1


@dataclass(frozen=True)
class Thumbnail:
    blob_key: str
    width: int
    height: int


@dataclass(frozen=True)
class RecordRef:
    """A record named by its kind and natural key (which give its deterministic id)."""

    kind: str
    key: Mapping[str, str]

    @property
    def id(self) -> UUID:
        return record_id(self.kind, dict(self.key))


@dataclass(frozen=True)
class HistoryEntry:
    version: int
    timestamp: datetime
    event: str
    data: dict[str, Any]


class RecordStore(Application[UUID]):
    """Captures and records, their history, and their state as of any time.

    Configuration comes only from the `env` given (never `os.environ`): the
    entrypoint maps `SOHOA_EVENTSTORE_URL` to the persistence settings.
    """

    name = "RecordStore"
    is_snapshotting_enabled = False

    def construct_env(self, name: str, env: Mapping[str, str] | None = None) -> Environment:
        return Environment(name, dict(env or {}))

    # -- captures ---------------------------------------------------------

    def receive(self, receipt: Receipt, records: list[RecordRef] = ()) -> tuple[UUID, bool]:
        """Record bytes as a capture; returns (capture id, whether it is new).

        Identical bytes map to one capture id, so a second arrival (or a rerun
        after a crash) is recorded as `ReceivedAgain` at most once per name.
        """
        cid = capture_id(receipt.sha256)
        for _ in range(CONFLICT_RETRIES):
            # Optimistic: most arrivals are new, so try to create first and let the event
            # store's unique (id, version) say whether the bytes were here already.
            capture = Capture(
                sha256=receipt.sha256,
                blob_key=receipt.blob_key,
                size=receipt.size,
                media_type=receipt.media_type,
                kind=receipt.kind,
                original_name=receipt.original_name,
                source=receipt.source,
                operator=receipt.operator,
                meta=dict(receipt.meta),
                member_count=receipt.member_count,
                links=[r.id for r in records],
            )
            try:
                self.save(capture, *[self._linked_record(r, cid) for r in records])
                return cid, True
            except IntegrityError:
                try:
                    existing = self.capture(cid)
                except NotFoundError:
                    continue  # a linked record changed under us: try again
                self._receive_again(existing, receipt, records)
                return cid, False
        raise RuntimeError(f"could not record capture {cid} after {CONFLICT_RETRIES} conflicts")

    def _receive_again(self, capture: Capture, receipt: Receipt, records: list[RecordRef]) -> None:
        def change(c: Capture) -> list[Aggregate]:
            if receipt.original_name not in c.original_names:
                c.receive_again(
                    original_name=receipt.original_name,
                    source=receipt.source,
                    operator=receipt.operator,
                )
            new = [r for r in records if r.id not in c.links]
            for ref in new:
                c.link_record(record_id=ref.id)
            return [self._linked_record(r, c.id) for r in new]

        self._change(capture.id, change)

    def _linked_record(self, ref: RecordRef, capture_id: UUID) -> Record:
        record = self.record_or_new(ref, source=f"capture:{capture_id}")
        if capture_id not in record.captures:
            record.link_capture(capture_id=capture_id)
        return record

    def capture(self, capture_id: UUID) -> Capture:
        return self._get(capture_id, Capture)

    def update(self, aggregate_id: UUID, change: Callable[[Any], list[Aggregate] | None]) -> None:
        """Load, change, save; on a concurrent write reload and try again.

        Kept for the accounts, sessions and audit trail (`pipeline/usecases/accounts.py`) and
        the parcel a certificate names (`pipeline/usecases/certificates.py`), which have no
        named command yet; captures and records use the commands above."""
        self._change(aggregate_id, change)

    def _change(self, aggregate_id: UUID, change: Callable[[Any], list[Aggregate] | None]) -> None:
        for attempt in range(CONFLICT_RETRIES):
            aggregate = self._get(aggregate_id, Aggregate)
            others = change(aggregate) or []
            try:
                self.save(aggregate, *others)
                return
            except IntegrityError:
                time.sleep(random.uniform(0, 0.002 * attempt))  # let the other writer finish
                continue
        raise RuntimeError(f"{aggregate_id}: too many concurrent writers")

    # -- capture commands: one per thing a user or a stage does -------------
    # Each loads the capture, checks whether its effect is already recorded (a message
    # delivered twice, a form sent twice), calls one aggregate method and saves; a
    # concurrent writer means reload and try again (`_change`).

    def request_text_run(self, capture_id: UUID, params: dict[str, Any], requested_by: str) -> int:
        """A new text run with these parameters (runs never overwrite); returns its number."""
        runs: list[int] = []

        def change(c: Capture) -> None:
            runs[:] = [len(c.text_runs) + 1]
            c.request_text(run=runs[0], params=params, requested_by=requested_by)

        self._change(capture_id, change)
        return runs[0]

    def request_reconstruction(
        self, capture_id: UUID, params: dict[str, Any], requested_by: str
    ) -> int:
        """A new reconstruction run with these parameters; returns its number."""
        runs: list[int] = []

        def change(c: Capture) -> None:
            runs[:] = [len(c.model_runs) + 1]
            c.request_reconstruction(run=runs[0], params=params, requested_by=requested_by)

        self._change(capture_id, change)
        return runs[0]

    def record_inspection(
        self,
        capture_id: UUID,
        *,
        job_key: str,
        stage: str,
        facts: dict[str, Any],
        thumbnail: Thumbnail | None = None,
        first_text_run: dict[str, Any] | None = None,
        first_model_run: bool = False,
    ) -> None:
        """The inspection's facts and thumbnail, and the capture's first run asked for in the
        same save (`first_text_run`: its parameters) unless it has one already."""

        def change(c: Capture) -> None:
            if c.has_outcome(job_key):
                return
            c.record_inspection(job_key=job_key, stage=stage, facts=facts)
            if thumbnail:
                c.record_thumbnail(
                    blob_key=thumbnail.blob_key, width=thumbnail.width, height=thumbnail.height
                )
            if first_text_run is not None and not c.text_runs:
                c.request_text(run=1, params=first_text_run, requested_by="pipeline")
            if first_model_run and not c.model_runs:
                c.request_reconstruction(run=1, params={}, requested_by="pipeline")

        self._change(capture_id, change)

    def record_page(self, capture_id: UUID, *, job_key: str, **page: Any) -> None:
        """One page's text (`Capture.record_page`), once per job key."""
        self._record_outcome(capture_id, job_key, lambda c: c.record_page(job_key=job_key, **page))

    def assemble_text(self, capture_id: UUID, *, job_key: str, **text: Any) -> None:
        """A run's full text and searchable PDF (`Capture.record_text`), once per job key."""
        self._record_outcome(capture_id, job_key, lambda c: c.record_text(job_key=job_key, **text))

    def record_fields(
        self,
        capture_id: UUID,
        *,
        job_key: str,
        run: int,
        kind: str,
        result: dict[str, Any],
        record_id: UUID | None,
    ) -> None:
        """A certificate's fields, and the link to the parcel they name."""

        def change(c: Capture) -> None:
            c.record_fields(job_key=job_key, run=run, kind=kind, result=result, record_id=record_id)
            if record_id is not None and record_id not in c.links:
                c.link_record(record_id=record_id)

        self._record_outcome(capture_id, job_key, change)

    def record_model(self, capture_id: UUID, *, job_key: str, **model: Any) -> None:
        """A reconstruction run's model (`Capture.record_model`), once per job key."""
        self._record_outcome(
            capture_id, job_key, lambda c: c.record_model(job_key=job_key, **model)
        )

    def record_failure(self, capture_id: UUID, *, job_key: str, **failure: Any) -> None:
        """A stage's failure (`Capture.record_failure`), unless the job has an outcome."""
        self._record_outcome(
            capture_id, job_key, lambda c: c.record_failure(job_key=job_key, **failure)
        )

    def correct_fields(
        self, capture_id: UUID, values: Mapping[str, Any], by: str, reason: str
    ) -> None:
        """People's values for certificate fields; a value already recorded adds nothing."""

        def change(c: Capture) -> None:
            for name, value in values.items():
                if c.corrections.get(name, {}).get("value") != value:
                    c.correct_field(field=name, value=value, by=by, reason=reason)

        self._change(capture_id, change)

    def retry(self, capture_id: UUID, requested_by: str) -> list[str]:
        """Ask for a capture's failed stages to run again; returns their names (none: no-op)."""
        retried: list[str] = []

        def change(c: Capture) -> None:
            retried[:] = c.stages_to_retry()
            if retried:
                c.request_retry(stages=list(retried), requested_by=requested_by)

        self._change(capture_id, change)
        return retried

    def _record_outcome(
        self, capture_id: UUID, job_key: str, record: Callable[[Capture], None]
    ) -> None:
        def change(c: Capture) -> None:
            if not c.has_outcome(job_key):
                record(c)

        self._change(capture_id, change)

    def capture_ids(self) -> Iterator[UUID]:
        """Every capture, in the order they were received."""
        topic = get_topic(Capture.Received)
        for n in self.notifications(topics=[topic]):
            yield n.originator_id  # type: ignore[misc]

    # -- records ----------------------------------------------------------

    def record(self, record_id: UUID) -> Record:
        return self._get(record_id, Record)

    def record_or_new(self, ref: RecordRef, source: str) -> Record:
        try:
            return self.record(ref.id)
        except NotFoundError:
            return Record(kind=ref.kind, key=dict(ref.key), source=source)

    def correct_attributes(self, record_id: UUID, attributes: dict[str, Any], by: str) -> None:
        """A person's values for a record's attributes (source "person:<login>")."""

        def change(record: Record) -> None:
            if not isinstance(record, Record):
                raise TypeError("not a record")
            changed = record.changed_attributes(attributes)
            if changed:
                record.record_attributes(attributes=changed, source=f"person:{by}")

        self._change(record_id, change)

    def publish(self, record_id: UUID) -> None:
        def change(record: Record) -> None:
            if not record.published:
                record.publish()

        self._change(record_id, change)

    def withdraw(self, record_id: UUID, reason: str) -> None:
        def change(record: Record) -> None:
            if record.published:
                record.withdraw(reason=reason)

        self._change(record_id, change)

    def record_certificate(
        self,
        ref: RecordRef,
        *,
        capture_id: UUID,
        attributes: dict[str, Any],
        corrected_by: Mapping[str, str],
        geometry: dict[str, Any] | None,
        crs: str,
        source: str,
    ) -> None:
        """A certificate's values on its parcel (made if new), linked to the capture; only what
        differs is recorded, and a person's value (`corrected_by`: field → person) carries that
        person as its source."""

        def change(record: Record) -> None:
            new = record.changed_attributes(attributes)
            machine = {k: v for k, v in new.items() if k not in corrected_by}
            if machine:
                record.record_attributes(attributes=machine, source=source)
            for name, value in new.items():
                if name in corrected_by:
                    by = f"{corrected_by[name]} via {source}"
                    record.record_attributes(attributes={name: value}, source=by)
            if geometry is not None and (record.geometry or {}).get("geometry") != geometry:
                record.set_geometry(geometry=geometry, crs=crs, source=source)
            if capture_id not in record.captures:
                record.link_capture(capture_id=capture_id)

        try:
            self._change(ref.id, change)
        except NotFoundError:
            record = self.record_or_new(ref, source=source)
            change(record)
            self.save(record)

    # -- reading ----------------------------------------------------------

    def history(self, aggregate_id: UUID) -> list[HistoryEntry]:
        entries = []
        for e in self.events.get(aggregate_id):
            data = {
                k: v
                for k, v in e.__dict__.items()
                if k not in ("originator_id", "originator_version", "timestamp", "originator_topic")
            }
            entries.append(
                HistoryEntry(e.originator_version, e.timestamp, type(e).__qualname__, data)
            )
        if not entries:
            raise NotFoundError(f"no capture or record with id {aggregate_id}")
        return entries

    def as_of(self, aggregate_id: UUID, when: datetime) -> Aggregate:
        """The aggregate as it stood at `when` (recorded time)."""
        versions = [
            e.originator_version for e in self.events.get(aggregate_id) if e.timestamp <= when
        ]
        if not versions:
            self._get(aggregate_id, Aggregate)  # NotFoundError if it never existed
            raise NotYetRecordedError(f"{aggregate_id} had not been recorded by {when.isoformat()}")
        return self.repository.get(aggregate_id, version=max(versions))

    def get_any(self, aggregate_id: UUID) -> Aggregate:
        return self._get(aggregate_id, Aggregate)

    def notifications(
        self, start: int = 1, batch: int = 1000, topics: list[str] = ()
    ) -> Iterator[Notification]:
        while True:
            page = self.recorder.select_notifications(start, batch, topics=topics)
            yield from page
            if len(page) < batch:
                return
            start = page[-1].id + 1

    def max_notification_id(self) -> int:
        return self.recorder.max_notification_id() or 0

    def _get(self, aggregate_id: UUID, cls: type[A]) -> A:
        try:
            aggregate = self.repository.get(aggregate_id)
        except AggregateNotFoundError:
            raise NotFoundError(f"no capture or record with id {aggregate_id}") from None
        if not isinstance(aggregate, cls):
            raise NotFoundError(
                f"{aggregate_id} is a {type(aggregate).__name__}, not a {cls.__name__}"
            )
        return aggregate


def tracking(follower: str, notification_id: int) -> Tracking:
    return Tracking(application_name=f"RecordStore/{follower}", notification_id=notification_id)

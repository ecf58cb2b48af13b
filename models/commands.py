"""The RecordStore's commands: one method per thing a user or a stage does.

Each loads its aggregate, checks whether its effect is already recorded (a message delivered
twice, a form sent twice), calls one aggregate method and saves; a concurrent writer means
reload and try again (`RecordStore._change`). Jobs and edges call these, never a closure of
their own.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any
from uuid import UUID

from eventsourcing.domain import Aggregate
from eventsourcing.persistence import IntegrityError

from models.audit import AuditTrail, audit_trail_id
from models.capture import Capture
from models.errors import NotFoundError
from models.ids import Outcome
from models.places.lineage import (
    LineageChange,
    apply_change,
    existing_parcel,
    inherit,
    parcel_or_new,
)
from models.record import Record

if TYPE_CHECKING:
    from models.application import RecordRef


@dataclass(frozen=True)
class Thumbnail:
    blob_key: str
    width: int
    height: int


class _Commands:
    """What the commands need of `RecordStore`."""

    def _change(self, aggregate_id: UUID, change: Callable[[Any], list[Aggregate] | None]) -> None:
        raise NotImplementedError  # RecordStore's: load, change, save, retry on conflict

    if TYPE_CHECKING:

        def record_or_new(self, ref: RecordRef, source: str) -> Record: ...

        def record(self, record_id: UUID) -> Record: ...

        def save(self, *aggregates: Aggregate) -> Any: ...


class CaptureCommands(_Commands):
    """What users and stages do to a capture (mixed into `RecordStore`)."""

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

    def record_model_progress(self, capture_id: UUID, *, run: int, **progress: Any) -> None:
        """A reconstruction run's progress, unless the run has its outcome already (a late
        report from a run that has ended adds nothing)."""

        def change(c: Capture) -> None:
            if str(Outcome("reconstruct", run)) not in c.outcomes:
                c.record_model_progress(run=run, **progress)

        self._change(capture_id, change)

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

    def accept_fields(self, capture_id: UUID, values: Mapping[str, Any], by: str) -> None:
        """A person confirmed the machine's values of these fields (the value they saw, so a
        later run that reads another value needs review again); a repeat adds nothing."""

        def change(c: Capture) -> None:
            for name, value in values.items():
                if c.acceptances.get(name, {}).get("value") != value:
                    c.accept_field(field=name, value=value, by=by)

        self._change(capture_id, change)

    def leave_blank(self, capture_id: UUID, names: list[str], by: str, reason: str) -> None:
        """A person said these fields are not on the capture's pages; those already left blank
        add nothing."""

        def change(c: Capture) -> None:
            new = [n for n in names if n not in c.blanks]
            if new:
                c.leave_blank(names=new, by=by, reason=reason)

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


class LineageCommands(_Commands):
    """Splits, merges, renumberings and dated changes of parcels (mixed into `RecordStore`
    through `RecordCommands`)."""

    def record_parcel_change(
        self, change: LineageChange, *, today: date, tolerance: float
    ) -> str | None:
        """Retire the parents and derive the children (new ones are registered) in one save;
        returns the area warning, if any. Raises `LineageError` (the rule broken, naming the
        parcels) or `NotFoundError` (a parent that does not exist)."""
        for _ in range(50):
            parents = [existing_parcel(self.record, k) for k in change.parents]
            children = [parcel_or_new(self.record, k, change) for k in change.children]
            if change.kind == "renumber":  # the same land under a new number
                inherit(parents[0], children[0], change.source)
            warning = apply_change(change, parents, children, today, tolerance)
            try:
                self.save(*parents, *children)
                return warning
            except IntegrityError:
                continue  # a concurrent writer: reload and check again
        raise RuntimeError(f"change {change.id}: too many concurrent writers")

    def record_dated_changes(self, record_id: UUID, changes: list[dict[str, Any]]) -> int:
        """Dated changes (each with an `id`) on a parcel's timeline; those already there add
        nothing. Returns how many were new."""
        added: list[dict[str, Any]] = []

        def change(record: Record) -> None:
            known = {c["id"] for c in record.changes}
            added[:] = [c for c in changes if c["id"] not in known]
            for c in added:
                record.record_change(change=c)

        self._change(record_id, change)
        return len(added)


class RecordCommands(LineageCommands):
    """What users and stages do to a record (mixed into `RecordStore`)."""

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

    def withdraw_capture_values(
        self, record_id: UUID, capture_id: UUID, *, names: list[str] | None, by: str, reason: str
    ) -> list[str]:
        """Take back from a record the values that came only from a capture (`names` of them;
        None: all of them, and the capture leaves the record's documents). Returns the names
        withdrawn; nothing left to withdraw adds nothing."""
        withdrawn: list[str] = []

        def change(record: Record) -> None:
            mine = record.capture_values(capture_id)
            withdrawn[:] = [n for n in mine if names is None or n in names]
            unlink = names is None and capture_id in record.captures
            if withdrawn or unlink:
                record.withdraw_capture_values(
                    capture_id=capture_id, names=withdrawn, unlinked=unlink, by=by, reason=reason
                )

        self._change(record_id, change)
        return withdrawn


class AccountCommands(_Commands):
    """What people do to accounts, sessions and the audit trail (mixed into `RecordStore`)."""

    def issue_token(
        self, account_id: UUID, *, token_id: str, token_hash: str, label: str, expires_at: str
    ) -> None:
        self._change(
            account_id,
            lambda a: a.issue_token(
                token_id=token_id, token_hash=token_hash, label=label, expires_at=expires_at
            ),
        )

    def revoke_token(self, account_id: UUID, token_id: str) -> None:
        self._change(account_id, lambda a: a.revoke_token(token_id=token_id))

    def change_password(
        self, account_id: UUID, *, password_hash: str, sessions_valid_from: str
    ) -> None:
        self._change(
            account_id,
            lambda a: a.change_password(
                password_hash=password_hash, sessions_valid_from=sessions_valid_from
            ),
        )

    def revoke_access(self, account_id: UUID, *, at: str, by: str) -> None:
        self._change(account_id, lambda a: a.revoke_access(at=at, by=by))

    def lock_account(self, account_id: UUID, *, until: str, failures: int, client: str) -> None:
        self._change(account_id, lambda a: a.lock(until=until, failures=failures, client=client))

    def unlock_account(self, account_id: UUID, by: str) -> None:
        self._change(account_id, lambda a: a.unlock(by=by))

    def touch_session(self, session_id: UUID, at: str) -> None:
        self._change(session_id, lambda s: s.touch(at=at))

    def end_session(self, session_id: UUID, reason: str) -> None:
        self._change(session_id, lambda s: s.end(reason=reason))

    def audit_read(
        self,
        login: str,
        day: str,
        *,
        role: str,
        subject_id: str,
        attributes: list[str],
        action: str,
        client: str,
    ) -> None:
        """Who read which restricted attributes of what, on that person's trail of the day."""
        self._audit(
            login,
            day,
            lambda t: t.record_read(
                role=role,
                subject_id=subject_id,
                attributes=attributes,
                action=action,
                client=client,
            ),
        )

    def audit_refused_sign_in(self, login: str, day: str, *, client: str, reason: str) -> None:
        self._audit(login, day, lambda t: t.refuse_sign_in(client=client, reason=reason))

    def audit_account_change(self, login: str, day: str, **change: str) -> None:
        """`change`: role, account, action, client (`AuditTrail.record_account_change`)."""
        self._audit(login, day, lambda t: t.record_account_change(**change))

    def _audit(self, login: str, day: str, change: Callable[[AuditTrail], None]) -> None:
        """Append to the day's trail of `login`, opening it if it is the day's first entry."""
        trail = audit_trail_id(login, day)
        try:
            self._change(trail, change)
        except NotFoundError:
            opened = AuditTrail(login=login, day=day)
            change(opened)
            try:
                self.save(opened)
            except IntegrityError:  # opened by a concurrent request a moment ago
                self._change(trail, change)

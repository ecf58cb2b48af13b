"""An import: rows in, records registered, a report out."""

from __future__ import annotations

import gc
import logging
import sqlite3
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import closing, contextmanager
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from uuid import UUID

from models.application import RecordRef, RecordStore
from models.ids import InvalidKeyError, ParcelKey
from pipeline.errors import InputRejectedError
from pipeline.media.bounded import internal_error
from pipeline.usecases.importing.fieldmaps import (
    COMMON_FIELDS,
    EXTRA,
    KEY_FIELDS,
    NOT_ATTRIBUTES,
    PARCEL_FIELDS,
    SITE_FIELDS,
    VENDOR_FIELDS,
    VENDOR_UNIT_CODES,
)
from pipeline.usecases.importing.geometry import _geometry
from pipeline.usecases.importing.lineage import Parents, row_change
from pipeline.usecases.importing.readers import detect_format, read_rows
from pipeline.usecases.importing.rows import ImportReport, ImportRow, ParsedRow, RawRow, RowRejected
from pipeline.usecases.importing.saving import BATCH_ROWS, Context, Pending
from pipeline.usecases.importing.values import _nfc, _parse
from pipeline.usecases.importing.writer import BatchWriter

log = logging.getLogger(__name__)


PLAIN_FIELDS = COMMON_FIELDS | SITE_FIELDS | PARCEL_FIELDS


def today() -> date:
    return datetime.now(UTC).date()


# -- the use case -----------------------------------------------------------


def import_records(
    store: RecordStore,
    path: Path | str,
    *,
    on_row: Callable[[ImportRow], None] | None = None,
    defaults: Mapping[str, Any] | None = None,
    recorded_by: str = "import",
    split_area_tolerance: float = 0.02,
    batch_rows: int = BATCH_ROWS,
    overlap: bool = True,
) -> ImportReport:
    """Import every row of `path`; a bad row is reported and skipped, the rest imports.

    `defaults` are plain fields applied to rows that lack them and to which they apply
    (e.g. `{"unit_code": "10354", "unit_era": "pre2025"}` for a register without unit codes).
    A file that cannot be read at all raises `InputRejectedError`. Rows naming parents
    (`split_from` …) are recorded as changes of lineage by `recorded_by`. Rows are saved
    `batch_rows` at a time, one transaction each (`saving`), each written by a thread while
    the next is read (`writer`; `overlap=False`: all in the caller's thread); `on_row` hears of
    each row, in file order, in the caller's thread, once its batch is saved.
    """
    path = Path(path)
    fmt = detect_format(path)
    base = _defaults(defaults or {})
    report = ImportReport(file=path.name, format=fmt)
    context = Context(store, Parents(store), recorded_by, today(), split_area_tolerance)
    started = time.perf_counter()
    waiting: list[ImportRow | Pending] = []

    def report_rows(rows: list[ImportRow | Pending]) -> Callable[[list[ImportRow]], None]:
        def done(verdicts: list[ImportRow]) -> None:
            saved = iter(verdicts)
            for w in rows:
                result = next(saved) if isinstance(w, Pending) else w
                report.add(result)
                if on_row:
                    on_row(result)

        return done

    def flush() -> None:
        _reject_repeats(seen, waiting)
        rows = waiting.copy()
        waiting.clear()
        pending = [w for w in rows if isinstance(w, Pending)]
        if pending:
            writer.save(pending, report_rows(rows))
        else:
            writer.drain()  # the rows before these are reported first
            report_rows(rows)([])

    with (
        fewer_collections(),
        closing(FirstRows()) as seen,
        BatchWriter(context, overlap=overlap) as writer,
    ):
        for raw in _guarded(read_rows(path, fmt), path):
            waiting.append(_prepare(raw, base, path.name))
            if len(waiting) >= batch_rows:
                flush()
        flush()
    report.seconds = time.perf_counter() - started
    return report


@contextmanager
def fewer_collections(young: int = 100_000) -> Iterator[None]:
    """Collect cyclic garbage less often while importing: every row allocates events and
    dicts that live until their batch is saved, and with the default threshold (700) the
    collector spent a third of an import's time finding nothing to free. Memory stays
    bounded: collections still run, after every `young` allocations."""
    before = gc.get_threshold()
    gc.set_threshold(young, *before[1:])
    try:
        yield
    finally:
        gc.set_threshold(*before)


class FirstRows:
    """Which row of this file first had each key, in a private temporary SQLite database (on
    disk, its cache bounded), so a million-row import does not hold a million keys."""

    def __init__(self) -> None:
        self.db = sqlite3.connect("")  # "": a temporary database, deleted when closed
        self.db.execute("CREATE TABLE seen (id BLOB PRIMARY KEY, row TEXT) WITHOUT ROWID")

    def firsts(self, rows: list[tuple[UUID, str]]) -> list[str | None]:
        """For each (record id, where) of a batch, in file order: None if the id is new to the
        file (now remembered at `where`), else the row that first had it. One query per
        `FIRSTS_PER_QUERY` ids, one insert for the new ones."""
        keys = [record_id.bytes for record_id, _ in rows]
        known: dict[bytes, str] = {}
        for start in range(0, len(keys), FIRSTS_PER_QUERY):
            chunk = keys[start : start + FIRSTS_PER_QUERY]
            marks = ",".join("?" * len(chunk))
            known.update(self.db.execute(f"SELECT id, row FROM seen WHERE id IN ({marks})", chunk))
        firsts: list[str | None] = []
        new: list[tuple[bytes, str]] = []
        for key, (_, where) in zip(keys, rows, strict=True):
            first = known.get(key)
            if first is None:
                known[key] = where
                new.append((key, where))
            firsts.append(first)
        self.db.executemany("INSERT INTO seen VALUES (?, ?)", new)
        return firsts

    def close(self) -> None:
        self.db.close()


FIRSTS_PER_QUERY = 500
"""Ids per query of `FirstRows.firsts` (SQLite allows 999 variables in older builds)."""


def _reject_repeats(seen: FirstRows, waiting: list[ImportRow | Pending]) -> None:
    """Reject, in place, each waiting row whose record an earlier row of the file already had."""
    pending = [(i, w) for i, w in enumerate(waiting) if isinstance(w, Pending)]
    firsts = seen.firsts([(p.id, p.raw.where) for _, p in pending])
    for (i, p), first in zip(pending, firsts, strict=True):
        if first is not None:
            ref, raw = p.row.ref, p.raw
            reason = f"same {ref.kind} as {first} ({_describe(ref)})"
            waiting[i] = ImportRow(raw.line, raw.where, "rejected", str(p.id), reason)


def _prepare(raw: RawRow, base: Mapping[str, Any], name: str) -> ImportRow | Pending:
    """A row parsed and waiting for its batch, or its verdict already (rejected before it
    reaches the store); never raises (our bug on a row is that row's `failed`)."""
    if raw.failed:
        return ImportRow(raw.line, raw.where, "failed", None, raw.error)
    record_id: UUID | None = None
    try:
        if raw.error:
            raise RowRejected(raw.error)
        row = parse_row(raw, base)
        record_id = row.id or row.ref.id
        return Pending(raw, row, record_id, f"import:{name}:{raw.label}", name)
    except RowRejected as e:
        rid = str(record_id) if record_id else None
        return ImportRow(raw.line, raw.where, "rejected", rid, str(e))
    except Exception:  # our bug: this row's verdict, with the traceback logged; rows go on
        rid = str(record_id) if record_id else None
        return ImportRow(
            raw.line, raw.where, "failed", rid, internal_error(log, f"{name} {raw.where}")
        )


def _guarded(rows: Iterator[RawRow], path: Path) -> Iterator[RawRow]:
    """The rows; if the reader breaks on an unexpected error, one last row that says so."""
    last = 0
    try:
        for raw in rows:
            last = raw.line
            yield raw
    except InputRejectedError:
        raise
    except Exception:  # our bug in a reader: what was read stands, the rest is reported
        where = f"after row {last}" if last else "the whole file"
        error = internal_error(log, f"{path.name} {where}")
        yield RawRow(last + 1, f"{where} (unreadable)", "rest", error=error, failed=True)


# -- one row ----------------------------------------------------------------


def parse_row(raw: RawRow, defaults: Mapping[str, Any] | None = None) -> ParsedRow:
    """Validate one row's values; raises `RowRejected` naming the field at fault."""
    values, vendor_unit_code = _plain_names(_nfc(raw.values))
    fields: dict[str, Any] = {name: _parse(name, value) for name, value in values.items()}
    kind = _kind(fields)
    allowed = COMMON_FIELDS | (PARCEL_FIELDS if kind == "parcel" else SITE_FIELDS)
    wrong = sorted(set(fields) - allowed)
    if wrong:
        raise RowRejected(f"field(s) {', '.join(wrong)} do not apply to a {kind}")
    for name, value in (defaults or {}).items():
        if name in allowed and name not in fields:
            fields[name] = value
    ref, record_id = _ref(kind, fields, vendor_unit_code)
    change = row_change(fields, ref.key["era"]) if kind == "parcel" else None
    geometry, crs = _geometry(raw, fields)
    attributes = {k: v for k, v in fields.items() if k not in NOT_ATTRIBUTES}
    return ParsedRow(
        ref=ref,
        attributes=attributes,
        geometry=geometry,
        crs=crs,
        publish=bool(fields.get("published")),
        valid_from=fields.get("valid_from"),
        change=change,
        id=record_id,
    )


def _plain_names(values: dict[str, Any]) -> tuple[dict[str, Any], bool]:
    """Map export names to plain ones, gather `extra`, and refuse unknown fields."""
    plain: dict[str, Any] = {}
    origin: dict[str, str] = {}
    extra: dict[str, Any] = {}
    unknown: list[str] = []
    for name, value in values.items():
        name = str(name).strip()
        if value is None or (isinstance(value, str) and not value.strip()):
            continue
        if name in PLAIN_FIELDS:
            target = name
        elif name.lower() in VENDOR_FIELDS:
            target = VENDOR_FIELDS[name.lower()]
            if target == EXTRA:
                extra[name] = value
                continue
        else:
            unknown.append(name)
            continue
        if target in plain and str(plain[target]).strip() != str(value).strip():
            raise RowRejected(f"{target} is given twice ({origin[target]}, {name}), differently")
        plain[target], origin[target] = value, name
    if unknown:
        raise RowRejected(f"unknown field(s) {', '.join(repr(u) for u in unknown)}")
    if extra:
        given = plain.get(EXTRA, {})
        if isinstance(given, str):
            given = _parse(EXTRA, given)
        if not isinstance(given, dict):
            raise RowRejected("extra must be a JSON object")
        plain[EXTRA] = {**extra, **given}
    return plain, origin.get("unit_code", "").lower() in VENDOR_UNIT_CODES


def _kind(fields: dict[str, Any]) -> str:
    if "kind" in fields:
        return fields["kind"]
    parcel = sorted(set(fields) & PARCEL_FIELDS)
    site = sorted(set(fields) & SITE_FIELDS)
    if parcel and site:
        raise RowRejected(
            f"parcel field(s) {', '.join(parcel)} and site field(s) {', '.join(site)} "
            "together: give kind"
        )
    if parcel:
        return "parcel"
    if "code" in fields:
        return "site"
    raise RowRejected(
        "cannot tell a parcel from a site: give kind, the parcel key "
        "(unit_code, unit_era, sheet, parcel_number) or a site code"
    )


def _ref(kind: str, fields: dict[str, Any], vendor_unit_code: bool) -> tuple[RecordRef, UUID]:
    """The row's record and its id (from the parsed key: not parsed again by `RecordRef.id`)."""
    missing = [k for k in KEY_FIELDS[kind] if k not in fields]
    if missing:
        raise RowRejected(f"a {kind} needs {', '.join(missing)}")
    if kind == "site":
        ref = RecordRef("site", {"code": fields["code"].upper()})
        return ref, ref.id
    era = fields.get("unit_era") or ("pre2025" if vendor_unit_code else None)
    if era is None:
        raise RowRejected(
            "unit_era is missing (pre2025 or 2025): unit codes were reused in the 2025 "
            "reorganisation, so a code alone does not say which commune"
        )
    try:
        key = ParcelKey.of(fields["unit_code"], era, fields["sheet"], fields["parcel_number"])
    except InvalidKeyError as e:
        raise RowRejected(str(e)) from None
    return RecordRef("parcel", key.as_record_key()), key.id


def _describe(ref: RecordRef) -> str:
    k = ref.key
    if ref.kind == "parcel":
        return f"unit {k['unit_code']} {k['era']}, sheet {k['sheet']}, parcel {k['number']}"
    return f"code {k['code']}"


def _defaults(defaults: Mapping[str, Any]) -> dict[str, Any]:
    known = COMMON_FIELDS | SITE_FIELDS | PARCEL_FIELDS
    unknown = sorted(set(defaults) - known)
    if unknown:
        raise InputRejectedError(f"unknown default field(s) {', '.join(unknown)}")
    try:
        return {k: _parse(k, _nfc(v)) for k, v in defaults.items() if v not in (None, "")}
    except RowRejected as e:
        raise InputRejectedError(f"defaults: {e}") from None

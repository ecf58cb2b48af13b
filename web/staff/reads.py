"""Staff reads through the disclosure rule: load the aggregate type a route was made for (any
other id is a 404), ask `models.disclosure` what the caller may see, and audit every restricted
part shown (who, role, what, which parts, client address; the event's time is the "when").
The capture lists read the captures projection, a page at a time."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any
from uuid import UUID

from fastapi import HTTPException, Request

from models.capture import Capture
from models.disclosure import Kind, Part, capture_parts, is_restricted, may_see, record_parts
from models.errors import NotFoundError
from models.record import Record
from pipeline.bootstrap import Services
from pipeline.projections.captures import PAGE_SIZE, current
from pipeline.redaction import restricted_names
from pipeline.usecases.accounts import Principal, record_restricted_read
from web import pages as web_pages
from web.auth import client_address


def _svc(request: Request) -> Services:
    return request.app.state.services


def allow(who: Principal, kind: Kind, part: Part) -> None:
    """403 unless the disclosure rule lets `who` see `part` of a `kind`."""
    if not may_see(who.role, kind, part):
        raise HTTPException(403, f"the {who.role} role may not see {part} of a {kind}")


def audit(
    request: Request, who: Principal, subject: UUID | str, parts: Iterable[str], action: str
) -> None:
    """Record a restricted read of `parts` (restricted parts or attribute names) of `subject`."""
    shown = sorted({str(p) for p in parts if not isinstance(p, Part) or is_restricted(p)})
    record_restricted_read(
        _svc(request).store, who, subject, shown, action, client_address(request)
    )


def linked_records(svc: Services, capture: Capture) -> list[Record]:
    out = []
    for rid in capture.links:
        try:
            out.append(svc.store.record(rid))
        except NotFoundError:  # a dangling link shows nothing
            continue
    return out


def shows_personal_data(svc: Services, capture: Capture) -> bool:
    return web_pages.is_restricted(capture, linked_records(svc, capture))


def read_capture(request: Request, who: Principal, ident: UUID, part: Part, action: str) -> Capture:
    """The capture (404 for any other id) after checking the caller may see `part` of it;
    the read is audited when that part of this capture is restricted."""
    allow(who, Kind.CAPTURE, part)
    svc = _svc(request)
    capture = svc.store.capture(ident)
    personal = shows_personal_data(svc, capture)
    shown = {
        Part.PAGE_IMAGES: [Part.PAGE_IMAGES] if personal else [],
        Part.CERTIFICATE_FIELDS: capture_parts(capture, False),
        Part.HISTORY: capture_parts(capture, False),
        Part.CAPTURE_DETAILS: capture_parts(capture, personal),
    }.get(part, [])
    if shown:
        audit(request, who, ident, shown, action)
    return capture


def read_record(request: Request, who: Principal, ident: UUID, action: str) -> Record:
    """The record with every attribute (404 for any other id); restricted ones audited."""
    allow(who, Kind.RECORD, Part.RESTRICTED_ATTRIBUTES)
    record = _svc(request).store.record(ident)
    audit_record(request, who, record, action)
    return record


def audit_record(request: Request, who: Principal, record: Record, action: str) -> None:
    names = restricted_names(record)
    parts = record_parts(record, frozenset(names))
    if parts:
        audit(request, who, record.id, [*names, *parts], action)


# -- lists -----------------------------------------------------------------------------


def capture_list(
    svc: Services, state: str | None = None, page: int = 1, size: int = PAGE_SIZE
) -> dict[str, Any]:
    """One page of captures, newest first (all, or those in `state`), from the captures
    projection: `{"rows", "total", "page", "size", "pages"}`. Shows no personal data (title,
    kind, state, time received, failures), so nothing is audited."""
    page = max(page, 1)
    rows, total = current(svc).page(state, page, size)
    return {
        "rows": [_list_row(r) for r in rows],
        "total": total,
        "page": page,
        "size": size,
        "pages": max(1, -(-total // size)),
    }


def _list_row(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": row["capture_id"],
        "name": row["title"],  # never the path on the ingesting machine
        "kind": row["kind"],
        "state": row["state"],
        "received_at": row["received_at"],
        "size": row["size"],
        "pages": row["pages"],
        "pending": row["pending"],
        "attempts": row["attempts"],
        "failures": json.loads(row["failures"]),
        "links": [row["record_id"]] if row["record_id"] else [],
    }

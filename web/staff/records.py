"""Staff: a record's review page, its JSON API (read, correct, publish, withdraw), and the review
page's form posts."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from pydantic import BaseModel, Field

from models.errors import NotFoundError
from models.record import Record
from pipeline.bootstrap import Services
from pipeline.presenters import history_view, record_view
from search.documents import record_title
from web.auth import Archivist, Staff, csrf_guard
from web.portal.records import capture_data
from web.staff import review
from web.staff.reads import read_record
from web.staff.routes import _svc
from web.templating import render

router = APIRouter(tags=["staff"], dependencies=[Depends(csrf_guard)])


@router.get("/staff/records/{ident}", response_class=HTMLResponse, include_in_schema=False)
def record_page(request: Request, who: Archivist, ident: UUID) -> HTMLResponse:
    svc = _svc(request)
    record = read_record(request, who, ident, "review page")
    view = record_view(record)
    history = [
        {**h, "event": h["event"].split(".")[-1], "source": h["data"].get("source"),
         "attributes": h["data"].get("attributes")}
        for h in history_view(svc.store.history(ident))
    ]  # fmt: skip
    captures = []
    for cid in record.captures:
        try:
            captures.append(capture_data(svc, svc.store.capture(cid), [record], public=False))
        except NotFoundError:
            continue
    return render(
        request,
        "review.html",
        record=view,
        title=record_title(record),
        history=history,
        captures=captures,
    )


@router.get("/api/records/{ident}")
def record_json(request: Request, who: Staff, ident: UUID) -> dict:
    """The record with every attribute; reading restricted ones is audited."""
    return record_view(read_record(request, who, ident, "record api"))


class Corrections(BaseModel):
    attributes: dict[str, Any] = Field(..., min_length=1)


@router.post("/api/records/{ident}/attributes")
def correct(request: Request, who: Archivist, ident: UUID, body: Corrections) -> dict:
    """Corrections by a person, recorded as `AttributesRecorded` with source "person:<login>"."""
    svc = _svc(request)
    review.correct_attributes(svc.store, who, _record(svc, ident).id, body.attributes)
    return record_view(svc.store.record(ident))


@router.post("/api/records/{ident}/publish")
def publish(request: Request, who: Archivist, ident: UUID) -> dict:
    svc = _svc(request)
    review.publish(svc.store, _record(svc, ident).id)
    return record_view(svc.store.record(ident))


class Withdrawal(BaseModel):
    reason: str = Field(..., min_length=1, max_length=500)


@router.post("/api/records/{ident}/withdraw")
def withdraw(request: Request, who: Archivist, ident: UUID, body: Withdrawal) -> dict:
    svc = _svc(request)
    review.withdraw(svc.store, _record(svc, ident).id, body.reason)
    return record_view(svc.store.record(ident))


# form posts from the review page (work without JavaScript)


@router.post("/staff/records/{ident}/attributes", include_in_schema=False)
def correct_form(
    request: Request,
    who: Archivist,
    ident: UUID,
    name: Annotated[str, Form(min_length=1, max_length=100)],
    value: Annotated[str, Form(max_length=10000)],
) -> RedirectResponse:
    review.correct_attributes(
        _svc(request).store, who, _record(_svc(request), ident).id, {name: value}
    )
    return RedirectResponse(f"/staff/records/{ident}", status_code=303)


@router.post("/staff/records/{ident}/publish", include_in_schema=False)
def publish_form(request: Request, who: Archivist, ident: UUID) -> RedirectResponse:
    review.publish(_svc(request).store, _record(_svc(request), ident).id)
    return RedirectResponse(f"/staff/records/{ident}", status_code=303)


@router.post("/staff/records/{ident}/withdraw", include_in_schema=False)
def withdraw_form(
    request: Request, who: Archivist, ident: UUID, reason: Annotated[str, Form(min_length=1)]
) -> RedirectResponse:
    review.withdraw(_svc(request).store, _record(_svc(request), ident).id, reason)
    return RedirectResponse(f"/staff/records/{ident}", status_code=303)


def _record(svc: Services, ident: UUID) -> Record:
    return svc.store.record(ident)

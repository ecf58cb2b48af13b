"""Staff and officers: page images (unredacted; audited when they show personal data), crops
of a field's box, the model's preview, live progress, the form posts of the capture page, and
the archivists' review queue of certificate fields (weakest first; Enter accepts a field as
read, typing corrects it; both are events).
"""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import BaseModel, Field
from starlette.datastructures import FormData

from models.capture import Capture
from models.disclosure import Part
from models.errors import NotFoundError
from pipeline.bootstrap import Services
from pipeline.presenters import capture_title, field_status, fields_view
from pipeline.usecases.certificates import (
    accept_fields,
    correct_fields,
    join_certificate,
    leave_blank,
    leave_fields_blank,
    parcel_status,
)
from pipeline.usecases.retry import retry_failed
from pipeline.usecases.review import next_in_queue, review_queue, same_certificate
from web import pages as web_pages
from web.auth import Archivist, Staff, csrf_guard
from web.staff import review
from web.staff.reads import read_capture
from web.templating import render

router = APIRouter(tags=["staff"], dependencies=[Depends(csrf_guard)])
PRIVATE = {"Cache-Control": "private, no-store"}
MAX_FORM_FIELDS = 100
BOX = r"^\d{1,6}(,\d{1,6}){3}$"
JOINABLE = ("not_on_pages", "left_blank", "missing")
"""The parcel problems of a photo that may be another photo's certificate (no parcel fields)."""


def _svc(request: Request) -> Services:
    return request.app.state.services


def _page(svc: Services, capture: Capture, n: int) -> web_pages.Page:
    page = web_pages.page_of(svc, capture, n, with_text=False)
    if page is None or not web_pages.has_image(capture, page):
        raise HTTPException(404, f"no image of page {n}")
    return page


@router.get("/api/captures/{ident}/pages/{n}/image.jpg")
async def page_image(request: Request, who: Staff, ident: UUID, n: int) -> Response:
    """Page `n` (from 1) as the text run saw it (the image its word boxes refer to), else as
    received. Not redacted: reading a certificate's page is recorded in the audit log."""
    svc = _svc(request)
    capture = svc.store.capture(ident)
    page = _page(svc, capture, n)
    data = await run_in_threadpool(web_pages.image, svc, capture, page)
    if data is None:
        raise HTTPException(404, f"no image of page {n}")
    read_capture(request, who, ident, Part.PAGE_IMAGES, f"page {n} image")
    return Response(data, media_type="image/jpeg", headers=PRIVATE)


@router.get("/api/captures/{ident}/pages/{n}/crop.jpg")
async def page_crop(
    request: Request,
    who: Staff,
    ident: UUID,
    n: int,
    box: Annotated[
        str, Query(pattern=r"^\d{1,6}(,\d{1,6}){3}$", description="left,top,right,bottom")
    ],
) -> Response:
    """The part of page `n`'s image around `box` (pixels of the page the OCR boxes refer to)."""
    svc = _svc(request)
    capture = svc.store.capture(ident)
    page = _page(svc, capture, n)
    if not page.image_key:
        raise HTTPException(404, f"page {n} has not been read yet")
    left, top, right, bottom = (int(v) for v in box.split(","))
    if right <= left or bottom <= top:
        raise HTTPException(400, "box: right must exceed left and bottom top")
    data = svc.blobs.read_bytes(page.image_key)
    body = await run_in_threadpool(web_pages.crop, data, (left, top, right, bottom))
    read_capture(request, who, ident, Part.PAGE_IMAGES, f"page {n} crop")
    return Response(body, media_type="image/jpeg", headers=PRIVATE)


@router.get("/api/captures/{ident}/preview.png")
def model_preview(request: Request, who: Staff, ident: UUID) -> Response:
    svc = _svc(request)
    key = (svc.store.capture(ident).model or {}).get("preview_key")
    if key is None:
        raise HTTPException(404, "no preview yet")
    return Response(svc.blobs.read_bytes(key), media_type="image/png")


@router.get("/api/captures/{ident}/progress")
def capture_progress(request: Request, who: Staff, ident: UUID) -> dict:
    """State, pages read of total per text run, stage states, standing failures (small: the
    capture page polls it every second or two)."""
    return review.progress(_svc(request).store.capture(ident))


@router.post("/staff/captures/{ident}/fields", include_in_schema=False)
async def correct_fields_form(request: Request, who: Archivist, ident: UUID) -> RedirectResponse:
    """The review form without JavaScript: `field.<name>` inputs (changed ones are recorded)
    and a `reason`; the page's script posts JSON to /api/captures/{id}/fields instead."""
    svc = _svc(request)
    capture = svc.store.capture(ident)
    form = await request.form(max_fields=MAX_FORM_FIELDS)
    values = changed_values(capture, form)
    if values:
        reason = str(form.get("reason") or "")[:500]
        await run_in_threadpool(correct_fields, svc, ident, values, reason, f"person:{who.login}")
    return RedirectResponse(f"/staff/captures/{ident}#fields", status_code=303)


def changed_values(capture: Capture, form: FormData) -> dict:
    current = fields_view(capture)["fields"]
    values = {}
    for key, raw in form.items():
        name = key.removeprefix("field.")
        if name == key or name not in current or not isinstance(raw, str):
            continue
        value = review.parse_value(name, raw[:10000], current[name])
        if value != current[name] and not (value == "" and current[name] is None):
            values[name] = value
    return values


@router.post("/staff/captures/{ident}/retry", include_in_schema=False)
def retry_form(request: Request, who: Archivist, ident: UUID) -> RedirectResponse:
    _svc(request).store.capture(ident)  # 404 for any other id
    retry_failed(_svc(request), ident, requested_by=f"person:{who.login}")
    return RedirectResponse(f"/staff/captures/{ident}", status_code=303)


# -- the review queue ----------------------------------------------------------------------


@router.get("/staff/review", response_class=HTMLResponse, include_in_schema=False)
def review_queue_page(
    request: Request, who: Archivist, page: int = Query(1, ge=1, le=1_000_000)
) -> HTMLResponse:
    """Certificates whose fields need a person, weakest first, a page at a time from the
    captures projection, with the queue's figures."""
    svc = _svc(request)
    queue = review_queue(svc, page)
    first = next_in_queue(svc, "")
    done = _done(svc, request.query_params.get("done"))
    return render(
        request, "review_queue.html", queue=queue | _pager(request, queue), first=first, done=done
    )


def _done(svc: Services, ident: str | None) -> dict | None:
    """The certificate just finished (`?done=ID`), named for the note that says so, with the
    parcel its values went to or why none."""
    try:
        capture = svc.store.capture(UUID(str(ident)))
    except (ValueError, NotFoundError):
        return None
    parcel = parcel_status(svc, capture)
    return {"id": str(capture.id), "name": capture_title(capture), "parcel": parcel}


def _pager(request: Request, listing: dict) -> dict:
    """Links to the previous and next pages of a listing (`_pager.html`)."""

    def link(n: int) -> str:
        url = request.url.include_query_params(page=n)
        return f"{url.path}?{url.query}"

    page = listing["page"]
    return {
        "prev": link(page - 1) if page > 1 else None,
        "next": link(page + 1) if page < listing["pages"] else None,
    }


@router.get("/staff/review/{ident}", response_class=HTMLResponse, include_in_schema=False)
def review_certificate_page(request: Request, who: Archivist, ident: UUID) -> HTMLResponse:
    """One certificate's fields, weakest first, each with its crop, raw reading, confidence,
    reason and a box: Enter accepts the value shown, typing another value corrects it."""
    svc = _svc(request)
    capture = read_capture(request, who, ident, Part.CERTIFICATE_FIELDS, "review queue")
    rows = review.review_rows(capture)
    waiting = next((r["name"] for r in rows if r["needs_review"]), None)
    parcel = parcel_status(svc, capture)
    return render(
        request,
        "review_certificate.html",
        capture_id=str(ident),
        capture_name=capture_title(capture),
        fields=fields_view(capture),
        rows=rows,
        focus=waiting,
        blanks=sum(1 for r in rows if r["needs_review"] and r["value"] is None),
        pages=range(1, int(capture.inspection.get("pages") or 0) + 1),
        parcel=parcel,
        same=same_certificate(svc, str(ident)) if parcel.get("problem") in JOINABLE else [],
        next_id=next_in_queue(svc, str(ident)),
        done=_done(svc, request.query_params.get("done")),
    )


def _waits(svc: Services, ident: UUID) -> bool:
    return any(f["needs_review"] for f in field_status(svc.store.capture(ident)).values())


def _onward(svc: Services, ident: UUID, waited: bool = True) -> RedirectResponse:
    """Where a settled field leads: this certificate while a field still waits (its weakest
    waiting field has the focus) or when none waited before (a finished certificate opened
    again to change a value), else the next certificate waiting, else the queue, each saying
    which certificate was just finished."""
    if not waited or _waits(svc, ident):
        return RedirectResponse(f"/staff/review/{ident}", status_code=303)
    following = next_in_queue(svc, str(ident))
    where = f"/staff/review/{following}" if following else "/staff/review"
    return RedirectResponse(f"{where}?done={ident}", status_code=303)


@router.post("/staff/review/{ident}/fields/{name}", include_in_schema=False)
async def review_field_form(
    request: Request, who: Archivist, ident: UUID, name: str
) -> RedirectResponse:
    """One field's box submitted: unchanged is an acceptance, changed a correction."""
    svc = _svc(request)
    capture = svc.store.capture(ident)
    status = field_status(capture).get(name)
    if status is None:
        raise HTTPException(404, f"no field {name!r} on this capture")
    waited = _waits(svc, ident)
    form = await request.form(max_fields=MAX_FORM_FIELDS)
    text = str(form.get("value") or "")[:10000]
    action, value = review.decide(text, {**status, "name": name})
    by = f"person:{who.login}"
    if action == "accept":
        if status["status"] not in ("accepted", "corrected"):  # already settled: nothing to add
            await run_in_threadpool(accept_fields, svc, ident, [name], by)
    elif value not in ("", None):
        reason = str(form.get("reason") or "review queue")[:500]
        await run_in_threadpool(correct_fields, svc, ident, {name: value}, reason, by)
    elif status["value"] is not None:  # a value emptied: the field is not on these pages
        await run_in_threadpool(leave_fields_blank, svc, ident, [name], by)
    return _onward(svc, ident, waited)


@router.post("/staff/review/{ident}/blank", include_in_schema=False)
async def review_blank_form(request: Request, who: Archivist, ident: UUID) -> RedirectResponse:
    """The fields still waiting with no value are not on these pages (a photo of page 1 or 4
    of a booklet): each is left blank, by this person, and the certificate is done."""
    svc = _svc(request)
    svc.store.capture(ident)  # 404 for any other id
    await run_in_threadpool(leave_blank, svc, ident, f"person:{who.login}")
    return _onward(svc, ident)


@router.post("/staff/review/{ident}/join/{other}", include_in_schema=False)
async def review_join_form(
    request: Request, who: Archivist, ident: UUID, other: UUID
) -> RedirectResponse:
    """This photo is of the same certificate as `other` (which reached a parcel): it takes the
    other's sheet, number, address and date, its fields not read are left blank, and it joins
    that parcel with what it holds (the owners of page 1)."""
    svc = _svc(request)
    for known in (ident, other):
        svc.store.capture(known)  # 404 for any other id
    if ident == other:
        raise HTTPException(409, "a photo cannot be joined to itself")
    await run_in_threadpool(join_certificate, svc, ident, other, f"person:{who.login}")
    return _onward(svc, ident)


class FieldAcceptance(BaseModel):
    names: list[str] = Field(..., min_length=1, max_length=50)


@router.post("/api/captures/{ident}/fields/accept")
def accept_capture_fields(
    request: Request, who: Archivist, ident: UUID, body: FieldAcceptance
) -> dict:
    """Record that a person confirmed the machine's values of these fields as read."""
    svc = _svc(request)
    svc.store.capture(ident)  # 404 for any other id
    accept_fields(svc, ident, body.names, by=f"person:{who.login}")
    return fields_view(svc.store.capture(ident))

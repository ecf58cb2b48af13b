"""Staff: upload (multipart and resumable chunks), capture status, review, publish, audit.

Uploads go through `pipeline.usecases.ingest.Ingestor` like every other input; the web only receives
bytes into files under `<data dir>/uploads` and hands their paths over.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, Form, HTTPException, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from pydantic import BaseModel, Field

from models.disclosure import Part
from models.errors import NotFoundError
from models.record import Record
from pipeline.bootstrap import Services
from pipeline.errors import InputRejectedError
from pipeline.jobs.text import full_text, raw_full_text
from pipeline.presenters import capture_view, fields_view, history_view, model_view, record_view
from pipeline.usecases.accounts import Principal, audit_entries
from pipeline.usecases.certificates import correct_fields
from pipeline.usecases.ingest import Ingestor, IngestResult
from pipeline.usecases.inputs import Item
from pipeline.usecases.retry import retry_failed
from pipeline.usecases.sidecar import CaptureMeta, validate
from pipeline.usecases.uploads import (
    UploadError,
    UploadNotFoundError,
    UploadOffsetError,
    UploadTooLargeError,
)
from search.documents import record_title
from search.query import QueryError
from web.auth import Archivist, Staff, csrf_guard
from web.portal.records import capture_data
from web.results import model_key, page_texts
from web.searching import build_query, run
from web.staff import review
from web.staff.multipart import receive_form
from web.staff.reads import linked_records, read_capture, read_record
from web.templating import render

router = APIRouter(tags=["staff"], dependencies=[Depends(csrf_guard)])
META_FIELDS = (
    "title", "description", "collection", "language", "site_code", "document_code",
    "unit_code", "unit_era", "sheet", "parcel_number",
)  # fmt: skip


def _svc(request: Request) -> Services:
    return request.app.state.services


def ingestor(svc: Services, who: Principal) -> Ingestor:
    s = svc.settings
    return Ingestor(
        svc.store, svc.blobs, s.limits, s.data_dir / "uploads" / "tmp", who.login or "web", "web"
    )


def meta_from(values: dict[str, Any]) -> CaptureMeta:
    """Sidecar fields from a form or JSON body (empty values dropped), validated as sidecars."""
    picked = {k: str(v).strip() for k, v in values.items() if k in META_FIELDS and str(v).strip()}
    if values.get("kind"):
        picked["kind"] = str(values["kind"])
    try:
        return validate(picked, "upload")
    except InputRejectedError as e:
        raise HTTPException(400, str(e)) from None


def _ingest(svc: Services, who: Principal, name: str, path: Path, meta: CaptureMeta) -> dict:
    item = Item(display=name, source=path, kind=meta.kind)
    results: list[IngestResult] = ingestor(svc, who).ingest_item(item, meta)
    return {**results[0].__dict__, "path": name}


# -- pages -------------------------------------------------------------------------------


@router.get("/staff", response_class=HTMLResponse, include_in_schema=False)
def staff_home(request: Request, who: Archivist, q: str = "") -> HTMLResponse:
    svc = _svc(request)
    captures = review.recent_captures(svc.store)
    records = None
    if q:
        try:
            records = run(svc, build_query(q, "officer", [], 1, 50))["hits"]
        except QueryError as e:
            raise HTTPException(400, str(e)) from None
    return render(
        request,
        "staff.html",
        captures=captures[:50],
        queue=review.by_state(captures, "pending"),
        failures=review.by_state(captures, "failed"),
        records=records,
        q=q,
    )


@router.get("/staff/captures/{ident}", response_class=HTMLResponse, include_in_schema=False)
def capture_page(request: Request, who: Archivist, ident: UUID, q: str = "") -> HTMLResponse:
    """A capture: live progress, its pages beside their text, the review of a certificate's
    fields (a crop of each field's box, the corner polygon on the map), the 3D model."""
    svc = _svc(request)
    capture = read_capture(request, who, ident, Part.CAPTURE_DETAILS, "capture review page")
    records = linked_records(svc, capture)
    linked = [
        {"id": str(r.id), "title": record_title(r), "published": r.published} for r in records
    ]
    fields = fields_view(capture)
    return render(
        request,
        "capture.html",
        capture=capture_view(capture),
        detail=capture_data(svc, capture, records, public=False, query=q),
        progress=review.progress(capture),
        fields=fields if capture.fields else None,
        field_rows=review.field_rows(capture),
        corners=review.corners_wgs84(fields.get("corners") or []),
        linked=linked,
        history=history_view(svc.store.history(ident)),
        q=q,
    )


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


@router.get("/staff/audit", response_class=HTMLResponse, include_in_schema=False)
def audit_page(request: Request, who: Archivist, unlocked: str = "") -> HTMLResponse:
    """Restricted reads and refused sign-ins, newest first; a form to unlock a login."""
    entries = audit_entries(_svc(request).store)
    return render(request, "audit.html", entries=entries, unlocked=unlocked[:200])


# -- uploads -------------------------------------------------------------------------------


@router.post("/api/captures", status_code=201)
async def upload(request: Request, who: Archivist) -> list[dict]:
    """multipart/form-data: one or more `file` parts, plus sidecar fields (`kind`, `title`,
    `site_code`, `document_code`, `unit_code`, `unit_era`, `sheet`, `parcel_number`, …).
    Each file is streamed to disk, then ingested; one result per file."""
    svc = _svc(request)
    folder = svc.settings.data_dir / "uploads" / "form"
    form = await receive_form(request, folder, svc.settings.max_file_bytes)
    try:
        meta = meta_from(form.fields)
        if not form.files:
            raise HTTPException(400, "no file in the form")
        return [await run_in_threadpool(_ingest, svc, who, n, p, meta) for n, p in form.files]
    finally:
        form.discard()


@router.post("/staff/upload", include_in_schema=False)
async def upload_form(request: Request, who: Archivist) -> Response:
    """The no-JavaScript upload form: ingest, then show the first capture's page."""
    results = await upload(request, who)
    first = next((r for r in results if r["capture_id"]), None)
    if first is None:
        return JSONResponse(results, status_code=422)
    return RedirectResponse(f"/staff/captures/{first['capture_id']}", status_code=303)


class NewUpload(BaseModel):
    name: str = Field(..., min_length=1, max_length=255)
    size: int | None = Field(None, ge=1)
    meta: dict[str, str] = Field(default_factory=dict)


@router.post("/api/uploads", status_code=201)
def create_upload(request: Request, who: Archivist, body: NewUpload) -> dict:
    """Start a resumable upload; then PUT chunks at `offset`, then POST …/complete."""
    meta_from(body.meta)  # refuse bad metadata before any byte arrives
    try:
        info = request.app.state.uploads.create(body.name, body.size, body.meta)
    except UploadTooLargeError as e:
        raise HTTPException(413, str(e)) from None
    return _upload_json(info)


@router.get("/api/uploads/{upload_id}")
def upload_status(request: Request, who: Archivist, upload_id: str) -> dict:
    return _upload_json(_uploads_call(request.app.state.uploads.info, upload_id))


@router.put("/api/uploads/{upload_id}")
async def put_chunk(
    request: Request, who: Archivist, upload_id: str, offset: Annotated[int, Query(ge=0)]
) -> dict:
    """Bytes at `offset`. A repeated chunk is accepted and changes nothing; a chunk past the
    end is refused with 409 and `expected` (also in the `Upload-Offset` header)."""
    uploads = request.app.state.uploads
    try:
        with uploads.writer(upload_id, offset) as w:
            async for chunk in request.stream():
                if chunk:
                    await run_in_threadpool(w.put, chunk)
    except UploadError as e:
        raise _upload_error(e) from None
    return _upload_json(uploads.info(upload_id))


@router.post("/api/uploads/{upload_id}/complete")
async def complete_upload(request: Request, who: Archivist, upload_id: str) -> dict:
    """Ingest the assembled file; the upload is discarded whatever the outcome."""
    uploads = request.app.state.uploads
    info = _uploads_call(uploads.info, upload_id)
    path = _uploads_call(uploads.path_when_complete, upload_id)
    meta = meta_from(info.meta)
    try:
        return await run_in_threadpool(_ingest, _svc(request), who, info.name, path, meta)
    finally:
        uploads.discard(upload_id)


@router.delete("/api/uploads/{upload_id}", status_code=204)
def cancel_upload(request: Request, who: Archivist, upload_id: str) -> Response:
    _uploads_call(request.app.state.uploads.info, upload_id)
    request.app.state.uploads.discard(upload_id)
    return Response(status_code=204)


def _uploads_call(fn, upload_id: str):
    try:
        return fn(upload_id)
    except UploadError as e:
        raise _upload_error(e) from None


def _upload_error(e: UploadError) -> HTTPException:
    if isinstance(e, UploadNotFoundError):
        return HTTPException(404, str(e))
    if isinstance(e, UploadOffsetError):
        return HTTPException(
            409, {"message": str(e), "expected": e.expected}, {"Upload-Offset": str(e.expected)}
        )
    if isinstance(e, UploadTooLargeError):
        return HTTPException(413, str(e))
    return HTTPException(400, str(e))


def _upload_json(info) -> dict:
    return {"id": info.id, "name": info.name, "size": info.size, "offset": info.offset}


# -- captures and records (JSON) --------------------------------------------------------------


@router.get("/api/captures/{ident}")
def capture_json(request: Request, who: Staff, ident: UUID) -> dict:
    """The capture with its fields and page texts (restricted parts audited)."""
    capture = read_capture(request, who, ident, Part.CAPTURE_DETAILS, "capture api")
    return {**capture_view(capture), "text": page_texts(capture, _svc(request).blobs)}


@router.get("/api/captures/{ident}/history")
def capture_history(request: Request, who: Staff, ident: UUID) -> list:
    """A capture's events (only a capture's: any other id is a 404; never credentials)."""
    read_capture(request, who, ident, Part.HISTORY, "capture history")
    return history_view(_svc(request).store.history(ident))


@router.get("/api/captures/{ident}/thumbnail")
def thumbnail(request: Request, who: Staff, ident: UUID) -> Response:
    svc = _svc(request)
    key = read_capture(request, who, ident, Part.PAGE_IMAGES, "thumbnail").thumbnail_key
    if key is None:
        raise HTTPException(404, "no thumbnail yet")
    return Response(svc.blobs.read_bytes(key), media_type="image/jpeg")


@router.get("/api/captures/{ident}/text")
def capture_text(request: Request, who: Staff, ident: UUID, raw: bool = False) -> Response:
    """The capture's full text (pages separated by form feeds); `raw` before correction."""
    svc = _svc(request)
    capture = read_capture(request, who, ident, Part.PAGE_IMAGES, "capture text")
    if capture.text is None:
        raise HTTPException(404, "no text yet")
    body = raw_full_text(svc, capture) if raw else full_text(svc, capture)
    return Response(body, media_type="text/plain; charset=utf-8")


@router.get("/api/captures/{ident}/pdf")
def capture_pdf(request: Request, who: Staff, ident: UUID) -> Response:
    """The searchable PDF: page images with an invisible text layer."""
    svc = _svc(request)
    capture = read_capture(request, who, ident, Part.PAGE_IMAGES, "searchable pdf")
    if not capture.text or not capture.text.get("pdf_key"):
        raise HTTPException(404, "no searchable PDF yet")
    return Response(
        svc.blobs.read_bytes(capture.text["pdf_key"]),
        media_type="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="{ident}.pdf"'},
    )


@router.get("/api/captures/{ident}/pages/{page}/hocr")
def capture_hocr(request: Request, who: Staff, ident: UUID, page: int, run: int = 0) -> Response:
    """One page's words with boxes and confidences (hOCR) from the latest or a given run."""
    svc = _svc(request)
    capture = read_capture(request, who, ident, Part.PAGE_IMAGES, f"page {page} hocr")
    n = run or len(capture.text_runs)
    outcome = capture.page_outcomes(n).get(page)
    if not outcome or not outcome.get("hocr_key"):
        raise HTTPException(404, f"no hOCR for page {page} of run {n}")
    return Response(svc.blobs.read_bytes(outcome["hocr_key"]), media_type="text/html")


@router.get("/api/captures/{ident}/fields")
def capture_fields(request: Request, who: Staff, ident: UUID) -> dict:
    """A certificate's fields with people's corrections applied; owners are audited reads."""
    capture = read_capture(request, who, ident, Part.CERTIFICATE_FIELDS, "certificate fields")
    return fields_view(capture)


class FieldCorrections(BaseModel):
    values: dict[str, Any] = Field(..., min_length=1)
    reason: str = ""


@router.post("/api/captures/{ident}/fields")
def correct_capture_fields(
    request: Request, who: Archivist, ident: UUID, body: FieldCorrections
) -> dict:
    """Record corrections (they win over the machine's values) and carry them to the parcel."""
    svc = _svc(request)
    svc.store.capture(ident)  # 404 for any other id
    correct_fields(svc, ident, body.values, body.reason, by=f"person:{who.login}")
    return fields_view(svc.store.capture(ident))


@router.get("/api/captures/{ident}/model.glb")
def capture_model(request: Request, who: Staff, ident: UUID, lod: str | None = None) -> Response:
    svc = _svc(request)
    capture = svc.store.capture(ident)
    key = model_key(capture, lod)
    if not key:
        raise HTTPException(404, "no model yet")
    return Response(svc.blobs.read_bytes(key), media_type="model/gltf-binary")


@router.get("/api/captures/{ident}/model")
def capture_model_json(request: Request, who: Staff, ident: UUID) -> dict:
    """The latest reconstruction: metrics, parameters, per-stage seconds."""
    return model_view(_svc(request).store.capture(ident))


@router.post("/api/captures/{ident}/retry", status_code=202)
def retry(request: Request, who: Archivist, ident: UUID) -> dict:
    """Run a failed capture's failed stages again; the failures stay in its history."""
    _svc(request).store.capture(ident)  # 404 for any other id
    stages = retry_failed(_svc(request), ident, requested_by=f"person:{who.login}")
    if not stages:
        raise HTTPException(409, "nothing to retry: no stage of this capture has failed")
    return {"id": str(ident), "retried": stages}


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

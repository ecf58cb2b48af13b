"""Staff: a capture's review page, and its JSON API (history, thumbnail, text, PDF, hOCR, fields
and their corrections, the 3D model, retry)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import BaseModel, Field

from models.disclosure import Part
from pipeline.jobs.text import full_text, raw_full_text
from pipeline.presenters import capture_view, fields_view, history_view, model_view
from pipeline.usecases.certificates import correct_fields
from pipeline.usecases.retry import retry_failed
from search.documents import record_title
from web.auth import Archivist, Staff, csrf_guard
from web.portal.records import capture_data
from web.results import model_key, page_texts
from web.staff import review
from web.staff.reads import linked_records, read_capture
from web.staff.routes import _svc
from web.templating import render

router = APIRouter(tags=["staff"], dependencies=[Depends(csrf_guard)])


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

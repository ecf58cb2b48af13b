"""The public IIIF edge: Presentation 3 manifests, a level-0 Image API, Content Search, and each
page's public derivatives (ALTO, hOCR, text) and the document's (text, searchable PDF).

Everything here is built from a capture that is public (`records.public_capture`: linked to a
published record, never a land certificate, else 404 — never a redacted-but-present answer) and
from its pages as the public may see them: text masked, images blacked out (`web.pages`).
CORS for all of `/iiif/` is `web.portal.iiif_cors`.
"""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, Response

from pipeline.bootstrap import Services
from web import pages as web_pages
from web.auth import csrf_guard
from web.portal import iiif
from web.portal.records import public_capture
from web.portal.routes import services_of

router = APIRouter(tags=["iiif"], dependencies=[Depends(csrf_guard)])
CACHE = {"Cache-Control": "public, max-age=3600"}


@router.get("/iiif/{ident}/manifest.json")
def manifest(request: Request, ident: UUID) -> JSONResponse:
    """IIIF Presentation 3 manifest of a published capture: one canvas per page, in order,
    each with a level-0 image service and the page's (masked) text."""
    svc = services_of(request)
    capture, records = public_capture(svc, ident)
    limits = web_pages.restrictions(capture, records)
    canvases = []
    for page in web_pages.pages(svc, capture):
        if not page.image_key:  # public images come only from read (redactable) pages
            continue
        width, height = web_pages.size(svc, capture, page)
        text = web_pages.public_text(page, limits)
        canvases.append(iiif.Canvas(page.n, width, height, text))
    label = str(
        (records[0].attributes.get("name") if records else None)
        or capture.meta.get("title")
        or capture.id
    )
    return JSONResponse(iiif.manifest(base_url(request), capture, label, canvases))


@router.get("/iiif/{ident}/thumbnail.jpg", include_in_schema=False)
async def thumbnail(request: Request, ident: UUID) -> Response:
    """The first page, small; made only from the redacted page image, so 404 until the page
    has been read (never the inspection thumbnail: it is not redacted)."""
    svc = services_of(request)
    capture, records = public_capture(svc, ident)
    page = web_pages.page_of(svc, capture, 1)
    if page is None or not page.image_key:
        raise HTTPException(404, "no public thumbnail until the first page has been read")
    data = await run_in_threadpool(public_image, svc, capture, records, page)
    body = await run_in_threadpool(web_pages.thumbnail, data, svc.settings.thumbnail_px)
    return Response(body, media_type="image/jpeg", headers=CACHE)


@router.get("/iiif/{ident}/{page}/info.json")
def image_info(request: Request, ident: UUID, page: int) -> JSONResponse:
    """IIIF Image API 3, level 0."""
    svc = services_of(request)
    capture, _ = public_capture(svc, ident)
    found = read_page(svc, capture, page)
    width, height = web_pages.size(svc, capture, found)
    return JSONResponse(iiif.image_info(base_url(request), capture, page, width, height))


@router.get("/iiif/{ident}/{page}/full/{size}/0/default.jpg", include_in_schema=False)
async def image(request: Request, ident: UUID, page: int, size: str) -> Response:
    """The page image; personal data on it blacked out (see `web.pages`)."""
    svc = services_of(request)
    capture, records = public_capture(svc, ident)
    found = read_page(svc, capture, page)
    width, height = web_pages.size(svc, capture, found)
    if size not in ("max", f"{width},{height}", f"{width},"):
        raise HTTPException(400, "level 0: only full/max is available")
    data = await run_in_threadpool(public_image, svc, capture, records, found)
    return Response(data, media_type="image/jpeg", headers=CACHE)


def public_image(svc: Services, capture, records, page: web_pages.Page) -> bytes:
    """The page image with personal data blacked out; only a read page (its text says where
    names and ID numbers are) has one."""
    if not page.image_key:
        raise HTTPException(404, "no public image until this page has been read")
    limits = web_pages.restrictions(capture, records)
    data = web_pages.image(svc, capture, page, web_pages.public_boxes(page, limits))
    if data is None:
        raise HTTPException(404, "no image of this page")
    return data


def read_page(svc: Services, capture, n: int) -> web_pages.Page:
    """Page `n` when it has been read (only read pages have a public image and text), else 404."""
    page = web_pages.page_of(svc, capture, n)
    if page is None or not page.image_key:
        raise HTTPException(404, "no public image of this page (not read yet, or no such page)")
    return page


def base_url(request: Request) -> str:
    return str(request.base_url).rstrip("/")

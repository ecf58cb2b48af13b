"""The public IIIF edge: Presentation 3 manifests, a level-0 Image API, Content Search, and each
page's public derivatives (ALTO, hOCR, text) and the document's (text, searchable PDF).

Everything here is built from a capture that is public (`records.public_capture`: linked to a
published record, never a land certificate, else 404 — never a redacted-but-present answer) and
from its pages as the public may see them: text masked, images blacked out (`web.pages`).
CORS for all of `/iiif/` is `web.portal.iiif_edge`.
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode
from uuid import UUID

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, Response

from pipeline.bootstrap import Services
from pipeline.stages.pages import alto
from pipeline.stages.pages.pagetext import PageText
from web import pages as web_pages
from web.auth import csrf_guard
from web.portal import content_search, derivatives, iiif
from web.portal.routes import services_of

router = APIRouter(tags=["public"], dependencies=[Depends(csrf_guard)])
CACHE = {"Cache-Control": "public, max-age=3600"}


@router.get("/iiif/{ident}/manifest.json")
def manifest(request: Request, ident: UUID) -> JSONResponse:
    """IIIF Presentation 3 manifest of a published capture: one canvas per page, in order,
    each with a level-0 image service and the page's (masked) text."""
    svc = services_of(request)
    capture, records = derivatives.public_document(svc, ident)
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
    home = f"{base_url(request)}/records/{records[0].id}" if records else None
    return JSONResponse(iiif.manifest(base_url(request), capture, label, canvases, home))


Page = Annotated[int, Query(ge=1, le=10_000, description="answer page, 1-based")]


@router.get("/iiif/{ident}/search")
async def search(request: Request, ident: UUID, q: str = "", page: Page = 1) -> JSONResponse:
    """IIIF Content Search 2.0 inside the document: an AnnotationPage of hits, each a box on
    its canvas; with or without diacritics; 100 hits an answer, `next` links the rest. 400 with
    an empty AnnotationPage for a query that is empty, only punctuation, or longer than 200
    characters."""
    return await _search(request, ident, q, page, "search", content_search.annotation_page)


@router.get("/iiif/{ident}/search1", include_in_schema=False)
async def search_1(request: Request, ident: UUID, q: str = "", page: Page = 1) -> JSONResponse:
    """The same hits as Content Search 1.0 (what Mirador up to 4.0 reads)."""
    return await _search(request, ident, q, page, "search1", content_search.annotation_list)


async def _search(request: Request, ident: UUID, q: str, n: int, name: str, form) -> JSONResponse:
    svc = services_of(request)
    capture, records = derivatives.public_document(svc, ident)
    mid = f"{base_url(request)}/iiif/{capture.id}"

    def url(k: int) -> str:
        return f"{mid}/{name}?" + urlencode({"q": q, **({"page": k} if k > 1 else {})})

    try:
        query = content_search.terms(q)
    except content_search.QueryRejectedError as e:
        return JSONResponse(content_search.empty_page(url(n), str(e)), status_code=400)
    index = await run_in_threadpool(derivatives.search_index, svc, capture, records)
    hits, total = index.find(query, (n - 1) * content_search.PAGE_SIZE)
    answer = content_search.Answer(hits, total, n, url, lambda p: f"{mid}/canvas/{p}")
    return JSONResponse(form(answer))


@router.get("/iiif/{ident}/{page}/alto.xml")
def page_alto(request: Request, ident: UUID, page: int) -> Response:
    """The page's public words as ALTO v4 XML (pixels of the page image its boxes refer to)."""
    text = _public_page_text(request, ident, page)
    image = f"{base_url(request)}/iiif/{ident}/{page}/full/max/0/default.jpg"
    body = alto.page_alto(text, image, page)
    return Response(body, media_type="application/xml", headers=CACHE)


@router.get("/iiif/{ident}/{page}/hocr.html")
def page_hocr(request: Request, ident: UUID, page: int) -> Response:
    """The page's public words as hOCR."""
    text = _public_page_text(request, ident, page)
    return Response(derivatives.hocr(text), media_type="text/vnd.hocr+html", headers=CACHE)


@router.get("/iiif/{ident}/{page}/text.txt")
def page_text(request: Request, ident: UUID, page: int) -> Response:
    """The page's public text (masked where the image is blacked out)."""
    text = _public_page_text(request, ident, page)
    return _download(text.text.encode("utf-8"), "text/plain; charset=utf-8", ident, f"p{page}.txt")


@router.get("/iiif/{ident}/text.txt")
def document_text(request: Request, ident: UUID) -> Response:
    """Every read page's public text, pages separated by a form feed."""
    svc = services_of(request)
    capture, records = derivatives.public_document(svc, ident)
    text = derivatives.document_text(svc, capture, records)
    if text is None:
        raise HTTPException(404, "no public text until a page has been read")
    return _download(text.encode("utf-8"), "text/plain; charset=utf-8", ident, "txt")


@router.get("/iiif/{ident}/document.pdf", include_in_schema=False)
async def document_pdf(request: Request, ident: UUID) -> Response:
    """A searchable PDF of the read pages, made of the redacted page images and public words."""
    svc = services_of(request)
    capture, records = derivatives.public_document(svc, ident)
    pdf = await run_in_threadpool(derivatives.document_pdf, svc, capture, records)
    if pdf is None:
        raise HTTPException(404, "no public PDF until a page has been read")
    return _download(pdf, "application/pdf", ident, "pdf")


def _public_page_text(request: Request, ident: UUID, n: int) -> PageText:
    svc = services_of(request)
    capture, records = derivatives.public_document(svc, ident)
    found = read_page(svc, capture, n)
    text = derivatives.public_page_text(found, web_pages.restrictions(capture, records))
    if text is None:
        raise HTTPException(404, "no public text of this page (not read yet)")
    return text


def _download(body: bytes, media_type: str, ident: UUID, suffix: str) -> Response:
    name = f"sohoa-{ident}.{suffix}" if "." not in suffix else f"sohoa-{ident}-{suffix}"
    headers = {**CACHE, "Content-Disposition": f'inline; filename="{name}"'}
    return Response(body, media_type=media_type, headers=headers)


@router.get("/iiif/{ident}/thumbnail.jpg", include_in_schema=False)
async def thumbnail(request: Request, ident: UUID) -> Response:
    """The first page, small; made only from the redacted page image, so 404 until the page
    has been read (never the inspection thumbnail: it is not redacted)."""
    svc = services_of(request)
    capture, records = derivatives.public_document(svc, ident)
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
    capture, _ = derivatives.public_document(svc, ident)
    found = read_page(svc, capture, page)
    width, height = web_pages.size(svc, capture, found)
    return JSONResponse(iiif.image_info(base_url(request), capture, page, width, height))


@router.get("/iiif/{ident}/{page}/full/{size}/0/default.jpg", include_in_schema=False)
async def image(request: Request, ident: UUID, page: int, size: str) -> Response:
    """The page image; personal data on it blacked out (see `web.pages`)."""
    svc = services_of(request)
    capture, records = derivatives.public_document(svc, ident)
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

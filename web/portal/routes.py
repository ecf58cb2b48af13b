"""The public heritage portal: search, record pages, IIIF, public JSON. Nothing restricted.

Every response here is built from published records through `web.portal.records`, which uses
the public allow-list and masks text; staff see more on their own routes.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, JSONResponse, Response, StreamingResponse

from pipeline.bootstrap import Services
from search.query import QueryError
from web import pages as web_pages
from web import results as hooks
from web.auth import client_address, csrf_guard, principal
from web.portal import iiif
from web.portal.records import public_capture, public_history, public_record, record_page_data
from web.searching import PUBLIC_FACETS, build_query, run
from web.templating import render

router = APIRouter(tags=["public"], dependencies=[Depends(csrf_guard)])
CACHE = {"Cache-Control": "public, max-age=3600"}
Facets = Annotated[list[str], Query(description='filters "name=value", e.g. rank=quốc gia')]


def services_of(request: Request) -> Services:
    return request.app.state.services


def _limit(request: Request) -> None:
    """Public search is rate limited per client address (staff are not)."""
    if principal(request).login:
        return
    wait = request.app.state.search_limiter.allow(client_address(request))
    if wait:
        raise HTTPException(
            429, "too many searches; slow down", {"Retry-After": str(int(wait) + 1)}
        )


def _search(request: Request, q: str, facet: list[str], page: int, size: int) -> dict:
    _limit(request)
    try:
        query = build_query(q, "public", facet, page, size)
        return run(services_of(request), query)
    except QueryError as e:
        raise HTTPException(400, str(e)) from None


@router.get("/", response_class=HTMLResponse, include_in_schema=False)
def portal(request: Request, q: str = "", facet: Facets = [], page: int = 1) -> HTMLResponse:  # noqa: B006
    result = _search(request, q, facet, page, 20)
    return render(
        request,
        "portal.html",
        q=q,
        result=result,
        facet_names=PUBLIC_FACETS,
        map_items=map_items(result["hits"]),
        selected=set(facet),
        page=page,
    )


@router.get("/api/search")
def api_search(
    request: Request,
    q: Annotated[str, Query(description="any spelling, with or without diacritics")] = "",
    facet: Facets = [],  # noqa: B006
    page: int = 1,
    size: Annotated[int, Query(ge=1, le=100)] = 20,
) -> dict:
    """Published records only, public fields only."""
    return _search(request, q, facet, page, size)


@router.get("/records/{ident}", response_class=HTMLResponse, include_in_schema=False)
def record_page(request: Request, ident: UUID, q: str = "") -> HTMLResponse:
    svc = services_of(request)
    record = public_record(svc, ident)
    return render(
        request,
        "record.html",
        record=record_page_data(svc, record, q),
        history=public_history(svc, record),
        q=q,
    )


@router.get("/api/public/records/{ident}")
def public_record_json(request: Request, ident: UUID) -> dict:
    svc = services_of(request)
    return record_page_data(svc, public_record(svc, ident))


@router.get("/api/public/records/{ident}/history")
def public_record_history(request: Request, ident: UUID) -> list:
    svc = services_of(request)
    return public_history(svc, public_record(svc, ident))


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
    body = iiif.manifest(_base(request), capture, label, canvases)
    return JSONResponse(body, headers={"Access-Control-Allow-Origin": "*"})


@router.get("/iiif/{ident}/thumbnail.jpg", include_in_schema=False)
async def iiif_thumbnail(request: Request, ident: UUID) -> Response:
    """The first page, small; made only from the redacted page image, so 404 until the page
    has been read (never the inspection thumbnail: it is not redacted)."""
    svc = services_of(request)
    capture, records = public_capture(svc, ident)
    page = web_pages.page_of(svc, capture, 1)
    if page is None or not page.image_key:
        raise HTTPException(404, "no public thumbnail until the first page has been read")
    data = await run_in_threadpool(_public_image, svc, capture, records, page)
    body = await run_in_threadpool(web_pages.thumbnail, data, svc.settings.thumbnail_px)
    return Response(body, media_type="image/jpeg", headers=CACHE)


@router.get("/iiif/{ident}/{page}/info.json")
def image_info(request: Request, ident: UUID, page: int) -> JSONResponse:
    """IIIF Image API 3, level 0."""
    svc = services_of(request)
    capture, _ = public_capture(svc, ident)
    found = _page(svc, capture, page)
    width, height = web_pages.size(svc, capture, found)
    body = iiif.image_info(_base(request), capture, page, width, height)
    return JSONResponse(body, headers={"Access-Control-Allow-Origin": "*"})


@router.get("/iiif/{ident}/{page}/full/{size}/0/default.jpg", include_in_schema=False)
async def image(request: Request, ident: UUID, page: int, size: str) -> Response:
    """The page image; personal data on it blacked out (see `web.pages`)."""
    svc = services_of(request)
    capture, records = public_capture(svc, ident)
    found = _page(svc, capture, page)
    width, height = web_pages.size(svc, capture, found)
    if size not in ("max", f"{width},{height}", f"{width},"):
        raise HTTPException(400, "level 0: only full/max is available")
    data = await run_in_threadpool(_public_image, svc, capture, records, found)
    return Response(
        data,
        media_type="image/jpeg",
        headers={**CACHE, "Access-Control-Allow-Origin": "*"},
    )


def _public_image(svc: Services, capture, records, page: web_pages.Page) -> bytes:
    """The page image with personal data blacked out; only a read page (its text says where
    names and ID numbers are) has one."""
    if not page.image_key:
        raise HTTPException(404, "no public image until this page has been read")
    limits = web_pages.restrictions(capture, records)
    data = web_pages.image(svc, capture, page, web_pages.public_boxes(page, limits))
    if data is None:
        raise HTTPException(404, "no image of this page")
    return data


@router.get("/public/captures/{ident}/model.glb", include_in_schema=False)
def public_model(request: Request, ident: UUID, lod: str | None = None) -> Response:
    svc = services_of(request)
    capture, _ = public_capture(svc, ident)
    key = hooks.model_key(capture, lod)
    if key is None:
        raise HTTPException(404, "no 3D model yet")
    return StreamingResponse(stream_blob(svc, key), media_type="model/gltf-binary")


@router.get("/public/captures/{ident}/preview.png", include_in_schema=False)
def public_preview(request: Request, ident: UUID) -> Response:
    svc = services_of(request)
    capture, _ = public_capture(svc, ident)
    key = (capture.model or {}).get("preview_key")
    if key is None:
        raise HTTPException(404, "no preview yet")
    return Response(svc.blobs.read_bytes(key), media_type="image/png", headers=CACHE)


def stream_blob(svc: Services, key: str) -> Iterator[bytes]:
    with svc.blobs.open(key) as f:
        while chunk := f.read(1024 * 1024):
            yield chunk


def _page(svc: Services, capture, n: int) -> web_pages.Page:
    page = web_pages.page_of(svc, capture, n)
    if page is None or not page.image_key:
        raise HTTPException(404, "no public image of this page (not read yet, or no such page)")
    return page


def map_items(hits: list[dict]) -> list[dict]:
    """What the map needs of each hit (the page embeds it; keep it small)."""
    keys = ("id", "title", "url", "lat", "lon", "geometry")
    return [{k: h[k] for k in keys} for h in hits if h["lat"] is not None or h["geometry"]]


def _base(request: Request) -> str:
    return str(request.base_url).rstrip("/")

"""The public heritage portal: search, record pages, IIIF, public JSON. Nothing restricted.

Every response here is built from published records through `web.public_views`, which uses
the public allow-list and masks text; staff see more on their own routes.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, JSONResponse, Response, StreamingResponse

from pipeline.bootstrap import Services
from pipeline.redaction import owner_names
from search.query import QueryError
from web import hooks, iiif
from web.auth import client_address, principal
from web.public_views import (
    IMAGE_TYPES,
    capture_data,
    public_capture,
    public_history,
    public_record,
    record_page_data,
)
from web.searching import PUBLIC_FACETS, build_query, run
from web.templating import render

router = APIRouter(tags=["public"])
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
        record=record_page_data(svc, record),
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
    """IIIF Presentation 3 manifest of a published capture."""
    svc = services_of(request)
    capture, records = public_capture(svc, ident)
    names = [n for r in records for n in owner_names(r.attributes)]
    data = capture_data(svc, capture, names, public=True)
    label = str(records[0].attributes.get("name") or capture.meta.get("title") or capture.id)
    body = iiif.manifest(_base(request), capture, label, data["pages"], data["texts"])
    return JSONResponse(body, headers={"Access-Control-Allow-Origin": "*"})


@router.get("/iiif/{ident}/thumbnail.jpg", include_in_schema=False)
def iiif_thumbnail(request: Request, ident: UUID) -> Response:
    svc = services_of(request)
    capture, _ = public_capture(svc, ident)
    if capture.thumbnail_key is None:
        raise HTTPException(404, "no thumbnail yet")
    return Response(svc.blobs.read_bytes(capture.thumbnail_key), media_type="image/jpeg")


@router.get("/iiif/{ident}/{page}/info.json")
def image_info(request: Request, ident: UUID, page: int) -> JSONResponse:
    """IIIF Image API 3, level 0."""
    capture = _page(request, ident, page)
    body = iiif.image_info(_base(request), capture, page)
    return JSONResponse(body, headers={"Access-Control-Allow-Origin": "*"})


@router.get("/iiif/{ident}/{page}/full/{size}/0/default.jpg", include_in_schema=False)
async def image(request: Request, ident: UUID, page: int, size: str) -> Response:
    capture = _page(request, ident, page)
    width, height = iiif.page_size(capture)
    if size not in ("max", f"{width},{height}", f"{width},"):
        raise HTTPException(400, "level 0: only full/max is available")
    if capture.media_type not in IMAGE_TYPES:
        if page != 1 or capture.thumbnail_key is None:
            raise HTTPException(404, "no image of this page")
        data = services_of(request).blobs.read_bytes(capture.thumbnail_key)
    else:
        data = await run_in_threadpool(iiif.render_page, services_of(request).blobs, capture, page)
    return Response(
        data, media_type="image/jpeg", headers={"Cache-Control": "public, max-age=3600"}
    )


@router.get("/public/captures/{ident}/model.glb", include_in_schema=False)
def public_model(request: Request, ident: UUID) -> Response:
    svc = services_of(request)
    capture, _ = public_capture(svc, ident)
    key = hooks.model_key(capture)
    if key is None:
        raise HTTPException(404, "no 3D model yet")
    return StreamingResponse(stream_blob(svc, key), media_type="model/gltf-binary")


def stream_blob(svc: Services, key: str) -> Iterator[bytes]:
    with svc.blobs.open(key) as f:
        while chunk := f.read(1024 * 1024):
            yield chunk


def _page(request: Request, ident: UUID, page: int):
    capture, _ = public_capture(services_of(request), ident)
    pages = capture.inspection.get("pages") or 1
    if not 1 <= page <= (pages if capture.media_type in IMAGE_TYPES else 1):
        raise HTTPException(404, "no such page")
    return capture


def map_items(hits: list[dict]) -> list[dict]:
    """What the map needs of each hit (the page embeds it; keep it small)."""
    keys = ("id", "title", "url", "lat", "lon", "geometry")
    return [{k: h[k] for k in keys} for h in hits if h["lat"] is not None or h["geometry"]]


def _base(request: Request) -> str:
    return str(request.base_url).rstrip("/")

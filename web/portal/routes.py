"""The public heritage portal: search, record pages, IIIF, public JSON. Nothing restricted.

Every response here is built from published records through `web.portal.records`, which uses
the public allow-list and masks text; staff see more on their own routes.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated
from urllib.parse import urlencode
from uuid import UUID

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response, StreamingResponse

from pipeline.bootstrap import Services
from search.query import QueryError
from web import results as hooks
from web.auth import client_address, csrf_guard, principal
from web.portal.records import (
    page_words,
    public_capture,
    public_history,
    public_record,
    record_page_data,
    thumbnails,
)
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
    result = _search(request, q, facet, page, PAGE_SIZE)
    return render(
        request,
        "portal.html",
        q=q,
        result=result,
        facets=facet_groups(request, result["facets"], facet),
        thumbnails=thumbnails(services_of(request), result["hits"]),
        map_items=map_items(result["hits"]),
        selected=set(facet),
        page=page,
        pages=pages_of(request, result["total"], page),
    )


PAGE_SIZE = 20


def facet_groups(request: Request, counts: dict, selected: list[str]) -> list[dict]:
    """Each public facet's values with their counts and the link that adds (or, when chosen,
    removes) that one filter, keeping the others and the query."""
    base = request.url
    kept = [(k, v) for k, v in request.query_params.multi_items() if k not in ("facet", "page")]
    groups = []
    for name in PUBLIC_FACETS:
        values = []
        for value, n in (counts.get(name) or {}).items():
            f = f"{name}={value}"
            chosen = [x for x in selected if x != f] if f in selected else [*selected, f]
            query = urlencode([*kept, *(("facet", x) for x in chosen)])
            href = str(base.replace(query=query))
            values.append({"value": value, "n": n, "on": f in selected, "href": href})
        if values:
            groups.append({"name": name, "values": values})
    return groups


def pages_of(request: Request, total: int, page: int) -> dict:
    """Links to the previous and next result pages (None where there is none)."""
    last = max(1, -(-total // PAGE_SIZE))
    link = lambda n: str(request.url.include_query_params(page=n))  # noqa: E731
    return {
        "page": page,
        "last": last,
        "prev": link(page - 1) if page > 1 else None,
        "next": link(page + 1) if page < last else None,
    }


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


@router.get("/api/public/captures/{ident}/pages/{n}/words")
def public_page_words(request: Request, ident: UUID, n: int) -> JSONResponse:
    """A public page's recognised words and their boxes (fractions of the page's width), for
    the viewer's selectable text layer; redacted words are left out."""
    svc = services_of(request)
    capture, records = public_capture(svc, ident)
    return JSONResponse(page_words(svc, capture, records, n), headers=CACHE)


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


def map_items(hits: list[dict]) -> list[dict]:
    """What the map needs of each hit (the page embeds it; keep it small)."""
    keys = ("id", "title", "url", "lat", "lon", "geometry")
    return [{k: h[k] for k in keys} for h in hits if h["lat"] is not None or h["geometry"]]

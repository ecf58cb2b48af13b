"""The land officer console: parcel lookup, parcel pages as of a date, owner-name search.

Everything here shows restricted data, so every response that contains any records an audit
event (who, which record, which attributes, when) before it is sent.
"""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import HTMLResponse

from models.disclosure import Part, capture_parts
from models.errors import NotFoundError
from pipeline.bootstrap import Services
from pipeline.presenters import fields_view, jsonable, record_view
from pipeline.usecases.accounts import Principal
from search.documents import record_title, wgs84_geometry
from search.query import Query as SearchQuery
from search.query import QueryError
from web.auth import Officer, csrf_guard
from web.land.lookup import LookupProblemError, find_parcels, moment, parcel_as_of
from web.portal.records import capture_data
from web.searching import run
from web.staff.reads import audit, audit_record
from web.templating import render

router = APIRouter(tags=["land officers"], dependencies=[Depends(csrf_guard)])


def _svc(request: Request) -> Services:
    return request.app.state.services


@router.get("/land", response_class=HTMLResponse, include_in_schema=False)
def console(
    request: Request,
    who: Officer,
    unit: str = "",
    sheet: str = "",
    number: str = "",
    owner: str = "",
) -> HTMLResponse:
    parcels, problem, owners = [], None, None
    try:
        if unit and sheet and number:
            parcels = find_parcels(_svc(request), unit, sheet, number)
        if owner:
            owners = _owner_search(request, who, owner)
    except (LookupProblemError, QueryError) as e:
        problem = str(e)
    return render(
        request,
        "land.html",
        unit=unit,
        sheet=sheet,
        number=number,
        owner=owner,
        parcels=parcels,
        owners=owners,
        problem=problem,
        searched=bool(unit and sheet and number),
    )


@router.get("/api/land/parcels")
def lookup(
    request: Request,
    who: Officer,
    unit: Annotated[str, Query(max_length=200, description="old or new unit name, or code")],
    sheet: Annotated[str, Query(max_length=20)],
    number: Annotated[str, Query(max_length=20)],
) -> list[dict]:
    try:
        return find_parcels(_svc(request), unit, sheet, number)
    except LookupProblemError as e:
        raise HTTPException(400, str(e)) from None


def _parcel(request: Request, who: Principal, ident: UUID, on: str, at: str) -> dict[str, Any]:
    try:
        when = moment(on, at, request.app.state.config.time_zone)
    except LookupProblemError as e:
        raise HTTPException(400, str(e)) from None
    svc = _svc(request)
    record = parcel_as_of(svc, ident, when)
    current = svc.store.record(ident)
    if record is None:
        return {"id": str(ident), "as_of": when, "record": None, "title": record_title(current)}
    audit_record(request, who, record, "parcel page")
    view = record_view(record)
    view["geometry_wgs84"] = wgs84_geometry(record.geometry)
    return jsonable(
        {
            "id": str(ident),
            "as_of": when,
            "title": record_title(record),
            "record": view,
            "documents": [str(c) for c in record.captures],
        }
    )


@router.get("/land/parcels/{ident}", response_class=HTMLResponse, include_in_schema=False)
def parcel_page(
    request: Request, who: Officer, ident: UUID, on: str = "", at: str = ""
) -> HTMLResponse:
    data = _parcel(request, who, ident, on, at)
    return render(
        request, "parcel.html", parcel=data, on=on, at=at, documents=_documents(request, data)
    )


def _documents(request: Request, data: dict[str, Any]) -> list[dict[str, Any]]:
    """The parcel's documents with their page images and text, unredacted: officers see the
    certificates as they are; each image they load is an audited read (`routes_review`)."""
    svc = _svc(request)
    record = svc.store.record(UUID(data["id"]))
    out = []
    for cid in data.get("documents") or []:
        try:
            capture = svc.store.capture(UUID(cid))
        except NotFoundError:
            continue
        shown = capture_data(svc, capture, [record], public=False)
        shown["name"] = capture.original_names[0]
        shown["fields"] = fields_view(capture) if capture.fields else None
        if shown["fields"]:
            parts = capture_parts(capture, False)
            audit(request, request.state.principal, capture.id, parts, "parcel page documents")
        out.append(shown)
    return out


@router.get("/api/land/parcels/{ident}")
def parcel_json(request: Request, who: Officer, ident: UUID, on: str = "", at: str = "") -> dict:
    """The parcel with every attribute (restricted ones too), now or as of `on` [`at`]."""
    return _parcel(request, who, ident, on, at)


@router.get("/api/land/owners")
def owner_search(
    request: Request, who: Officer, name: Annotated[str, Query(min_length=2, max_length=200)]
) -> dict:
    """Parcels by owner name (any spelling): officers only; every hit shown is audited."""
    try:
        return {"hits": _owner_search(request, who, name)}
    except QueryError as e:
        raise HTTPException(400, str(e)) from None


def _owner_search(request: Request, who: Principal, name: str) -> list[dict]:
    query = SearchQuery(text=name, role="officer", filters={"kind": ["parcel"]}, limit=50)
    hits = run(_svc(request), query)["hits"]
    out = []
    for h in hits:
        owner = h["fields"].get("owner") or h["fields"].get("owners")
        if owner:
            audit(request, who, h["id"], ["owner", Part.OWNERS], f"owner search {name!r}")
        out.append(
            {"id": h["id"], "title": h["title"], "owner": owner, "url": f"/land/parcels/{h['id']}"}
        )
    return out

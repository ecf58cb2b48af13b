"""The land officer console: parcel lookup, parcel pages as of a date, owner-name search.

Everything here shows restricted data, so every response that contains any records an audit
event (who, which record, which attributes, when) before it is sent.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path as FilePath
from typing import Annotated, Any
from urllib.parse import quote
from uuid import UUID

from fastapi import APIRouter, Depends, Form, HTTPException, Query, Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from starlette.background import BackgroundTask

from models.disclosure import Part, capture_parts
from models.errors import NotFoundError, NotYetRecordedError
from models.ids import ParcelKey
from models.places.lineage import label
from pipeline.bootstrap import Services
from pipeline.presenters import capture_title, fields_view, jsonable
from pipeline.usecases.accounts import Principal
from pipeline.usecases.export import export_parcels
from pipeline.usecases.lineage import parcel_on
from search.documents import record_title, wgs84_geometry
from search.query import Query as SearchQuery
from search.query import QueryError
from web.auth import Officer, csrf_guard
from web.i18n import lang_of, translator
from web.land.changes import ChangeForm, ChangeProblemError, lines, record_change_of
from web.land.lineage import lineage_svg, timeline_entries
from web.land.lookup import LookupProblemError, find_parcels, moment, valid_day
from web.land.sources import value_sources
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


def _parcel(
    request: Request, who: Principal, ident: UUID, on: str, recorded: str, at: str
) -> dict[str, Any]:
    """The parcel valid on `on` (effective date; none: its current facts), as recorded by
    `recorded` [`at`] (none: now)."""
    try:
        valid_on = valid_day(on)
        when = moment(recorded, at, request.app.state.config.time_zone)
    except LookupProblemError as e:
        raise HTTPException(400, str(e)) from None
    svc = _svc(request)
    current = svc.store.record(ident)
    times = {"valid_on": valid_on, "recorded_as_of": when, "as_of": when}
    try:
        shown = parcel_on(svc.store, ident, valid_on=valid_on, recorded_as_of=when)
    except NotYetRecordedError:
        return jsonable({"id": str(ident), **times, "record": None, "title": record_title(current)})
    audit_record(request, who, shown.record, "parcel page")
    view = shown.view
    view["geometry_wgs84"] = wgs84_geometry(view["geometry"])
    cited = [c.get("capture_id") or c["basis"].get("capture_id") for c in view["timeline"]]
    documents = [str(c) for c in shown.record.captures]
    documents += [c for c in dict.fromkeys(cited) if c and c not in documents]
    return jsonable(
        {
            "id": str(ident),
            **times,
            "title": record_title(shown.record),
            "record": view,
            "documents": documents,
        }
    )


@router.get("/land/parcels/{ident}", response_class=HTMLResponse, include_in_schema=False)
def parcel_page(
    request: Request,
    who: Officer,
    ident: UUID,
    on: str = "",
    recorded: str = "",
    at: str = "",
    problem: str = "",
) -> HTMLResponse:
    data = _parcel(request, who, ident, on, recorded, at)
    return _page(request, data, on, recorded, at, problem)


def _page(
    request: Request, data: dict, on: str, recorded: str, at: str, problem: str = ""
) -> HTMLResponse:
    documents = _documents(request, data)
    record = data["record"]
    graph = timeline = sources = None
    if record is not None:
        t = translator(lang_of(request))
        this = label(ParcelKey.from_record_key(record["key"]))
        graph = lineage_svg(data["id"], this, record["lineage"], on, t)
        timeline = timeline_entries(record["timeline"], {d["id"] for d in documents})
        sources = value_sources(
            _svc(request),
            record,
            _svc(request).store.history(UUID(data["id"])),
            request.state.principal.role,
            t,
            request.app.state.config.time_zone,
        )
    return render(
        request,
        "parcel.html",
        parcel=data,
        on=on,
        recorded=recorded,
        at=at,
        documents=documents,
        graph=graph,
        timeline=timeline,
        sources=sources,
        problem=problem,
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
        shown["name"] = capture_title(capture)
        shown["fields"] = fields_view(capture) if capture.fields else None
        if shown["fields"]:
            parts = capture_parts(capture, False)
            audit(request, request.state.principal, capture.id, parts, "parcel page documents")
        out.append(shown)
    return out


@router.get("/api/land/parcels/{ident}")
def parcel_json(
    request: Request, who: Officer, ident: UUID, on: str = "", recorded: str = "", at: str = ""
) -> dict:
    """The parcel with every attribute (restricted ones too), its lineage and timeline: the
    land facts in force on `on` (effective date), as recorded by `recorded` [`at`]."""
    return _parcel(request, who, ident, on, recorded, at)


@router.post("/land/parcels/{ident}/changes", include_in_schema=False)
def change_form(
    request: Request,
    who: Officer,
    ident: UUID,
    kind: Annotated[str, Form(pattern="^(split|merge|renumber)$")],
    into: Annotated[str, Form(max_length=4000)],
    effective: Annotated[str, Form(max_length=10)],
    basis: Annotated[str, Form(min_length=1, max_length=2000)],
    merge_with: Annotated[str, Form(max_length=4000)] = "",
    basis_capture: Annotated[str, Form(max_length=64)] = "",
) -> Response:
    """Record a split, merge or renumbering of this parcel (works without JavaScript)."""
    change = ChangeForm(
        kind=kind, into=lines(into), merge_with=lines(merge_with), effective=effective, basis=basis
    )
    try:
        warning = _record_change(request, who, ident, change, basis_capture)
    except ChangeProblemError as e:
        # back to the parcel page with the rule broken (post/redirect/get: an error answer
        # never carries the parcel's restricted values)
        return RedirectResponse(f"/land/parcels/{ident}?problem={quote(str(e))}", 303)
    url = f"/land/parcels/{ident}?on={change.effective}"
    return RedirectResponse(url + (f"&problem={quote(warning)}" if warning else ""), 303)


@router.post("/api/land/parcels/{ident}/changes")
def change_json(request: Request, who: Officer, ident: UUID, body: ChangeForm) -> dict:
    """Record a split, merge or renumbering of this parcel; 400 names the rule broken."""
    try:
        warning = _record_change(request, who, ident, body, body.basis_capture)
    except ChangeProblemError as e:
        raise HTTPException(400, str(e)) from None
    return {"recorded": body.kind, "warning": warning}


def _record_change(
    request: Request, who: Principal, ident: UUID, form: ChangeForm, basis_capture: str
) -> str | None:
    svc = _svc(request)
    parcel = svc.store.record(ident)
    if parcel.kind != "parcel":  # as for any id that is not a parcel's: not found here
        raise HTTPException(404, "no such parcel")
    return record_change_of(
        svc.store,
        parcel,
        form,
        basis_capture=basis_capture,
        recorded_by=who.login or "officer",
        tolerance=svc.settings.split_area_tolerance,
    )


@router.get("/api/land/export/parcels")
def export(
    request: Request,
    who: Officer,
    fmt: Annotated[str, Query(alias="format", pattern="^(gpkg|geojson)$")] = "geojson",
    on: str = "",
) -> FileResponse:
    """Every parcel for the land database (as `sohoa export parcels --role officer`): VBDLIS
    names, lineage and provenance, the restricted columns too; one audited read."""
    try:
        valid_on = valid_day(on)
    except LookupProblemError as e:
        raise HTTPException(400, str(e)) from None
    folder = FilePath(tempfile.mkdtemp(prefix="sohoa-export-"))
    path = folder / f"parcels.{fmt}"
    export_parcels(_svc(request).store, path, fmt, role="officer", valid_on=valid_on)
    audit(request, who, f"export:{path.name}", [Part.RESTRICTED_ATTRIBUTES], "parcel export")
    cleanup = BackgroundTask(shutil.rmtree, folder, ignore_errors=True)
    media = "application/geopackage+sqlite3" if fmt == "gpkg" else "application/geo+json"
    return FileResponse(path, media_type=media, filename=path.name, background=cleanup)


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

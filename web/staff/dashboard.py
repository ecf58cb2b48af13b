"""The digitisation dashboard for archivists and managers: a page of charts drawn in the
browser (Chart.js) from one JSON API, and the upload of certificate targets per ward."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import HTMLResponse

from pipeline.bootstrap import Services
from pipeline.usecases.stats import DateRange, Targets, _today, dashboard, read_targets
from web.auth import Staff, csrf_guard
from web.templating import render

router = APIRouter(tags=["staff"], dependencies=[Depends(csrf_guard)])
MAX_TARGETS_BYTES = 1024 * 1024
TARGETS_FILE = "dashboard-targets.csv"
"""An uploaded targets CSV, kept in the data folder (it wins over SOHOA_TARGETS_CSV)."""


def _svc(request: Request) -> Services:
    return request.app.state.services


def targets_of(svc: Services) -> Targets:
    """The uploaded targets, else those of SOHOA_TARGETS_CSV, else none."""
    uploaded = svc.settings.data_dir / TARGETS_FILE
    path = uploaded if uploaded.exists() else Path(svc.settings.targets_csv or "/nonexistent")
    if not path.is_file():
        return Targets()
    gazetteer = svc.gazetteer if svc.settings.gazetteer_dir else None
    return read_targets(path.read_text(encoding="utf-8-sig"), gazetteer)


@router.get("/staff/dashboard", response_class=HTMLResponse, include_in_schema=False)
def dashboard_page(request: Request, who: Staff) -> HTMLResponse:
    return render(request, "dashboard.html")


@router.get("/api/staff/dashboard")
def dashboard_data(
    request: Request,
    who: Staff,
    since: str | None = None,
    until: str | None = None,
    unit: str | None = None,
) -> dict:
    """Counts for the charts: per day (per month past 400 days), by collection and unit,
    certificates against targets per ward, backlog by age, OCR confidence, review workload and
    failures. `unit` is a unit key (`2025:00004`); dates are ISO (default: the last 30 days)."""
    try:
        span = DateRange.parse(since, until, _today())
    except ValueError as e:
        raise HTTPException(400, str(e)) from None
    svc = _svc(request)
    targets = targets_of(svc)
    data = dashboard(svc, span, unit=unit or None, targets=targets)
    data["target_problems"] = targets.problems
    return data


@router.post("/api/staff/dashboard/targets")
async def upload_targets(request: Request, who: Staff) -> dict:
    """A targets CSV as the request body (`unit_code,target` per line): lines with unknown
    unit codes are reported by number, the others applied."""
    body = await request.body()
    if len(body) > MAX_TARGETS_BYTES:
        raise HTTPException(413, f"a targets file is at most {MAX_TARGETS_BYTES} bytes")
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise HTTPException(400, "a targets file is UTF-8 text") from None
    svc = _svc(request)
    targets = read_targets(text, svc.gazetteer if svc.settings.gazetteer_dir else None)
    if targets.by_unit:
        (svc.settings.data_dir / TARGETS_FILE).write_text(
            "".join(f"{k.split(':')[-1]},{v}\n" for k, v in targets.by_unit.items()),
            encoding="utf-8",
        )
    return {"applied": len(targets.by_unit), "problems": targets.problems}

"""Staff: the home page (recent captures, the queue, failures, a search) and the audit page.

Uploads are `web.staff.uploads`; a capture's page and API `web.staff.captures`; a record's
`web.staff.records`.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import HTMLResponse

from pipeline.bootstrap import Services
from pipeline.usecases.accounts import audit_entries
from search.query import QueryError
from web.auth import Archivist, csrf_guard
from web.searching import build_query, run
from web.staff import review
from web.templating import render

router = APIRouter(tags=["staff"], dependencies=[Depends(csrf_guard)])


def _svc(request: Request) -> Services:
    return request.app.state.services


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


@router.get("/staff/audit", response_class=HTMLResponse, include_in_schema=False)
def audit_page(request: Request, who: Archivist, unlocked: str = "") -> HTMLResponse:
    """Restricted reads and refused sign-ins, newest first; a form to unlock a login."""
    entries = audit_entries(_svc(request).store)
    return render(request, "audit.html", entries=entries, unlocked=unlocked[:200])

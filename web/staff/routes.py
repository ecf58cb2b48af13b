"""Staff: the home page (recent captures, the queue, failures, a search) and the audit page.

Uploads are `web.staff.uploads`; a capture's page and API `web.staff.captures`; a record's
`web.staff.records`.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import HTMLResponse

from pipeline.bootstrap import Services
from pipeline.usecases.accounts import audit_entries
from search.query import QueryError
from web.auth import Archivist, csrf_guard
from web.searching import build_query, run
from web.staff.reads import capture_list
from web.templating import render

router = APIRouter(tags=["staff"], dependencies=[Depends(csrf_guard)])


def _svc(request: Request) -> Services:
    return request.app.state.services


# -- pages -------------------------------------------------------------------------------


@router.get("/staff", response_class=HTMLResponse, include_in_schema=False)
def staff_home(
    request: Request,
    who: Archivist,
    q: str = "",
    page: int = Query(1, ge=1),
    queue_page: int = Query(1, ge=1),
    failed_page: int = Query(1, ge=1),
) -> HTMLResponse:
    """Uploads, a records search, and the capture lists (pending, failed, recent), each a
    page at a time from the captures projection."""
    svc = _svc(request)
    records = None
    if q:
        try:
            records = run(svc, build_query(q, "officer", [], 1, 50))["hits"]
        except QueryError as e:
            raise HTTPException(400, str(e)) from None
    return render(
        request,
        "staff.html",
        captures=_paged(request, "page", capture_list(svc, None, page)),
        queue=_paged(request, "queue_page", capture_list(svc, "pending", queue_page)),
        failures=_paged(request, "failed_page", capture_list(svc, "failed", failed_page)),
        records=records,
        q=q,
    )


SECTIONS = {"page": "recent", "queue_page": "queue", "failed_page": "failures"}
"""The staff home's page parameters and the section each one pages."""


def _paged(request: Request, param: str, listing: dict) -> dict:
    """The listing with links to its previous and next pages (the other lists stay put)."""
    page = listing["page"]

    def link(n: int) -> str:
        url = request.url.include_query_params(**{param: n})
        return f"{url.path}?{url.query}#{SECTIONS[param]}"

    return listing | {
        "prev": link(page - 1) if page > 1 else None,
        "next": link(page + 1) if page < listing["pages"] else None,
    }


@router.get("/staff/audit", response_class=HTMLResponse, include_in_schema=False)
def audit_page(request: Request, who: Archivist, unlocked: str = "") -> HTMLResponse:
    """Restricted reads and refused sign-ins, newest first; a form to unlock a login."""
    entries = audit_entries(_svc(request).store)
    return render(request, "audit.html", entries=entries, unlocked=unlocked[:200])

"""Stable citation URLs: a record's is its page (`/records/{id}`), a page's is
`/records/{id}/pages/{capture}/{n}`, which leads to that page on the record page.

Ids are derived from natural keys and never reused, so these URLs stay valid as long as the
record stays published; a record withdrawn, or a capture no longer public, is 404 like any id
that does not exist.
"""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import RedirectResponse

from web import pages as web_pages
from web.auth import csrf_guard
from web.portal import derivatives
from web.portal.records import public_record
from web.portal.routes import services_of

router = APIRouter(tags=["public"], dependencies=[Depends(csrf_guard)])


@router.get("/records/{ident}/pages/{capture_id}/{n}", include_in_schema=False)
def page_citation(request: Request, ident: UUID, capture_id: UUID, n: int) -> RedirectResponse:
    """A page's citation URL: to the record page, at that page."""
    svc = services_of(request)
    record = public_record(svc, ident)
    if capture_id not in record.captures:
        raise HTTPException(404, "no such document on this record")
    found, _ = derivatives.public_document(svc, capture_id)
    if not any(p.n == n for p in web_pages.pages(svc, found, with_text=False)):
        raise HTTPException(404, "no such page in this document")
    return RedirectResponse(f"/records/{ident}#page-{capture_id}-{n}", status_code=303)

"""The archivists' review queue of certificate fields, for the staff pages and the CLI: a page
of the queue and the next certificate waiting (from the captures projection's review table,
`pipeline.projections.review`), and a typed value read as its field's type.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from pipeline.bootstrap import Services
from pipeline.projections.captures import current
from pipeline.projections.review import PAGE_SIZE


def review_queue(svc: Services, page: int = 1, size: int = PAGE_SIZE) -> dict[str, Any]:
    """One page of the land certificates read, weakest first (fields waiting for a person
    first, then the lowest confidence among fields nobody has looked at), from the captures
    projection's review table, with the queue's figures: `{"rows", "figures", "total",
    "page", "size", "pages"}`. Titles and counts only: nothing to audit."""
    tables = current(svc)
    found = tables.review_figures()
    figures = {**found, "needs_review": found.pop("waiting")}
    page = max(page, 1)
    return {
        "rows": [_queue_row(r) for r in tables.review_page(page, size)],
        "figures": figures,
        "total": figures["certificates"],
        "page": page,
        "size": size,
        "pages": max(1, -(-figures["certificates"] // size)),
    }


def _queue_row(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": row["capture_id"],
        "name": row["title"],
        "needs_review": int(row["waiting"]),
        "accepted": int(row["accepted"]),
        "corrected": int(row["corrected"]),
        "left_blank": int(row["left_blank"]),
        "read": int(row["read"]),
        "weakest": None if row["weakest"] is None else float(row["weakest"]),
    }


def next_in_queue(svc: Services, after: str) -> str | None:
    """The weakest certificate still needing review other than `after`, for the "next" link
    once one is done."""
    return current(svc).next_waiting(after)


def same_certificate(svc: Services, capture_id: str) -> list[dict[str, Any]]:
    """The other photos of this one's certificate, most likely, for a photo that holds no
    parcel fields (page 1 with the owners, page 4 with the changes) to join their parcel:
    the certificates received just before and after it whose own reading named a parcel
    (never a photo that joined one), those after first for a photo of page 1 (a booklet is
    photographed page 1, pages 2–3, page 4), those before first otherwise.
    `[{"id", "name", "parcel"}]`."""
    from pipeline.presenters import field_status
    from pipeline.usecases.certificates import parcel_status

    tables = current(svc)
    capture = svc.store.capture(UUID(capture_id))
    first_page = "I" in ((capture.fields or {}).get("result") or {}).get("pages", [])
    rows = tables.review.neighbours(tables.query, capture_id)
    out = []
    for row in sorted(rows, key=lambda r: r["before"] == first_page):  # stable: nearest first
        other = svc.store.capture(UUID(row["capture_id"]))
        if field_status(other).get("parcel_number", {}).get("machine") is None:
            continue
        parcel = parcel_status(svc, other)
        if parcel["id"]:
            out.append({"id": row["capture_id"], "name": row["title"], "parcel": parcel})
    return out


NUMERIC_FIELDS = frozenset({"area_m2"})


def parse_value(name: str, text: str, current: Any) -> Any:
    """A form's text as the type of the field's value (numbers stay numbers: "120,5" → 120.5)."""
    text = text.strip()
    numeric = name in NUMERIC_FIELDS or (
        isinstance(current, (int, float)) and not isinstance(current, bool)
    )
    if not numeric:
        return text
    try:
        number = float(text.replace(" ", "").replace(",", "."))
    except ValueError:
        return text
    return int(number) if isinstance(current, int) and number.is_integer() else number

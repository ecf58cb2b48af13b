"""What the portal shows of records and captures: only published, only public fields.

A record id that is missing, unpublished, or not a record at all gives the same 404, so the
portal does not reveal which ids exist. A capture is public only through a published record,
and never when it is a land certificate. Pages of a public capture are still redacted: names
of linked records' owners and ID numbers are masked in text and blacked out on the page image
(by their word boxes), and so are the boxes a certificate's fields name (`web.pages`).
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from fastapi import HTTPException

from models.capture import Capture
from models.disclosure import PUBLIC_ATTRIBUTES, capture_is_public
from models.errors import NotFoundError
from models.record import RESTRICTED_ATTRIBUTES, Record
from pipeline.bootstrap import Services
from pipeline.presenters import jsonable, page_review
from pipeline.redaction import public_attributes
from search.documents import record_title, wgs84_geometry
from web import pages as web_pages
from web import results as hooks


def public_record(services: Services, ident: UUID) -> Record:
    try:
        record = services.store.record(ident)
    except NotFoundError:
        record = None
    if record is None or not record.published:
        raise HTTPException(404, "no published record with that id")
    return record


def public_capture(services: Services, ident: UUID) -> tuple[Capture, list[Record]]:
    """The capture and its published records, or 404 (the search index's rule: linked to a
    published site or document and to no parcel; never a land certificate)."""
    try:
        capture = services.store.capture(ident)
    except NotFoundError:
        raise HTTPException(404, "no public capture with that id") from None
    records = []
    for rid in capture.links:
        try:
            records.append(services.store.record(rid))
        except NotFoundError:
            continue
    if not capture_is_public(records, capture.kind):
        raise HTTPException(404, "no public capture with that id")
    return capture, [r for r in records if r.published]


def record_page_data(services: Services, record: Record, query: str = "") -> dict[str, Any]:
    captures = []
    for cid in record.captures:
        try:
            capture, records = public_capture(services, cid)
        except HTTPException:
            continue
        captures.append(capture_data(services, capture, records, public=True, query=query))
    return jsonable(
        {
            "id": record.id,
            "kind": record.kind,
            "title": record_title(record),
            "attributes": public_attributes(record),
            "geometry": wgs84_geometry(record.geometry),
            "captures": captures,
            "version": record.version,
            "modified_at": record.modified_on,
        }
    )


def capture_data(
    services: Services,
    capture: Capture,
    records: list[Record],
    public: bool,
    query: str = "",
) -> dict[str, Any]:
    """What a record or capture page shows of a capture: each page's image URL and text (for
    the public, masked and blacked out), where the query's words are on the image, the model."""
    limits = web_pages.restrictions(capture, records) if public else None
    shown = [
        _page_entry(capture, page, limits, query) for page in web_pages.pages(services, capture)
    ]
    return {
        "id": str(capture.id),
        "kind": capture.kind,
        "media_type": capture.media_type,
        "pages": shown,
        "texts": [p["text"] or "" for p in shown] if capture.text else None,
        "model": model_data(capture, public),
        "manifest": f"/iiif/{capture.id}/manifest.json",
    }


def _page_entry(
    capture: Capture, page: web_pages.Page, limits: web_pages.Restrictions | None, query: str
) -> dict[str, Any]:
    if limits is None:
        text, hidden = web_pages.staff_text(page), []
    else:
        text, hidden = web_pages.public_text(page, limits), web_pages.public_boxes(page, limits)
    has_image = web_pages.has_image(capture, page)
    image = image_url(capture, page.n, limits is not None) if has_image else None
    if limits is not None and has_image and not page.image_key:
        image = UNREAD  # public images come only from read pages, redacted
    return {
        "n": page.n,
        "status": page.status,
        "image": image,
        "text": text,
        "mean_conf": page.outcome.get("mean_conf"),
        "source": page.outcome.get("source"),
        "engine": page.outcome.get("engine"),
        "lang": page.outcome.get("lang"),
        "error": page.outcome.get("message"),
        "marks": web_pages.marks(page, query, hidden) if query else [],
        # staff only: what the reading skipped and which lines it read dimly
        "review": page_review(page.text) if limits is None and page.text is not None else None,
    }


UNREAD = "/static/unread.svg"
"""What the public sees of a page not read yet: its redacted image does not exist."""


def image_url(capture: Capture, n: int, public: bool) -> str:
    if public:
        return f"/iiif/{capture.id}/{n}/full/max/0/default.jpg"
    return f"/api/captures/{capture.id}/pages/{n}/image.jpg"


MODEL_METRICS = (
    "faces",
    "points",
    "bbox_m",
    "surface_area_m2",
    "volume_m3",
    "rmse_m",
    "fitness",
    "registered_images",
    "images",
    "reprojection_error_px",
)


SIZES = ("bbox_m", "surface_area_m2", "volume_m3")


def _shown(metrics: dict[str, Any], name: str) -> bool:
    """A metric worth showing: sizes only when the model's scale is known (a photo set with
    neither GPS nor a `scale` parameter is in arbitrary units, not metres)."""
    if metrics.get(name) is None:
        return False
    return not (name in SIZES and metrics.get("scale_known") is False)


def model_data(capture: Capture, public: bool) -> dict[str, Any] | None:
    """The viewer's GLB (a web level of detail when there is one), poster and metrics."""
    if not hooks.may_have_model(capture):
        return None
    lod = hooks.web_lod(capture)
    src = hooks.model_url(capture, public) + (f"?lod={lod}" if lod else "")
    model = capture.model or {}
    metrics = model.get("metrics") or {}
    poster = None
    if model.get("preview_key"):
        poster = (
            f"/public/captures/{capture.id}/preview.png"
            if public
            else f"/api/captures/{capture.id}/preview.png"
        )
    return {
        "src": src,
        "lod": lod,
        "poster": poster,
        "method": model.get("method"),
        "run": model.get("run"),
        "metrics": {k: metrics[k] for k in MODEL_METRICS if _shown(metrics, k)},
    }


def public_history(services: Services, record: Record) -> list[dict[str, Any]]:
    """The record's timeline with only public values (event names and dates are public)."""
    allowed = PUBLIC_ATTRIBUTES.get(record.kind, frozenset()) - RESTRICTED_ATTRIBUTES
    out = []
    for e in services.store.history(record.id):
        name = e.event.split(".")[-1]
        entry: dict[str, Any] = {"version": e.version, "timestamp": e.timestamp, "event": name}
        if name == "AttributesRecorded":
            attrs = e.data.get("attributes", {})
            entry["attributes"] = {k: v for k, v in attrs.items() if k in allowed}
            entry["hidden"] = len([k for k in attrs if k not in allowed])
        out.append(entry)
    return jsonable(out)


def thumbnails(services: Services, hits: list[dict[str, Any]]) -> dict[str, str]:
    """A result's picture: the first page of its (first public) capture, as the IIIF route
    serves it, redacted; hits without one get none (the page shows the kind instead)."""
    out = {}
    for hit in hits:
        if hit["kind"] == "capture":
            out[hit["id"]] = f"/iiif/{hit['id']}/thumbnail.jpg"
            continue
        if hit["kind"] == "parcel" or not hit["fields"].get("has_documents"):
            continue
        try:
            record = services.store.record(UUID(hit["id"]))
        except (NotFoundError, ValueError):
            continue
        for cid in record.captures:
            try:
                public_capture(services, cid)
            except HTTPException:
                continue
            out[hit["id"]] = f"/iiif/{cid}/thumbnail.jpg"
            break
    return out


def page_words(services: Services, capture: Capture, records: list[Record], n: int) -> dict:
    """The recognised words of a public page with their boxes as fractions of the page, for a
    selectable text layer over the image; words blacked out on the image are left out."""
    page = web_pages.page_of(services, capture, n)
    if page is None or page.text is None or not page.text.width or not page.text.height:
        raise HTTPException(404, "no recognised text on this page")
    hidden = web_pages.public_boxes(page, web_pages.restrictions(capture, records))
    width, height = page.text.width, page.text.height
    words = []
    for w in page.text.words:
        left, top, right, bottom = w.box
        if any(_overlaps(w.box, box) for box in hidden):
            continue
        box = (left, top, right - left, bottom - top)
        words.append([w.text, *(round(v / width, 5) for v in box)])
    return {"width": width, "height": height, "words": words}


def _overlaps(a: Any, b: Any) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]

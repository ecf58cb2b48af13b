"""What the portal shows of records and captures: only published, only public fields.

A record id that is missing, unpublished, or not a record at all gives the same 404, so the
portal does not reveal which ids exist. A capture is public only through a published record,
and never when it is a land certificate (its page images show owners; the redacted
derivative needs the certificate's field boxes, see `pipeline.redaction.redact_image`).
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from fastapi import HTTPException

from models.capture import Capture
from models.errors import NotFoundError
from models.record import RESTRICTED_ATTRIBUTES, Record
from pipeline.bootstrap import Services
from pipeline.redaction import mask_text, owner_names, public_attributes
from pipeline.views import jsonable
from search.documents import (
    PUBLIC_ATTRIBUTES,
    capture_is_public,
    record_title,
    wgs84_geometry,
)
from web import hooks

IMAGE_TYPES = frozenset({"image/png", "image/jpeg", "image/tiff", "image/jp2"})


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


def record_page_data(services: Services, record: Record) -> dict[str, Any]:
    names = owner_names(record.attributes)
    captures = []
    for cid in record.captures:
        try:
            capture, _ = public_capture(services, cid)
        except HTTPException:
            continue
        captures.append(capture_data(services, capture, names, public=True))
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
    services: Services, capture: Capture, names: list[str], public: bool
) -> dict[str, Any]:
    texts = hooks.page_texts(capture, services.blobs)
    if texts is not None and public:
        texts = [mask_text(t, names) for t in texts]
    pages = capture.inspection.get("pages") or 1
    return {
        "id": str(capture.id),
        "kind": capture.kind,
        "media_type": capture.media_type,
        "pages": pages if capture.media_type in IMAGE_TYPES else 1,
        "has_image": capture.thumbnail_key is not None,
        "texts": texts,
        "model_url": hooks.model_url(capture, public) if hooks.may_have_model(capture) else None,
        "manifest": f"/iiif/{capture.id}/manifest.json",
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

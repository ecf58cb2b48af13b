"""Where the web reads results other stages are adding now (OCR text, 3D models).

Each hook returns None until its stage records something; the pages show an empty slot then.
When the capture aggregate gains the fields, adjust only these functions.
"""

from __future__ import annotations

from models.capture import Capture
from pipeline.jobs.text import PAGE_SEPARATOR
from storage.base import BlobStore

MODEL_MEDIA_TYPES = frozenset({"model/gltf-binary"})
MODEL_KINDS = frozenset({"model", "scan-set", "photo-set"})


def page_texts(capture: Capture, blobs: BlobStore) -> list[str] | None:
    """Recognised text per page of the capture's latest text run, or None before it exists."""
    if not capture.text:
        return None
    full = blobs.read_bytes(capture.text["text_key"]).decode("utf-8", "replace")
    return full.split(PAGE_SEPARATOR)


def may_have_model(capture: Capture) -> bool:
    """Whether the record page should offer a 3D viewer slot for this capture."""
    return capture.kind in MODEL_KINDS or capture.media_type in MODEL_MEDIA_TYPES


def model_url(capture: Capture, public: bool) -> str:
    """The GLB the viewer loads; the page hides the slot when it answers 404.

    Staff pages use the lead's `/api/captures/{id}/model.glb`; public pages use the portal's
    own route, which serves `model_key(capture)` only for captures of published records.
    """
    if public:
        return f"/public/captures/{capture.id}/model.glb"
    return f"/api/captures/{capture.id}/model.glb"


WEB_FACES = 200_000
"""The most faces a level of detail may have to be what the viewer loads first."""


def web_lod(capture: Capture) -> str | None:
    """The level of detail the viewer loads: "100k" if there is one, else the largest with at
    most WEB_FACES faces, else the smallest; None when the model has no levels."""
    lods = list((capture.model or {}).get("lods") or {})
    if not lods:
        return None
    if "100k" in lods:
        return "100k"
    sized = sorted((_faces(name), name) for name in lods)
    small = [name for faces, name in sized if faces <= WEB_FACES]
    return small[-1] if small else sized[0][1]


def _faces(lod: str) -> int:
    digits = lod.rstrip("kK")
    if not digits.isdigit():
        return 10**12
    return int(digits) * (1000 if lod[-1:] in "kK" else 1)


def model_key(capture: Capture, lod: str | None = None) -> str | None:
    """The blob key of the capture's GLB model (or of its level of detail `lod`), once
    reconstruction has recorded one; an uploaded GLB until then."""
    if capture.model:
        if lod:
            return capture.model["lods"].get(lod)
        return capture.model["glb_key"]
    if lod:
        return None
    if capture.media_type in MODEL_MEDIA_TYPES:
        return capture.blob_key  # an uploaded GLB is its own model
    return None

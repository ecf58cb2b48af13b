"""`status` (captures by state from the captures projection, followers, queues) and `verify`
(fixity: reads every blob of every capture, as it must)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol
from uuid import UUID

from models.capture import Capture
from pipeline.bootstrap import Services
from pipeline.presenters import model_progress
from pipeline.projections.captures import captures_follower, current


def capture_states(services: Services, running: list | None = None) -> dict[str, int]:
    """Captures by state, from the captures projection (brought up to date first); `running`
    (if given) receives each reconstruction under way with its last recorded progress (the
    projection names them; those few are loaded)."""
    tables = current(services, catch_up=True)
    if running is not None:
        for row in tables.running():
            capture = services.store.capture(UUID(row["capture_id"]))
            if progress := model_progress(capture):
                running.append(
                    {"id": row["capture_id"], "name": capture.original_names[0], **progress}
                )
    return tables.counts()


class Positioned(Protocol):
    name: str

    def position(self) -> int: ...

    def lag(self) -> int: ...


def status(
    services: Services, followers: list[Positioned], queue_depth: dict[str, int] | None
) -> dict[str, Any]:
    running: list[dict[str, Any]] = []
    states = capture_states(services, running)
    return {
        "captures": {"total": sum(states.values()), **states},
        "reconstructing": running,
        "events": services.store.max_notification_id(),
        "followers": {f.name: _position(f) for f in [*followers, captures_follower(services)]},
        "queues": queue_depth,
    }


def _position(follower: Positioned) -> dict[str, Any]:
    try:
        return {"position": follower.position(), "lag": follower.lag()}
    except Exception as e:  # a search backend that is down is a status, not a crash
        return {"error": f"{type(e).__name__}: {e}"}


@dataclass
class FixityReport:
    checked: int = 0
    ok: int = 0
    problems: list[dict[str, str]] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not self.problems


def stored_blobs(services: Services, capture: Capture) -> Iterator[tuple[str, str]]:
    """(role, key) of every blob a capture refers to."""
    from pipeline.jobs.inspection import SET_TYPES  # numpy and Pillow: not for `status`

    yield "original", capture.blob_key
    if capture.media_type in SET_TYPES:
        try:
            manifest = json.loads(services.blobs.read_bytes(capture.blob_key))
        except Exception:  # the manifest itself is reported by its own check
            manifest = {"members": []}
        for m in manifest["members"]:
            yield f"member {m['name']}", m["key"]
    if capture.thumbnail_key:
        yield "thumbnail", capture.thumbnail_key
    for stage, outcome in capture.outcomes.items():
        for name in ("text_key", "hocr_key"):
            if outcome.get(name):
                yield f"{stage} {name[:-4]}", outcome[name]
    if capture.text:
        yield "full text", capture.text["text_key"]
        if capture.text.get("pdf_key"):
            yield "searchable pdf", capture.text["pdf_key"]
    if capture.model:
        yield "model", capture.model["glb_key"]
        for lod, key in capture.model["lods"].items():
            yield f"model lod {lod}", key
        if capture.model.get("preview_key"):
            yield "model preview", capture.model["preview_key"]


def verify(services: Services, on_blob: Callable[[], None] | None = None) -> FixityReport:
    """Re-hash every blob every capture refers to, against the sha256 it was stored under."""
    report = FixityReport()
    for cid in services.store.capture_ids():
        capture = services.store.capture(cid)
        for role, key in stored_blobs(services, capture):
            problem = services.blobs.verify(key)
            report.checked += 1
            if problem is None:
                report.ok += 1
            else:
                report.problems.append(
                    {"capture_id": str(cid), "blob": role, "key": key, "problem": problem}
                )
            if on_blob:
                on_blob()
    return report

"""Staff actions on records and captures: corrections, publish, withdraw, lists for the queue.

Small use-case functions the staff routes call; candidates for `pipeline.jobs`.
"""

from __future__ import annotations

import itertools
from typing import Any
from uuid import UUID

from models.application import RecordStore
from models.capture import Capture
from models.ids import Outcome
from models.plan import plan
from pipeline.presenters import capture_title, field_status
from pipeline.usecases.accounts import Principal
from pipeline.usecases.review import parse_value
from search.documents import wgs84_geometry

CORNERS_CRS = "EPSG:5897"
"""VN-2000 / TM-3 105° (Hà Nội's cadastral grid): the CRS of a certificate's corner table."""


def correct_attributes(
    store: RecordStore, who: Principal, ident: UUID, attributes: dict[str, Any]
) -> None:
    """Record a person's corrections as one `AttributesRecorded` (source "person:<login>")."""
    store.correct_attributes(ident, attributes, by=who.login)


def publish(store: RecordStore, ident: UUID) -> None:
    store.publish(ident)


def withdraw(store: RecordStore, ident: UUID, reason: str) -> None:
    store.withdraw(ident, reason)


def recent_captures(store: RecordStore, limit: int = 100) -> list[dict[str, Any]]:
    """The last `limit` captures received, newest first, with their state.

    Reads every capture id from the log then loads the last `limit`: fine for thousands; a
    status projection should replace it for millions.
    """
    ids = list(store.capture_ids())
    out = []
    for cid in reversed(ids[-limit:]):
        c: Capture = store.capture(cid)
        out.append(
            {
                "id": str(c.id),
                "name": capture_title(c),  # never the path on the ingesting machine
                "kind": c.kind,
                "state": c.state(plan(c)),
                "received_at": c.created_on.isoformat(),
                "size": c.size,
                "failures": c.failures,
                "links": [str(x) for x in c.links],
            }
        )
    return out


def by_state(captures: list[dict[str, Any]], state: str) -> list[dict[str, Any]]:
    return list(itertools.islice((c for c in captures if c["state"] == state), 100))


def progress(capture: Capture) -> dict[str, Any]:
    """What the capture page polls: the state, each text run's pages read of total, the other
    stages' states, and the failures still standing (which the retry button runs again)."""
    planned = plan(capture)
    total = int(capture.inspection.get("pages") or 0)
    runs = []
    for run in range(1, len(capture.text_runs) + 1):
        outcomes = capture.page_outcomes(run)
        statuses = [o.get("status") for o in outcomes.values()]
        text = capture.outcomes.get(str(Outcome("text", run)), {})
        runs.append(
            {
                "run": run,
                "lang": capture.text_runs[run - 1].get("lang"),
                "pages": total,
                "done": statuses.count("done"),
                "failed": statuses.count("failed"),
                "assembled": text.get("status"),
            }
        )
    stages = [
        {"stage": s, "status": capture.outcomes.get(s, {}).get("status", "pending")}
        for s in planned
        if not Outcome.parse(s).is_page
    ]
    failed = [
        {
            "stage": s,
            "error_class": capture.outcomes[s].get("error_class"),
            "message": capture.outcomes[s].get("message"),
            "permanent": capture.outcomes[s].get("permanent"),
        }
        for s in capture.failed_stages()
    ]
    return {
        "id": str(capture.id),
        "version": capture.version,
        "state": capture.state(planned),
        "text_runs": runs,
        "stages": stages,
        "failed": failed,
        "retryable": bool(failed),
        "model": _model_progress(capture),
    }


def _model_progress(capture: Capture) -> dict[str, Any] | None:
    """A running reconstruction's stage and count, with the words to show."""
    from pipeline.presenters import model_progress, progress_text

    running = model_progress(capture)
    return running and {**running, "text": progress_text(running)}


def field_rows(capture: Capture) -> list[dict[str, Any]]:
    """Each extracted field with its value (people's corrections applied), the machine's value
    and raw reading, its confidence, review status and reason, and the page (from 1) and box it
    was read from; `reason` is a correction's, `why` the check's."""
    checks = ((capture.fields or {}).get("result") or {}).get("review") or {}
    rows = []
    for name, f in field_status(capture).items():
        correction = capture.corrections.get(name)
        check = checks.get(name) or {}
        rows.append(
            {
                **f,
                "name": name,
                "page": f["page"] + 1 if f.get("page") is not None else None,
                "why": f["reason"],
                "why_codes": check.get("codes") or [],  # none in fields read before the codes
                "why_args": check.get("args") or {},
                "reason": correction["reason"] if correction else None,
            }
        )
    return rows


def review_rows(capture: Capture) -> list[dict[str, Any]]:
    """`field_rows`, weakest first: needing review, then by confidence (unread fields first)."""
    order = {"needs_review": 0, "read": 1, "corrected": 2, "accepted": 2, "left_blank": 2}
    return sorted(field_rows(capture), key=lambda r: (order[r["status"]], r["confidence"] or 0.0))


def decide(text: str, status: dict[str, Any]) -> tuple[str, Any]:
    """What Enter in a field's box means: ("accept", value) when the box still shows the
    machine's value, else ("correct", the typed value as the field's type)."""
    shown = "" if status["value"] is None else str(status["value"])
    if text.strip() == shown.strip() and status["value"] is not None:
        return "accept", status["value"]
    return "correct", parse_value(status.get("name", ""), text, status["machine"])


def corners_wgs84(corners: list[list[float]]) -> dict[str, Any] | None:
    """A certificate's VN-2000 corner table as a GeoJSON polygon in WGS 84 (lon, lat)."""
    if len(corners) < 3:
        return None
    ring = [list(map(float, c)) for c in corners]
    if ring[0] != ring[-1]:
        ring.append(ring[0])
    shape = {"type": "Polygon", "coordinates": [ring]}
    return wgs84_geometry({"geometry": shape, "crs": CORNERS_CRS})

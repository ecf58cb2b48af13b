"""Plain-data views of aggregates for the CLI and the web (JSON-ready)."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from models.account import Account
from models.application import HistoryEntry
from models.audit import AuditTrail
from models.capture import Capture
from models.disclosure import without_credentials
from models.ids import Outcome
from models.plan import plan
from models.record import Record
from pipeline.stages.pages.pagetext import PageText


def jsonable(value: Any) -> Any:
    if isinstance(value, UUID):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [jsonable(v) for v in value]
    return value


def capture_view(c: Capture) -> dict[str, Any]:
    return jsonable(
        {
            "id": c.id,
            "type": "capture",
            "version": c.version,
            "state": c.state(plan(c)),
            "kind": c.kind,
            "media_type": c.media_type,
            "sha256": c.sha256,
            "size": c.size,
            "blob_key": c.blob_key,
            "title": capture_title(c),
            "names": c.original_names,
            "source": c.source,
            "operator": c.operator,
            "received_at": c.created_on,
            "meta": c.meta,
            "members": c.member_count,
            "links": c.links,
            "inspection": c.inspection,
            "thumbnail_key": c.thumbnail_key,
            "outcomes": c.outcomes,
            "failures": c.failures,
            "text_runs": c.text_runs,
            "text": c.text,
            "fields": c.fields and {**c.fields, "values": c.field_values()},
            "corrections": c.corrections,
            "model_runs": c.model_runs,
            "model": c.model,
        }
    )


def capture_title(c: Capture) -> str:
    """A capture's heading (`Capture.title`: metadata title, else the bare file name)."""
    return c.title


def record_view(r: Record) -> dict[str, Any]:
    """A record as `sohoa show` prints it; a parcel also with its lineage and retirement."""
    view = {
        "id": r.id,
        "type": "record",
        "version": r.version,
        "kind": r.kind,
        "key": r.key,
        "attributes": r.attributes,
        "provenance": r.provenance,
        "geometry": r.geometry,
        "captures": r.captures,
        "published": r.published,
        "registered_at": r.created_on,
        "modified_at": r.modified_on,
    }
    if r.kind == "parcel":
        view["lineage"] = lineage_links(r)
        view["retired"] = r.retired  # the effective date, or None
    return jsonable(view)


def lineage_links(r: Record) -> dict[str, list[dict[str, Any]]]:
    """A parcel's parents and children, each with the kind and effective date of the split,
    merge or renumbering that links them."""
    effective = {c["id"]: c.get("effective") for c in r.changes}

    def link(entry: dict[str, Any]) -> dict[str, Any]:
        change = entry.get("change_id")
        return {
            "id": entry["id"],
            "key": entry["key"],
            "kind": entry.get("kind"),
            "effective": effective.get(change),
        }

    return {"parents": [link(p) for p in r.parents], "children": [link(c) for c in r.children]}


def fields_view(capture: Capture) -> dict[str, Any]:
    """`sohoa fields --json`: the machine's fields with people's corrections applied, and each
    field's status (`field_status`) with a summary of what is left to review."""
    if capture.fields is None:
        return {
            "kind": None, "fields": {}, "corners": [], "owners": [], "changes": [],
            "status": {}, "review_summary": review_summary({}),
        }  # fmt: skip
    result = capture.fields["result"]
    view = dict(result)
    view["fields"] = capture.field_values()
    view["corrections"] = capture.corrections
    view["acceptances"] = capture.acceptances
    view["record_id"] = capture.fields.get("record_id")
    view["run"] = capture.fields["run"]
    view["status"] = field_status(capture)
    view["review_summary"] = review_summary(view["status"])
    return jsonable(view)


def field_status(capture: Capture) -> dict[str, dict[str, Any]]:
    """Per field: the value shown (a person's correction, else the machine's), the machine's
    value and raw reading, its confidence, page and box, and its status: "corrected",
    "left_blank" (not on these pages: no value) or "accepted" by a person, "needs_review"
    (with the reason) or "read"."""
    result = (capture.fields or {}).get("result") or {}
    machine = result.get("fields") or {}
    review = result.get("review") or {}
    provenance = result.get("provenance") or {}
    blanks = capture.left_blank()
    out = {}
    for name, value in machine.items():
        checked, where = review.get(name) or {}, provenance.get(name) or {}
        correction = capture.corrections.get(name)
        accepted = capture.acceptances.get(name)
        if name in blanks:
            status, by, value = "left_blank", blanks[name]["by"], None
        elif correction:
            status, by, value = "corrected", correction["by"], correction["value"]
        elif accepted and accepted["value"] == value:
            status, by = "accepted", accepted["by"]
        else:
            status, by = ("needs_review" if checked.get("needs_review") else "read"), None
        out[name] = {
            "value": value,
            "machine": machine[name],
            "raw": checked.get("raw"),
            "confidence": checked.get("confidence", where.get("confidence")),
            "needs_review": status == "needs_review",
            "reason": checked.get("reason"),
            "status": status,
            "by": by,
            "page": where.get("page"),
            "box": where.get("box"),
        }
    return out


FIELD_STATUSES = ("needs_review", "accepted", "corrected", "left_blank", "read")


def review_summary(status: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """How many fields need review, were accepted, corrected or left blank, and the weakest
    confidence of those nobody has looked at (what orders the review queue)."""
    counts = {s: 0 for s in FIELD_STATUSES}
    for f in status.values():
        counts[f["status"]] += 1
    open_confidences = [
        f["confidence"] or 0.0 for f in status.values() if f["status"] in ("needs_review", "read")
    ]
    return {**counts, "weakest": min(open_confidences, default=None)}


MODEL_SUMMARY = (
    "faces",
    "points",
    "bbox_m",
    "surface_area_m2",
    "volume_m3",
    "registered_images",
    "images",
    "reprojection_error_px",
    "rmse_m",
    "fitness",
    "size_m",
    "scale_source",
    "texture",
    "atlas_px",
)


def model_view(capture: Capture) -> dict[str, Any]:
    """`sohoa model --json`: the latest model's metrics (flat) with its run, method and stages."""
    n = len(capture.model_runs)
    outcome = capture.outcomes.get(str(Outcome("reconstruct", n)), {}) if n else {}
    view: dict[str, Any] = {"id": capture.id, "runs": n, "state": outcome.get("status", "pending")}
    if outcome.get("status") == "failed":
        view["error"] = outcome.get("message")
    if progress := model_progress(capture):
        view["progress"] = progress
    if capture.model:
        m = capture.model
        view.update({k: m["metrics"].get(k) for k in MODEL_SUMMARY if k in m["metrics"]})
        view.update(
            run=m["run"],
            method=m["method"],
            metrics=m["metrics"],
            params=m["params"],
            stages=m["stages"],
            lods=sorted(m["lods"]),
        )
    return jsonable(view)


def model_progress(capture: Capture) -> dict[str, Any] | None:
    """The running reconstruction's last recorded progress ({run, stage, done, total,
    elapsed_s}), or None when no run is under way."""
    n = len(capture.model_runs)
    progress = capture.model_progress
    if not n or not progress or progress["run"] != n:
        return None
    if str(Outcome("reconstruct", n)) in capture.outcomes:
        return None
    return dict(progress)


def progress_text(progress: dict[str, Any]) -> str:
    """`mapping: 120 of 200` (the words `sohoa status`, `sohoa model` and the staff page use)."""
    count = ""
    if progress.get("done") is not None and progress.get("total"):
        count = f": {progress['done']} of {progress['total']}"
    return f"run {progress['run']}, {progress['stage']}{count} ({progress['elapsed_s']:.0f} s)"


def account_view(a: Account) -> dict[str, Any]:
    """An account without its password or token hashes (nobody is shown those)."""
    tokens = {tid: {k: v for k, v in t.items() if k != "hash"} for tid, t in a.tokens.items()}
    return jsonable(
        {
            "id": a.id,
            "type": "account",
            "version": a.version,
            "login": a.login,
            "role": a.role,
            "display_name": a.display_name,
            "disabled": a.disabled,
            "tokens": tokens,
            "locked_until": getattr(a, "locked_until", None),
        }
    )


def audit_trail_view(t: AuditTrail) -> dict[str, Any]:
    return jsonable(
        {"id": t.id, "type": "audit trail", "version": t.version, "login": t.login, "day": t.day}
    )


def aggregate_view(a: Any) -> dict[str, Any]:
    if isinstance(a, Capture):
        return capture_view(a)
    if isinstance(a, Account):
        return account_view(a)
    if isinstance(a, AuditTrail):
        return audit_trail_view(a)
    return record_view(a)


def history_view(entries: list[HistoryEntry]) -> list[dict[str, Any]]:
    """Events as plain data; credentials (password, token and session hashes) are withheld
    here, so no printer of a history (web, CLI, demo) can show them."""
    return [
        jsonable(
            {
                "version": e.version,
                "timestamp": e.timestamp,
                "event": e.event,
                "data": without_credentials(e.data),
            }
        )
        for e in entries
    ]


def page_review(text: PageText) -> dict[str, Any]:
    """What the people who check a read page see beside its text: the regions the reading
    skipped (seal, stamp, signature, logo, rule, symbols) as percentages of the page image,
    and the page's text line by line, each flagged `dim` when it was read at low confidence
    (params "suppressed" and "dim_lines", `pipeline.stages.ocr`). Staff only: a skipped
    region's label says what is there, and a public page must not point at a signature."""
    width, height = text.width or 1, text.height or 1
    skipped = [
        {
            "kind": r["kind"],
            "left": round(100 * r["box"][0] / width, 2),
            "top": round(100 * r["box"][1] / height, 2),
            "width": round(100 * (r["box"][2] - r["box"][0]) / width, 2),
            "height": round(100 * (r["box"][3] - r["box"][1]) / height, 2),
        }
        for r in text.params.get("suppressed") or []
    ]
    return {"suppressed": skipped, "lines": _flagged_lines(text)}


def _flagged_lines(text: PageText) -> list[dict[str, Any]]:
    """The text's lines (blank lines kept), `dim` on those read at low confidence. The text's
    non-blank lines are its words' lines in order (`words_to_text`); when they are not (a text
    layer), no line is flagged."""
    dim = {tuple(k) for k in text.params.get("dim_lines") or []}
    shown = text.text.split("\n")
    read = text.lines()
    flags = iter([(ws[0].block, ws[0].line) in dim for ws in read])
    if sum(1 for s in shown if s.strip()) != len(read):
        flags = iter([False] * len(shown))
    return [{"text": s, "dim": bool(s.strip()) and next(flags, False)} for s in shown]


def dim_line_texts(text: PageText) -> list[str]:
    """The lines of `text` read at low confidence (`sohoa text --json`)."""
    return [line["text"] for line in _flagged_lines(text) if line["dim"]]

"""Where each value on a parcel page came from, in the officer's words: read by the machine
from a certificate, accepted by a person as read, corrected by a person (on which day, from
which certificate), or imported from a register's row.

The record's `provenance` names the source of each value (`capture:<id>:fields/<run>` as
read, `person:<login> via capture:<id>:…` a correction carried from a certificate,
`person:<login>` one made on the record, `import:<file>:<line>`); the day is the one its
`AttributesRecorded` event was stored, in the office's time zone. A person is named only to
a role that may see who did what to a capture (`Part.CAPTURE_DETAILS`: staff, never the
public, whose history of a record names nobody), and a restricted value's source only to a
role that may see the value.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import PurePath
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

from models.application import HistoryEntry
from models.disclosure import Kind, Part, may_see
from models.errors import NotFoundError
from models.record import RESTRICTED_ATTRIBUTES
from pipeline.bootstrap import Services

_SOURCE = re.compile(
    r"^(?:person:(?P<person>\S+?)(?: via |$))?(?:capture:(?P<capture>[0-9a-f-]{36})(?::|$))?"
)


@dataclass(frozen=True)
class ValueSource:
    """One value's origin: `kind` is read, accepted, corrected, person, import or other."""

    kind: str
    text: str
    capture_id: str | None = None


def value_sources(
    svc: Services,
    record: dict[str, Any],
    history: Sequence[HistoryEntry],
    role: str,
    t: Callable[[str], str],
    zone: str = "Asia/Ho_Chi_Minh",
) -> dict[str, ValueSource]:
    """Each shown value's source (`record`'s `provenance`: attribute → source), for `role`;
    an acceptance counts for the value accepted only."""
    provenance, attributes = record.get("provenance") or {}, record.get("attributes") or {}
    days = _days(history, ZoneInfo(zone))
    names_people = may_see(role, Kind.CAPTURE, Part.CAPTURE_DETAILS)
    restricted = may_see(role, Kind.RECORD, Part.RESTRICTED_ATTRIBUTES)
    titles: dict[str, Any] = {}
    out = {}
    for name, source in provenance.items():
        if name in RESTRICTED_ATTRIBUTES and not restricted:
            continue
        day = days.get((name, source), "")
        value = attributes.get(name)
        out[name] = _source(svc, (name, value), source, day, names_people, titles, t)
    return out


def _days(history: Sequence[HistoryEntry], zone: ZoneInfo) -> dict[tuple[str, str], str]:
    """(attribute, source) → the day (YYYY-MM-DD in `zone`) it was last recorded."""
    days = {}
    for e in history:
        if e.event.rsplit(".", 1)[-1] == "AttributesRecorded":
            day = e.timestamp.astimezone(zone).date().isoformat()
            for name in e.data["attributes"]:
                days[(name, e.data["source"])] = day
    return days


def _source(
    svc: Services,
    shown: tuple[str, Any],
    source: str,
    day: str,
    names_people: bool,
    captures: dict[str, Any],
    t: Callable[[str], str],
) -> ValueSource:
    name, value = shown
    found = _SOURCE.match(source)
    person, capture_id = (found["person"], found["capture"]) if found else (None, None)
    if capture_id:
        capture = captures.setdefault(capture_id, _capture(svc, capture_id))
        doc = capture.title if capture is not None else t("src_document")
        if person:
            who = person if names_people else t("src_staff")
            text = t("src_corrected").format(who=who, day=day, doc=doc)
            return ValueSource("corrected", text, capture_id)
        accepted = capture.acceptances.get(name) if capture is not None else None
        if accepted and accepted["value"] == value:
            who = _login(accepted["by"]) if names_people else t("src_staff")
            return ValueSource("accepted", t("src_accepted").format(who=who, doc=doc), capture_id)
        return ValueSource("read", t("src_read").format(doc=doc), capture_id)
    if person:
        who = person if names_people else t("src_staff")
        return ValueSource("person", t("src_person").format(who=who, day=day))
    if source.startswith("import:"):
        file = source.removeprefix("import:").rsplit(":", 1)[0]
        shown = PurePath(file.replace("\\", "/")).name  # never the folders of the machine
        return ValueSource("import", t("src_import").format(source=shown, day=day))
    return ValueSource("other", source.split(":", 1)[0])


def _capture(svc: Services, capture_id: str) -> Any:
    try:
        return svc.store.capture(UUID(capture_id))
    except NotFoundError:
        return None


def _login(by: str) -> str:
    return by.removeprefix("person:")

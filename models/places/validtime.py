"""A parcel as it was *valid on* a day (effective time), from its events.

Two times (LADM; DOMAIN.md "Added 2026-12-05"): when a fact was recorded (transaction time,
`RecordStore.as_of`) and when it took effect (valid time, here). A value takes effect on its
`valid_from` (or its change's effective date); one recorded without a date says nothing of
when, so it counts from the parcel's beginning. A parcel exists from the day it began (a
split's date, its earliest `valid_from`) and is retired from its retirement's effective date.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Protocol


class Entry(Protocol):
    """An event as `RecordStore.history` gives it."""

    version: int
    timestamp: datetime
    event: str
    data: dict[str, Any]


@dataclass
class ValidState:
    """What was in force on `day`."""

    day: str
    attributes: dict[str, Any] = field(default_factory=dict)
    provenance: dict[str, str] = field(default_factory=dict)
    geometry: dict[str, Any] | None = None
    began: str | None = None
    retired: str | None = None

    @property
    def existed(self) -> bool:
        return self.began is None or self.began <= self.day


def state_on(entries: Sequence[Entry], day: date) -> ValidState:
    """Apply, in effective order, every value in force on `day`."""
    when = day.isoformat()
    dated_sources: dict[str, str] = {}
    starts: list[str] = []
    retired: list[str] = []
    for e in entries:
        name, data = _name(e), e.data
        if name == "AttributesRecorded" and isinstance(data["attributes"].get("valid_from"), str):
            dated_sources[data["source"]] = data["attributes"]["valid_from"]
            starts.append(data["attributes"]["valid_from"])
        elif name == "Derived":
            starts.append(data["change"]["effective"])
        elif name == "Retired":
            retired.append(data["change"]["effective"])
    steps = []
    for e in entries:
        name = _name(e)
        if name == "AttributesRecorded":
            effective = e.data["attributes"].get("valid_from")
        elif name == "GeometrySet":
            effective = dated_sources.get(e.data.get("source", ""))
        elif name == "CaptureValuesWithdrawn":  # from the capture's own (undated) values on
            effective = ""
        else:
            continue
        steps.append((effective if isinstance(effective, str) else "", e.version, name, e.data))
    state = ValidState(day=when, began=min(starts) if starts else None)
    history: dict[str, list[tuple[Any, str]]] = {}  # per attribute, the values applied so far
    geometry_source = ""
    for effective, _version, name, data in sorted(steps, key=lambda s: (s[0], s[1])):
        if effective > when:
            continue
        if name == "AttributesRecorded":
            state.attributes.update(data["attributes"])
            state.provenance.update(dict.fromkeys(data["attributes"], data["source"]))
            for attribute, value in data["attributes"].items():
                history.setdefault(attribute, []).append((value, data["source"]))
        elif name == "CaptureValuesWithdrawn":
            _withdraw(state, history, str(data["capture_id"]), data["names"])
            if data["unlinked"] and f"capture:{data['capture_id']}" in geometry_source:
                state.geometry, geometry_source = None, ""
        else:
            state.geometry = {"geometry": data["geometry"], "crs": data["crs"]}
            geometry_source = data.get("source", "")
    state.retired = min((r for r in retired if r <= when), default=None)
    return state


def _withdraw(
    state: ValidState,
    history: dict[str, list[tuple[Any, str]]],
    capture_id: str,
    names: Sequence[str],
) -> None:
    """Take back the values of `names` that still come from the capture (a dated value that
    replaced one stays); the value the capture's replaced, if any, comes back."""
    mark = f"capture:{capture_id}"
    for name in names:
        history[name] = [h for h in history.get(name, []) if mark not in h[1]]
        if mark not in state.provenance.get(name, ""):
            continue
        if history[name]:
            state.attributes[name], state.provenance[name] = history[name][-1]
        else:
            state.attributes.pop(name, None)
            state.provenance.pop(name, None)


def _name(entry: Entry) -> str:
    return entry.event.rsplit(".", 1)[-1]

"""Parcel lookup for the officer console: unit names of either era, sheet and number.

`unit_keys` mirrors `scanners.search_command.unit_keys` (an edge the web may not import);
it belongs in `pipeline` so both edges share it.
"""

from __future__ import annotations

import contextlib
from datetime import date, datetime, time
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

from models.errors import NotFoundError, NotYetRecordedError
from models.ids import InvalidKeyError, parcel_id
from models.record import Record
from pipeline.bootstrap import Services
from search.documents import record_title


class LookupProblemError(ValueError):
    """A lookup a person must correct (unknown unit name, bad sheet or number)."""


def unit_keys(svc: Services, unit: str) -> list[tuple[str, str, str]]:
    """(code, era, label) of every commune the name or code may mean, in both eras."""
    gaz = svc.gazetteer
    text = unit.strip()
    if text.isdigit() and len(text) <= 5:
        code = text.zfill(5)
        units = []
        if gaz is not None:
            for era in ("pre2025", "2025"):
                with contextlib.suppress(KeyError):
                    units.append(gaz.by_code(code, era))
        if not units:
            return [(code, "pre2025", f"{code} (pre2025)"), (code, "2025", f"{code} (2025)")]
    elif gaz is None:
        raise LookupProblemError(
            "unit names need the gazetteer (SOHOA_GAZETTEER_DIR); give the 5-digit unit code"
        )
    else:
        units = [u for u in gaz.find(text) if u.level == "commune"]
        if not units:
            hint = ", ".join(gaz.suggest(text)) or "none"
            raise LookupProblemError(
                f"no administrative unit called {text!r}; did you mean: {hint}"
            )
    keys: dict[tuple[str, str], str] = {}
    for u in units:
        for v in [u, *(gaz.equivalents(u) if gaz else ())]:
            keys.setdefault((v.code, v.era), gaz.label(v) if gaz else v.name)
    return [(code, era, label) for (code, era), label in keys.items()]


def find_parcels(svc: Services, unit: str, sheet: str, number: str) -> list[dict[str, Any]]:
    found = []
    for code, era, label in unit_keys(svc, unit):
        try:
            pid = parcel_id(code, era, sheet, number)
        except InvalidKeyError as e:
            raise LookupProblemError(str(e)) from None
        try:
            record = svc.store.record(pid)
        except NotFoundError:
            continue
        found.append({"id": str(pid), "unit": label, "title": record_title(record)})
    return found


def parcel_as_of(svc: Services, ident: UUID, when: datetime | None) -> Record | None:
    """The parcel now, or as it stood at `when`; None if it was not recorded yet then."""
    try:
        record = svc.store.as_of(ident, when) if when else svc.store.record(ident)
    except NotYetRecordedError:
        return None
    if not isinstance(record, Record) or record.kind != "parcel":
        raise NotFoundError(f"no parcel {ident}")
    return record


def moment(day: str, clock: str, zone: str) -> datetime | None:
    """A date (and optional time) typed in `zone`; a date alone means the end of that day."""
    if not day:
        return None
    try:
        d = date.fromisoformat(day)
        t = time.fromisoformat(clock) if clock else time(23, 59, 59, 999999)
    except ValueError:
        raise LookupProblemError(
            f"{day} {clock} is not a date (YYYY-MM-DD) and time (HH:MM)"
        ) from None
    if clock and t.second == 0 and len(clock) <= 5:
        t = t.replace(second=59, microsecond=999999)  # "14:05" includes the whole minute
    return datetime.combine(d, t, ZoneInfo(zone))

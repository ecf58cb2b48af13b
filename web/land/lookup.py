"""Parcel lookup for the officer console: unit names of either era
(`pipeline.usecases.unit_lookup`), sheet
and number."""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from models.errors import NotFoundError
from models.ids import InvalidKeyError, parcel_id
from pipeline.bootstrap import Services
from pipeline.usecases.unit_lookup import UnknownUnitError, unit_keys
from search.documents import record_title


class LookupProblemError(ValueError):
    """A lookup a person must correct (unknown unit name, bad sheet or number)."""


def find_parcels(svc: Services, unit: str, sheet: str, number: str) -> list[dict[str, Any]]:
    found = []
    try:
        keys = unit_keys(svc.gazetteer, unit)
    except UnknownUnitError as e:
        raise LookupProblemError(str(e)) from None
    for code, era, label in keys:
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


def valid_day(day: str) -> date | None:
    """An effective date typed on the console (YYYY-MM-DD), or None."""
    if not day:
        return None
    try:
        return date.fromisoformat(day)
    except ValueError:
        raise LookupProblemError(f"{day} is not a date (YYYY-MM-DD)") from None


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

"""Which administrative units a name or code typed by a person may mean, in both eras.

Shared by the CLI (`sohoa parcel`) and the officer console: a pre-2025 ward name also finds
parcels filed under the 2025 unit that took it over, and the other way round.
"""

from __future__ import annotations

from models.places.gazetteer import Gazetteer
from pipeline.errors import InputRejectedError


class UnknownUnitError(InputRejectedError):
    """A unit name that names nothing (the message carries suggestions)."""


def unit_keys(gaz: Gazetteer | None, unit: str) -> list[tuple[str, str, str]]:
    """(code, era, label) of every commune-level unit the name or 5-digit code may mean."""
    text = unit.strip()
    if text.isdigit() and len(text) <= 5:
        code = text.zfill(5)
        units = [u for era in ("pre2025", "2025") for u in _by_code(gaz, code, era)]
        if not units:
            return [(code, "pre2025", f"{code} (pre2025)"), (code, "2025", f"{code} (2025)")]
    elif gaz is None:
        raise UnknownUnitError(
            "unit names need the gazetteer: set SOHOA_GAZETTEER_DIR to the administrative-unit "
            "tables, or give the 5-digit unit code"
        )
    else:
        units = [u for u in gaz.find(text) if u.level == "commune"]
        if not units:
            hint = ", ".join(gaz.suggest(text)) or "none"
            raise UnknownUnitError(f"no administrative unit called {text!r}; did you mean: {hint}")
    keys: dict[tuple[str, str], str] = {}
    for u in units:
        for v in [u, *(gaz.equivalents(u) if gaz else ())]:
            keys.setdefault((v.code, v.era), gaz.label(v) if gaz else v.name)
    return [(code, era, label) for (code, era), label in keys.items()]


def _by_code(gaz: Gazetteer | None, code: str, era: str) -> list:
    if gaz is None:
        return []
    try:
        return [gaz.by_code(code, era)]
    except KeyError:
        return []

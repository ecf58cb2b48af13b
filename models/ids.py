"""Deterministic ids from natural keys.

A uuid5 over a normalised natural key lets the event store itself enforce
uniqueness: two writers creating "the same" capture or parcel collide on
version 1 of one aggregate instead of creating two.
"""

from __future__ import annotations

import re
import unicodedata
from uuid import UUID, uuid5

NAMESPACE = UUID("5b0d6f1e-8a43-4c1e-9a57-2f3c7d0e5a11")

ERAS = ("pre2025", "2025")
"""Administrative-unit eras: codes were reused in the 2025 reorganisation,
so a unit code only identifies a unit together with its era."""


class InvalidKeyError(ValueError):
    """A natural key part is missing or malformed."""


def capture_id(sha256: str) -> UUID:
    """Identical bytes are one capture, however often they arrive."""
    if not re.fullmatch(r"[0-9a-f]{64}", sha256):
        raise InvalidKeyError(f"not a sha256 hex digest: {sha256!r}")
    return uuid5(NAMESPACE, f"capture:{sha256}")


def parcel_id(unit_code: str, era: str, sheet: str | int, number: str | int) -> UUID:
    """A parcel is (commune-level unit code and its era, map sheet, parcel number)."""
    key = parcel_key(unit_code, era, sheet, number)
    return uuid5(NAMESPACE, "parcel:" + ":".join(key))


def parcel_key(
    unit_code: str, era: str, sheet: str | int, number: str | int
) -> tuple[str, str, str, str]:
    code = str(unit_code).strip()
    if not code.isdigit() or len(code) > 5:
        raise InvalidKeyError(f"unit code must be up to 5 digits, got {unit_code!r}")
    if era not in ERAS:
        raise InvalidKeyError(f"unit era must be one of {ERAS}, got {era!r}")
    return (code.zfill(5), era, _number(sheet, "map sheet"), _number(number, "parcel number"))


def site_id(registration_code: str) -> UUID:
    """A heritage site is its official registration key or a staff-assigned code."""
    code = _normal(registration_code).upper()
    if not code:
        raise InvalidKeyError("a heritage site needs a registration code")
    return uuid5(NAMESPACE, f"site:{code}")


def document_id(code: str) -> UUID:
    """An archive document (a register, a decree) by its shelf mark or code."""
    code = _normal(code).upper()
    if not code:
        raise InvalidKeyError("an archive document needs a code")
    return uuid5(NAMESPACE, f"document:{code}")


def _number(value: str | int, what: str) -> str:
    text = _normal(str(value))
    if not text:
        raise InvalidKeyError(f"{what} is empty")
    if text.isdigit():
        return str(int(text))  # "012" and "12" are the same sheet
    if not re.fullmatch(r"[0-9A-Za-z./\-]{1,20}", text):
        raise InvalidKeyError(f"{what} {value!r} is not a sheet or parcel number")
    return text.upper()


def _normal(text: str) -> str:
    return unicodedata.normalize("NFC", text).strip()

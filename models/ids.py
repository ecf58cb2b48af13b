"""Deterministic ids from natural keys.

A uuid5 over a normalised natural key lets the event store itself enforce
uniqueness: two writers creating "the same" capture or parcel collide on
version 1 of one aggregate instead of creating two.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
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
    return ParcelKey.of(unit_code, era, sheet, number).id


@dataclass(frozen=True)
class ParcelKey:
    """A parcel's natural key, normalised: unit code (5 digits) **and era**, sheet, number.

    Built only by `of` (which validates and normalises: "012" = "12") or `parse` (the
    `str()` form, "00070:2025:12:45"); a record's key mapping is `as_record_key()`.
    """

    unit_code: str
    era: str
    sheet: str
    number: str

    @classmethod
    def of(cls, unit_code: str | int, era: str, sheet: str | int, number: str | int) -> ParcelKey:
        code = str(unit_code).strip()
        if not code.isdigit() or len(code) > 5:
            raise InvalidKeyError(f"unit code must be up to 5 digits, got {unit_code!r}")
        if era not in ERAS:
            raise InvalidKeyError(f"unit era must be one of {ERAS}, got {era!r}")
        return cls(
            code.zfill(5), era, _number(sheet, "map sheet"), _number(number, "parcel number")
        )

    @classmethod
    def parse(cls, text: str) -> ParcelKey:
        """The inverse of `str()`."""
        parts = text.split(":")
        if len(parts) != 4:
            raise InvalidKeyError(f"not a parcel key (unit:era:sheet:number): {text!r}")
        return cls.of(*parts)

    @classmethod
    def from_record_key(cls, key: Mapping[str, str]) -> ParcelKey:
        """From a parcel record's key mapping (`unit_code`, `era`, `sheet`, `number`)."""
        return cls.of(key["unit_code"], key["era"], key["sheet"], key["number"])

    def as_record_key(self) -> dict[str, str]:
        return {
            "unit_code": self.unit_code,
            "era": self.era,
            "sheet": self.sheet,
            "number": self.number,
        }

    @property
    def id(self) -> UUID:
        return uuid5(NAMESPACE, f"parcel:{self}")

    def __str__(self) -> str:
        return f"{self.unit_code}:{self.era}:{self.sheet}:{self.number}"


@dataclass(frozen=True)
class Outcome:
    """The name of one stage's outcome on a capture: `inspect`, `ocr/<run>/<page>`,
    `text/<run>`, `fields/<run>`, `reconstruct/<run>`.

    Capture outcomes and `ProcessingFailed.stage` are keyed by `str(Outcome(...))`; this is
    the one place that string is formatted (`__str__`) and split (`parse`).
    """

    stage: str
    run: int | None = None
    page: int | None = None

    @classmethod
    def parse(cls, text: str) -> Outcome:
        stage, *numbers = str(text).split("/")
        if not stage or len(numbers) > 2 or not all(n.isdigit() for n in numbers):
            raise InvalidKeyError(f"not an outcome name (stage[/run[/page]]): {text!r}")
        return cls(stage, *map(int, numbers))

    @property
    def is_page(self) -> bool:
        """An OCR page's outcome (a failed page does not end its capture's processing)."""
        return self.page is not None

    def __str__(self) -> str:
        numbers = [n for n in (self.run, self.page) if n is not None]
        return "/".join([self.stage, *map(str, numbers)])


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

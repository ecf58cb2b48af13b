"""Values of import fields: text, codes, numbers, dates."""

from __future__ import annotations

import json
import math
import re
import unicodedata
from collections.abc import Callable
from datetime import date
from typing import Any

from models.ids import ERAS
from models.language.legacy_encodings import is_vietnamese_legacy, to_unicode
from models.record import RESTRICTED_ATTRIBUTES
from pipeline.usecases.importing.fieldmaps import KINDS
from pipeline.usecases.importing.rows import RowRejected

# -- values -----------------------------------------------------------------


def _parse(name: str, value: Any) -> Any:
    parser = PARSERS[name]
    try:
        return parser(value)
    except RowRejected as e:
        if name in RESTRICTED_ATTRIBUTES:  # personal data never goes into a message
            raise RowRejected(f"{name}: {_json_type(value)} is not accepted") from None
        raise RowRejected(f"{name}: {e}") from None


def _text(value: Any) -> str:
    if not isinstance(value, str):
        raise RowRejected(f"must be text, got {_json_type(value)}")
    return value.strip()


def _code(value: Any) -> str:
    """A number-like code: text, or an integer (GIS exports write sheet numbers as numbers)."""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return _text(value)


def _choice(options: tuple[str, ...]) -> Callable[[Any], str]:
    def parse(value: Any) -> str:
        text = _text(value)
        if text not in options:
            raise RowRejected(f"must be one of {', '.join(options)}, got {text!r}")
        return text

    return parse


def _texts(value: Any) -> list[str]:
    if isinstance(value, str):
        items: list[Any] = value.split(";")
    elif isinstance(value, list):
        items = value
    else:
        raise RowRejected(f"must be a list or ';'-separated text, got {_json_type(value)}")
    out: list[str] = []
    for item in items:
        text = _text(item)
        if text and text not in out:
            out.append(text)
    return out


def _area(value: Any) -> float:
    number = _number(value)
    if number < 0:
        raise RowRejected(f"must not be negative, got {value!r}")
    return number


def _number(value: Any) -> float:
    """A finite number; text may use a decimal comma ("12,5") and dot thousands ("1.234,5")."""
    if isinstance(value, bool):
        raise RowRejected("must be a number, got a boolean")
    if isinstance(value, int | float):
        number = float(value)
    elif isinstance(value, str):
        text = value.strip().replace(" ", "").replace("\u00a0", "")
        if re.fullmatch(r"[+-]?\d{1,3}(\.\d{3})+,\d+", text):
            text = text.replace(".", "").replace(",", ".")
        elif re.fullmatch(r"[+-]?\d+,\d+", text):
            text = text.replace(",", ".")
        if not re.fullmatch(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?", text):
            raise RowRejected(f"{value!r} is not a number")
        number = float(text)
    else:
        raise RowRejected(f"must be a number, got {_json_type(value)}")
    if not math.isfinite(number):
        raise RowRejected(f"{value!r} is not a finite number")
    return number


def _flag(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str) and value.strip().lower() in ("true", "1", "false", "0"):
        return value.strip().lower() in ("true", "1")
    raise RowRejected(f'must be true or false ("true"/"false", "1"/"0"), got {value!r}')


def _date(value: Any) -> str:
    text = _text(value)
    m = re.fullmatch(r"(\d{4})-(\d{2})-(\d{2})", text) or re.fullmatch(
        r"(\d{1,2})/(\d{1,2})/(\d{4})", text
    )
    try:
        if m and len(m.group(1)) == 4:
            return date(int(m.group(1)), int(m.group(2)), int(m.group(3))).isoformat()
        if m:
            return date(int(m.group(3)), int(m.group(2)), int(m.group(1))).isoformat()
    except ValueError:
        pass
    raise RowRejected(f"must be a date YYYY-MM-DD or DD/MM/YYYY, got {text!r}")


def _object(value: Any) -> dict[str, Any]:
    if isinstance(value, str) and value.strip().startswith("{"):
        try:
            value = json.loads(value)
        except json.JSONDecodeError as e:
            raise RowRejected(f"is not valid JSON: {e.msg}") from None
    if not isinstance(value, dict):
        raise RowRejected(f"must be a JSON object, got {_json_type(value)}")
    return value


PARSERS: dict[str, Callable[[Any], Any]] = {
    "kind": _choice(KINDS),
    "code": _code,
    "unit_code": _code,
    "unit_era": _choice(ERAS),
    "sheet": _code,
    "parcel_number": _code,
    "name": _text,
    "aliases": _texts,
    "type": _texts,
    "rank": _text,
    "period": _text,
    "ward": _text,
    "district": _text,
    "province": _text,
    "address": _text,
    "locality": _text,
    "description": _text,
    "lat": _number,
    "lon": _number,
    "published": _flag,
    "area_m2": _area,
    "legal_area_m2": _area,
    "purpose": _text,
    "purpose_label": _text,
    "owner": _text,
    "owner_address": _text,
    "serial": _code,
    "registry_number": _code,
    "old_unit_code": _code,
    "old_sheet": _code,
    "old_parcel_number": _code,
    "valid_from": _date,
    "split_from": _text,
    "merged_from": _texts,
    "renumbered_from": _text,
    "effective_date": _date,
    "legal_basis": _text,
    "basis_capture": _text,
    "extra": _object,
}


def _nfc(value: Any) -> Any:
    """NFC, and legacy TCVN3/VNI text (8-bit fonts read as Latin-1) converted to Unicode."""
    if isinstance(value, str):
        if value.isascii():  # NFC already, and legacy font text is never ASCII (most values)
            return value
        text = unicodedata.normalize("NFC", value)
        encoding = is_vietnamese_legacy(text, min_units=1)
        return unicodedata.normalize("NFC", to_unicode(text, encoding)) if encoding else text
    if isinstance(value, dict):
        return {_nfc(k): _nfc(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_nfc(v) for v in value]
    return value


def _has_surrogates(text: str) -> bool:
    return any("\udc80" <= ch <= "\udcff" for ch in text)


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "text"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__

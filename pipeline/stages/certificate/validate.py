"""Every certificate field checked before it is stored: a format, a plausibility check, and the
agreement of readings that must agree (the corner polygon and the stated area, the purpose and
its code, the QR code and the print).

    check_fields(found, context) -> {name: Verdict}

A value that fails its format or plausibility check is stored as None with `needs_review` and
the reason, the raw reading kept beside it; a value that disagrees with another reading is kept
and flagged; a value read with little confidence is kept and flagged. Nothing here repairs a
value: the readers (`labelled.py`, `signing.py`) already did what can be done safely.

Formats (DOMAIN.md §1): parcel and sheet numbers are digits with an optional letter suffix
("12", "125a") or a short letter prefix ("CT8", "PL9"); registry numbers a known prefix and
3–8 digits ("CH 01583", "VP 00123"); serials 1–2 letters and 6 digits (to 2024) or 2 letters
and 8 digits (the 2025 form); dates in the form's era and never after the capture arrived.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from models.language.text import canonical_tones, is_vietnamese_syllable, nfc
from pipeline.stages.certificate.fields import CODES, PURPOSES, Found, parse_area_words
from pipeline.stages.certificate.layout import fold_keep_length
from pipeline.stages.certificate.reasons import Doubtful, Reason, Rejected

REVIEW_BELOW = 0.7
"""A value read with less confidence than this goes to a person (chosen on generated
certificates, the development set; see bench/bench_certificate_review.py)."""
IDENTIFIER_REVIEW_BELOW = 0.9
"""The same for numbers nothing else can check (a serial's 8 read as 6 passes every format):
OCR confidence is all there is, so less of it is tolerated (generated certificates, seeds
2000–2003: wrong serials were read at 0.865–0.895, right ones mostly above 0.9)."""
IDENTIFIERS = frozenset({"serial", "registry_number", "parcel_number", "map_sheet"})
AREA_TOLERANCE = 0.01
"""The corner polygon agrees with the stated area within 1 % (or 0.5 m² for tiny parcels):
areas are printed to 0.1 m² and corners to the centimetre."""
AREA_RANGE = (1.0, 5_000_000.0)
"""Plausible parcel areas in m² (a 1 m² strip to a 500 ha forest lot)."""
REGISTRY_PREFIXES = frozenset({"CH", "CS", "CT", "VP", "DA", "CN", "BC", "H", "MN", "CSH", "TP"})
"""Prefixes of registry numbers seen on certificates (DOMAIN.md §1.2; the list is open)."""
ERAS: dict[str | None, tuple[date, date | None]] = {
    "2009-2024": (date(2009, 12, 10), date(2025, 12, 31)),
    "2025": (date(2024, 8, 1), None),
    None: (date(1993, 7, 14), None),
}
"""Issue dates each form can carry (Circular 17/2009 from 10 Dec 2009, used into 2025;
Circular 10/2024's form from 1 Aug 2024); an unknown form: any date since the 1993 Land Law."""
OPTIONAL = {"2025": frozenset({"origin"})}
"""Fields a form may leave out, so their absence is no cause for review."""
EXTRA_CODES = frozenset(
    {"DTS", "DXH", "DNG", "DSK", "CQP", "CAN", "SKT", "SKN", "SKS", "SKX", "DKV", "DRA", "DCK",
     "PNK", "DCS", "NCS", "DCT", "DPC", "DKT", "DMT", "CNC"}
)  # fmt: skip
"""Codes of DOMAIN.md §1.5 and Circular 08/2024 that no purpose text maps to here."""
OFFICIAL_CODES = CODES | EXTRA_CODES


@dataclass(frozen=True)
class Context:
    """What a field's value is checked against."""

    form: str | None = None
    received: date | None = None
    polygon_m2: float | None = None
    qr: Mapping[str, Any] | None = None


@dataclass(frozen=True)
class Verdict:
    value: Any
    raw: str | None
    confidence: float
    needs_review: bool
    reason: str | None
    codes: tuple[str, ...] = ()
    args: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "raw": self.raw,
            "confidence": round(self.confidence, 3),
            "needs_review": self.needs_review,
            "reason": self.reason,
            "codes": list(self.codes),
            **({"args": self.args} if self.args else {}),
        }


# --- one check per field: the value (possibly tidied) or Rejected ---------------------------

_NUMBER = re.compile(r"\d{1,5}[a-zA-Z]?|[A-Z]{1,3}\d{1,4}[a-zA-Z]?|Lô\s?\d{1,4}")


_OTHER_NUMBER = re.compile(r"[^\W_](?:[\w.\- ]{0,10}[^\W_])?")
"""Other shapes printed on real certificates ("k1. D9", "ĐLN", "Khoảnh 19"): kept for a person
to confirm; a lone letter or a stray symbol is garbage."""


def _parcel(value: Any, ctx: Context) -> Any:
    return _identifier(str(value).strip(), "parcel number")


def _sheet(value: Any, ctx: Context) -> Any:
    v = _identifier(str(value).strip(), "map sheet")
    if v.isdigit() and int(v) > 2000:
        raise Rejected(f"map sheet {v} is out of range (1–2000)", "range")
    return v


def _identifier(v: str, what: str) -> str:
    if _NUMBER.fullmatch(v):
        if re.fullmatch(r"0+[a-zA-Z]?", v):
            raise Doubtful(v, f"{what} 0 is unusual", "zero")
        return v
    if len(v) > 1 and _OTHER_NUMBER.fullmatch(v) and not re.fullmatch(r"\d+\W.*", v):
        raise Doubtful(v, f"{what} {v!r} is not digits with an optional letter")
    raise Rejected(f"{v!r} is not a {what} (digits, an optional letter)")


def _area(value: Any, ctx: Context) -> Any:
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        raise Rejected(f"{value!r} is not a number")
    if not AREA_RANGE[0] <= value <= AREA_RANGE[1]:
        raise Rejected(f"{value} m² is not a plausible parcel area", "range")
    return float(value)


def _registry(value: Any, ctx: Context) -> Any:
    v = str(value).strip()
    m = re.fullmatch(r"([A-Z]{1,4}) ?(\d{3,8})", v)
    if not m:
        raise Rejected(f"{v!r} is not a registry number (a prefix and 3–8 digits)")
    if m.group(1) not in REGISTRY_PREFIXES:
        raise Rejected(
            f"registry prefix {m.group(1)} is not one the registries use", "registry_prefix"
        )
    return f"{m.group(1)} {m.group(2)}"


def _serial(value: Any, ctx: Context) -> Any:
    v = str(value).strip()
    m = re.fullmatch(r"([A-Z]{1,2}) ?(\d{6}|\d{8})", v)
    if not m:
        raise Rejected(f"{v!r} is not a serial (2 letters and 6 or 8 digits)")
    letters, digits = m.groups()
    serial = f"{letters} {digits}"
    if ctx.form == "2025" and len(letters) != 2:  # the official mock-up prints "AA 123456"
        raise Rejected(f"serial {v} has not the 2025 form's 2 letters", "form")
    if ctx.form == "2009-2024" and len(digits) != 6:
        raise Doubtful(serial, f"serial {v} has not the 2009–2024 form's 6 digits", "form")
    return serial


def _issue_date(value: Any, ctx: Context) -> Any:
    try:
        d = date.fromisoformat(str(value))
    except ValueError:
        raise Rejected(f"{value!r} is not a date") from None
    first, last = ERAS.get(ctx.form, ERAS[None])
    if ctx.received and d > ctx.received:
        raise Rejected(f"{d:%d/%m/%Y} is after the capture was received", "after_capture")
    if (last and d > last) or d < ERAS[None][0] or (d < first and ctx.form == "2025"):
        raise Rejected(f"{d:%d/%m/%Y} is outside the {ctx.form or 'certificate'} form's era", "era")
    if d < first:  # a 1993 or 2003 red book shares the 2009 form's serial shape: ask
        raise Doubtful(d.isoformat(), f"{d:%d/%m/%Y} is before the {ctx.form} form existed", "era")
    return d.isoformat()


def _purpose(value: Any, ctx: Context) -> Any:
    v = str(value)
    if v not in PURPOSES:
        raise Rejected(f"{v!r} is not a purpose of the official list", "purpose_list")
    return v


def _purpose_code(value: Any, ctx: Context) -> Any:
    v = str(value)
    if v not in OFFICIAL_CODES:
        raise Rejected(f"{v!r} is not an official land-use code", "code_list")
    return v


def _term(value: Any, ctx: Context) -> Any:
    v = str(value)
    if v == "Lâu dài" or re.fullmatch(r"Đến ngày \d{2}/\d{2}/\d{4}", v):
        return v
    if re.search(r"(19|20|21)\d\d", v) and _ALLOWED.fullmatch(v):  # "đến tháng 5/2051"
        raise Doubtful(v, f"term {v!r} is neither 'Lâu dài' nor 'Đến ngày dd/mm/yyyy'")
    raise Rejected(f"{v!r} is neither 'Lâu dài' nor 'Đến ngày dd/mm/yyyy'")


def _use_form(value: Any, ctx: Context) -> Any:
    if value in ("Sử dụng riêng", "Sử dụng chung"):
        return value
    raise Rejected(f"{value!r} is neither 'Sử dụng riêng' nor 'Sử dụng chung'")


_UNIT_WORDS = re.compile(r"\b(phuong|xa|thi tran|quan|huyen|thi xa|thanh pho|tinh|khu)\b")


def _address(value: Any, ctx: Context) -> Any:
    v = _text(value, "address")
    if not _UNIT_WORDS.search(fold_keep_length(v)):
        raise Rejected("names no ward, commune, district or city", "address_unit")
    return v


def _issuer(value: Any, ctx: Context) -> Any:
    v = _text(value, "issuer")
    folded = fold_keep_length(v)
    if not re.match(r"(uy ban nhan dan|so |van phong|chi nhanh|bo )", folded):
        raise Rejected("does not start with an issuing body's name", "issuer_body")
    return v


def _origin(value: Any, ctx: Context) -> Any:
    """The origin is a formula of the law ("Nhà nước giao đất có thu tiền sử dụng đất"): a
    word that neither of its neighbours is ever seen with in the language model's corpus is
    likely a misread one ("Công nhậm quyền")."""
    v = _text(value, "origin")
    from pipeline.stages.vietnamese.model import load_model

    bigram = load_model().bigram
    for chunk in re.split(r"[,;.()]", v):
        words = [canonical_tones(w.lower()) for w in re.findall(r"[^\W\d_]+", chunk)]
        for a, w, b in zip(words, words[1:], words[2:], strict=False):
            if (a, w) not in bigram and (w, b) not in bigram:
                raise Doubtful(
                    v, f"origin: {w!r} is unusual between {a!r} and {b!r}", "unusual_words"
                )
    return v


_ALLOWED = re.compile(r"[\w\s,.;:()/\-–]+")


def _text(value: Any, what: str) -> str:
    """Free text that must read as Vietnamese: no stray symbols, every word a syllable."""
    v = nfc(str(value)).strip()
    if len(v) < 4:
        raise Rejected(f"{what} {v!r} is too short", "too_short")
    if not _ALLOWED.fullmatch(v):
        junk = "".join(sorted(set(re.sub(r"[\w\s,.;:()/\-–]", "", v))))
        raise Rejected(f"{what} holds stray symbols {junk!r}", "symbols")
    words = re.findall(r"[^\W\d_]+", v)
    if len(words) >= 3 and v.isascii():
        raise Doubtful(v, f"{what} was read without its diacritics", "no_diacritics")
    mixed = [t for t in v.split() if re.search(r"\d", t) and re.search(r"[^\x00-\x7f]", t)]
    if mixed:  # "5ố": a digit read for a letter of an accented word
        raise Rejected(f"{what} holds {mixed[0]!r}, digits inside a word", "digits_in_word")
    odd = [w for w in words if len(w) > 1 and not _syllable(w)]
    if odd:
        raise Rejected(
            f"{what} holds words that are not Vietnamese: {' '.join(odd[:3])}", "not_vietnamese"
        )
    return v


def _syllable(word: str) -> bool:
    lower = canonical_tones(word.lower())
    return is_vietnamese_syllable(lower) or (lower.upper() == word and len(word) <= 5)


CHECKS = {
    "parcel_number": _parcel,
    "map_sheet": _sheet,
    "area_m2": _area,
    "purpose": _purpose,
    "purpose_code": _purpose_code,
    "term": _term,
    "use_form": _use_form,
    "origin": _origin,
    "address": _address,
    "issue_date": _issue_date,
    "issuer": _issuer,
    "serial": _serial,
    "registry_number": _registry,
}


# --- all fields -----------------------------------------------------------------------------


def check_fields(found: Mapping[str, Found], ctx: Context) -> dict[str, Verdict]:
    """A verdict for every field of `CHECKS`: each value alone, then the agreements."""
    verdicts = {name: _check_one(name, found.get(name), ctx) for name in CHECKS}
    disagreements = {**_agreements(verdicts, ctx), **_qr_disagreements(verdicts, ctx)}
    for name, reason in disagreements.items():
        v = verdicts[name]
        reasons = "; ".join(r for r in (v.reason, reason.text) if r and r != "not read")
        codes = (*(c for c in v.codes if c != "not_read"), reason.code)
        args = v.args | reason.args
        verdicts[name] = Verdict(v.value, v.raw, v.confidence * 0.5, True, reasons, codes, args)
    return verdicts


def _check_one(name: str, f: Found | None, ctx: Context) -> Verdict:
    if f is not None and f.value is None and f.raw:
        reason = "does not read as a value of this field"
        return Verdict(None, f.raw.strip(), 0.0, True, reason, ("unreadable",))
    if f is None or f.value is None:
        if name in OPTIONAL.get(ctx.form or "", frozenset()):
            return Verdict(None, None, 0.0, False, None)
        return Verdict(None, None, 0.0, True, "not read", ("not_read",))
    raw = (f.raw if f.raw is not None else str(f.value)).strip(" ,;:")
    try:
        value = CHECKS[name](f.value, ctx)
    except Rejected as e:  # nothing is stored, so nothing can be right: confidence 0
        return Verdict(None, raw.strip(), 0.0, True, str(e), (e.code,))
    except Doubtful as d:
        return Verdict(d.value, raw.strip(), f.confidence, True, str(d), (d.code,))
    if name == "issue_date" and (marks := _date_marks(raw)):
        why = f"the date was read through {marks!r}"
        return Verdict(value, raw, f.confidence, True, why, ("date_words",))
    if f.confidence < (IDENTIFIER_REVIEW_BELOW if name in IDENTIFIERS else REVIEW_BELOW):
        why = "read with low confidence"
        return Verdict(value, raw.strip(), f.confidence, True, why, ("low_confidence",))
    return Verdict(value, raw.strip(), f.confidence, False, None)


def _date_marks(raw: str) -> str | None:
    """The day, month or year of a date written in words, when more than its digits was read
    there ("ngày s2⁄- tháng 02": the reader kept the 2 and guessed)."""
    folded = fold_keep_length(raw)
    m = re.search(r"ngay\s*(\S+)\s*thang\s*(\S+)\s*nam\s*(\S+)", folded)
    parts = [raw[m.start(i) : m.end(i)] for i in (1, 2, 3)] if m else []
    odd = [p for p in parts if not re.fullmatch(r"\d{1,4}[.,]?", p)]
    return odd[0] if odd else None


def _agreements(v: Mapping[str, Verdict], ctx: Context) -> dict[str, Reason]:
    out: dict[str, Reason] = {}
    purpose, code = v["purpose"].value, v["purpose_code"].value
    if purpose and code and PURPOSES.get(purpose) != code:
        why = f"purpose {purpose!r} and code {code} disagree"
        out["purpose"] = out["purpose_code"] = Reason(why, "purpose_code")
    if (area := _area_disagreement(v["area_m2"], ctx)) is not None:
        out["area_m2"] = area
    term, issued = v["term"].value, v["issue_date"].value
    if term and issued and term.startswith("Đến ngày"):
        until = date(*map(int, reversed(term.removeprefix("Đến ngày ").split("/"))))
        if until.isoformat() <= issued:
            out["term"] = Reason(
                "the term ends before the certificate was issued", "term_before_issue"
            )
    return out


def _area_disagreement(v: Verdict, ctx: Context) -> Reason | None:
    """The area in words ("bằng chữ: …", printed beside the digits to 2024) decides when it
    was read whole; else the corner polygon, when it is a plausible parcel at all (a misread
    corner gives millions of m², which says nothing of the stated area)."""
    area = v.value
    if area is None:
        return None
    words = parse_area_words(v.raw or "")
    if words is not None:
        if abs(words - area) < 0.05:
            return None
        return Reason(f"the area in words is {words:.1f} m²", "area_words", {"m2": words})
    polygon = ctx.polygon_m2
    if not polygon or not AREA_RANGE[0] <= polygon <= AREA_RANGE[1]:
        return None
    if abs(polygon - area) > max(AREA_TOLERANCE * area, 0.5):
        why = f"the corner polygon gives {polygon:.1f} m²"
        return Reason(why, "area_polygon", {"m2": round(polygon, 1)})
    return None


def _qr_disagreements(v: Mapping[str, Verdict], ctx: Context) -> dict[str, Reason]:
    """Fields the QR code names with another value: "QR says …"."""
    out: dict[str, Reason] = {}
    for name, said in (ctx.qr or {}).items():
        mine = v.get(name)
        if mine is None or said is None:
            continue
        if mine.value is None or not _same(name, mine.value, said):
            out[name] = Reason(f"QR says {said}", "qr_disagrees", {"qr": said})
    return out


def _same(name: str, a: Any, b: Any) -> bool:
    if name == "area_m2":
        return abs(float(a) - float(b)) <= 0.05
    if name in ("parcel_number", "map_sheet"):
        return str(a).lstrip("0").lower() == str(b).lstrip("0").lower()
    return re.sub(r"\s", "", str(a)).upper() == re.sub(r"\s", "", str(b)).upper()

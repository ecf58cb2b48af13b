"""Land-use-right certificates (GCN): which section each page holds, and the certificate's
fields, owners, corner polygon and changes, from the pages' OCR text (DOMAIN.md §1).

    classify_page(page) -> "I" | "II" | "III" | "IV" | "other"
    extract_certificate(pages, received=, qr=) -> CertificateFields  (.to_json(), .public_json())

Both generations are read: the 4-page 2009–2024 form (sections I–IV) and the 2-page 2025 QR
form (items 1–6; its page 1 classifies as "I", page 2 as "III"). Nothing is guessed: a field
whose label is not found, or whose value does not parse or fails its check (`validate.py`),
is None, with its raw reading and the reason in `review` and `needs_review` set; a value that
another reading contradicts (the polygon, the area in words, the QR code) is kept and flagged.
Pages that are not a certificate give kind "other" and no fields at all.

Every value carries its provenance: the page, the pixel box of the words it was read from,
and a confidence in 0..1 (the words' OCR confidence, lowered when the label was matched only
approximately or the value needed repair). Owners, ID numbers, birth years, the changes
section, the serial, the registry number and the QR code's content are restricted personal
data (DOMAIN.md §6):
`RESTRICTED_FIELDS` names them and `public_json()` leaves them out.

Corners are [easting, northing] in metres (VN-2000; EPSG:5897 for Hà Nội, axis order x=E,
y=N as GeoJSON wants): the printed table's Y then X, since Vietnamese tables print X = north.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any

from pipeline.stages.certificate.changes import _changes
from pipeline.stages.certificate.corners import read_corners, shoelace
from pipeline.stages.certificate.fields import Found
from pipeline.stages.certificate.labelled import _labelled
from pipeline.stages.certificate.layout import OTHER, classify_rows, detect_form, page_rows
from pipeline.stages.certificate.owners import read_owners
from pipeline.stages.certificate.qr import QrCode, parse_qr
from pipeline.stages.certificate.signing import _serial, _signing
from pipeline.stages.certificate.validate import AREA_TOLERANCE, Context, Verdict, check_fields
from pipeline.stages.pages.pagetext import PageText

FIELDS = (
    "parcel_number", "map_sheet", "area_m2", "purpose", "purpose_code", "term", "use_form",
    "origin", "address", "issue_date", "issuer", "serial", "registry_number",
)  # fmt: skip
RESTRICTED_FIELDS = frozenset({"owners", "changes", "serial", "registry_number", "qr"})
"""Parts of `to_json()` that are personal data: keys of the top level, of "fields", of
"provenance" or of "review" (the QR code's content can name the owners)."""


@dataclass
class CertificateFields:
    kind: str
    sections: list[str]
    form: str | None = None
    fields: dict[str, Found] = field(default_factory=dict)
    corners: list[tuple[float, float]] = field(default_factory=list)
    """[(easting, northing)] in metres, in the table's order."""
    corners_found: Found | None = None
    owners: list[dict[str, Any]] = field(default_factory=list)
    changes: list[dict[str, Any]] = field(default_factory=list)
    verdicts: dict[str, Verdict] = field(default_factory=dict)
    """Each field's check: the value kept (None when it failed), raw reading, confidence,
    whether a person must look at it and why (`validate.py`)."""
    qr: list[QrCode] = field(default_factory=list)

    def area_check(self) -> dict[str, Any] | None:
        stated = self.fields.get("area_m2")
        if not self.corners:
            return None
        polygon = round(shoelace(self.corners), 2)
        ok = None
        if stated is not None and stated.value is not None:
            ok = abs(polygon - stated.value) <= max(AREA_TOLERANCE * stated.value, 0.5)
        value = stated.value if stated else None
        return {"stated_m2": value, "polygon_m2": polygon, "ok": ok}

    def to_json(self) -> dict[str, Any]:
        if self.kind != "land_certificate":
            return {
                "kind": self.kind, "form": None, "pages": self.sections, "fields": {},
                "provenance": {}, "review": {}, "corners": [], "area_check": None, "owners": [],
                "changes": [], "qr": None,
            }  # fmt: skip
        provenance = {k: f.provenance() for k, f in self.fields.items()}
        if self.corners_found:
            provenance["corners"] = self.corners_found.provenance()
        for code in self.qr[:1]:
            provenance["qr"] = {"confidence": 1.0, "page": code.page, "box": list(code.box)}
        values = {k: self.fields[k].value if k in self.fields else None for k in FIELDS}
        if self.verdicts:
            values = {k: self.verdicts[k].value for k in FIELDS}
        return {
            "kind": self.kind,
            "form": self.form,
            "pages": self.sections,
            "fields": values,
            "provenance": provenance,
            "review": {k: v.to_json() for k, v in self.verdicts.items()},
            "corners": [[e, n] for e, n in self.corners],
            "area_check": self.area_check(),
            "owners": self.owners,
            "changes": self.changes,
            "qr": self.qr_json(),
        }

    def qr_json(self) -> dict[str, Any] | None:
        """The QR codes read (their raw text) and the fields the first one names."""
        if not self.qr:
            return None
        return {"codes": [c.to_json() for c in self.qr], "fields": parse_qr(self.qr[0].text)}

    def public_json(self) -> dict[str, Any]:
        """`to_json()` without the restricted parts (for public search and pages)."""
        out = self.to_json()
        for key in RESTRICTED_FIELDS:
            out.pop(key, None)
            out["fields"].pop(key, None)
            out["provenance"].pop(key, None)
            out["review"].pop(key, None)
        return out


def classify_page(page: PageText) -> str:
    """ "I", "II", "III", "IV" (the certificate section the page holds) or "other"."""
    return classify_rows(page_rows(page))


def extract_certificate(
    pages: Sequence[PageText], *, received: date | None = None, qr: Sequence[QrCode] = ()
) -> CertificateFields:
    """The certificate read from its pages' text (any order; non-certificate pages ignored),
    every field checked (`validate.check_fields`) against the form's era, the date the capture
    was `received`, the corner polygon and the `qr` codes read on its page images."""
    per_page = [page_rows(p) for p in pages]
    sections = [classify_rows(rows) for rows in per_page]
    kept = [(s, rows) for s, rows in zip(sections, per_page, strict=True) if s != OTHER]
    if not kept:
        return CertificateFields(kind="other", sections=sections)
    rows = [r for _, page in kept for r in page]
    first_sections = {page[0].page: s for s, page in kept if page}
    changes, in_changes = _changes(rows)
    body = [r for i, r in enumerate(rows) if i not in in_changes]
    found = _labelled(body)
    found.update(_signing(body))
    serial = _serial(body)
    if serial:
        found["serial"] = serial
    corners, corners_found = read_corners(body)
    result = CertificateFields(
        kind="land_certificate",
        sections=sections,
        form=detect_form(rows, serial.value if serial else None),
        fields=found,
        corners=corners,
        corners_found=corners_found,
        owners=read_owners(body, first_sections),
        changes=changes,
        qr=list(qr),
    )
    check = result.area_check()
    if corners_found and check and check["ok"] is False:
        result.corners_found = replace(corners_found, confidence=corners_found.confidence * 0.6)
    qr_fields = parse_qr(qr[0].text) if qr else None
    context = Context(result.form, received, check["polygon_m2"] if check else None, qr_fields)
    result.verdicts = check_fields(found, context)
    return result

"""What a certificate's changes column says (Nội dung thay đổi và cơ sở pháp lý): its kind
and legal basis, read from the entry's text (DOMAIN.md "Changes to a parcel").

Pure and forgiving: OCR'd text, folded (no diacritics, đ→d) before matching, so "chuyen
nhuong" read without its marks is still a transfer. An entry that matches nothing is "other":
it is kept on the timeline as read.
"""

from __future__ import annotations

import re

from models.language.text import fold

KIND_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("mortgage_release", re.compile(r"xoa (dang ky )?the chap|giai chap")),
    ("mortgage", re.compile(r"the chap")),
    ("split", re.compile(r"tach thua|tach (\w+ )?thanh (cac )?thua")),
    ("merge", re.compile(r"hop thua|hop (\w+ )?thanh (mot )?thua")),
    (
        "renumber",
        re.compile(r"(chinh ly|thay doi) so (hieu )?(thua|to)|danh (lai )?so|nay la thua"),
    ),
    ("purpose_correction", re.compile(r"muc dich su dung|chuyen muc dich")),
    ("area_correction", re.compile(r"dien tich|do dac lai|do ve lai")),
    ("transfer", re.compile(r"chuyen nhuong|thua ke|tang cho|chuyen quyen|mua ban")),
)
"""First match wins: a mortgage's release before its registration, a split before the area
it changes."""

_BASIS = re.compile(
    r"\b(theo|can cu|hop dong|quyet dinh|van ban|ban an|giay chung nhan|ho so)\b.*", re.DOTALL
)
_PERSON = re.compile(
    r"\b(ong|ba|ho ong|ho ba|anh|chi|vo|chong|cccd|cmnd|can cuoc)\b[\s:]|\b\d{9}\b|\b\d{12}\b"
)
NAMING_KINDS = frozenset({"transfer", "mortgage", "mortgage_release"})
"""Kinds whose entries name the parties (buyer, heir, lender)."""


def change_kind(text: str) -> str:
    folded = fold(text).lower()
    for kind, pattern in KIND_PATTERNS:
        if pattern.search(folded):
            return kind
    return "other"


def legal_basis(text: str) -> str:
    """The part of the entry that gives its basis ("theo Hợp đồng số …"), else the entry."""
    folded = fold(text).lower()
    found = _BASIS.search(folded)
    if not found or len(folded) != len(text):  # folding changed the length: keep it whole
        return text.strip()
    return text[found.start() :].strip()


def names_people(kind: str, text: str) -> bool:
    """Whether an entry names people: the kinds that always do, or a name or ID in its text."""
    return kind in NAMING_KINDS or bool(_PERSON.search(fold(text).lower()))

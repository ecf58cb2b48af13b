"""The signing block of a certificate (issue date, issuer) and its serial."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import replace

from pipeline.stages.certificate.fields import Found, find_date, find_serial
from pipeline.stages.certificate.layout import Row, label_at_start, union

_ISSUER = re.compile(
    r"uy\s*ban\s*nhan\s*dan|ubnd|so\s*tai\s*nguyen|so\s*nong\s*nghiep|van\s*phong\s*dang\s*ky"
    r"|chi\s*nhanh"
)
_TITLE = re.compile(r"^\W*(kt\W|tuq|tm\W|chu\s*tich|pho\s*chu|giam\s*doc|pho\s*giam)")


_DATE_LINE = re.compile(r"ngay.{0,14}thang.{0,14}nam|ngay\s*\S{1,2}\s?/")


def _signing(rows: Sequence[Row]) -> dict[str, Found]:
    """The issue date ("Hà Nội, ngày 06 tháng 11 năm 2014") and the body signing under it.

    The date line is the one an issuing body follows; when its (often handwritten) digits do
    not read as a date, the issuer is still taken and the date left out."""
    fallback: dict[str, Found] = {}
    for i, row in enumerate(rows):
        if re.search(r"thoi\s*han|den\s*ngay|loai\s*dat", row.folded):
            continue
        found = find_date(row.text)
        if not found and not _DATE_LINE.search(row.folded):
            continue
        out = {}
        if found:
            iso, start, end = found
            out["issue_date"] = Found(
                iso, row.span_conf(start, end), row.page, row.span_box(start, end)
            )
        issuer = _issuer(rows, i)
        if issuer:
            return {**out, "issuer": issuer}
        if found and not fallback and "," in row.text[: found[1]]:
            date_found = out["issue_date"]
            fallback = {"issue_date": replace(date_found, confidence=date_found.confidence * 0.7)}
    return fallback


def _issuer(rows: Sequence[Row], i: int) -> Found | None:
    for j in range(i + 1, min(i + 4, len(rows))):
        row = rows[j]
        if row.page != rows[i].page:
            return None
        body = _ISSUER.search(row.folded)
        if not body:
            continue
        # From the body's name on: "TM.", "KT." and their misreadings ("IM .") are left out.
        text = row.text[body.start() :]
        used = [row]
        nxt = rows[j + 1] if j + 1 < len(rows) else None
        cut = re.search(r"nhan\s*dan\W*$", row.folded)
        if cut and nxt and _upper(nxt.text) and not _TITLE.match(nxt.folded):
            text, used = f"{text} {nxt.text}", [row, nxt]
        conf = sum(r.span_conf(0, len(r.text)) for r in used) / len(used)
        return Found(text.strip(" ."), conf, row.page, union(r.box for r in used))
    return None


def _upper(text: str) -> bool:
    letters = [c for c in text if c.isalpha()]
    return bool(letters) and sum(c.isupper() for c in letters) >= 0.8 * len(letters)


def _serial(rows: Sequence[Row]) -> Found | None:
    """The serial: standing alone on its line if any such reading exists (the surest
    reading wins), else the first one found inside a line."""
    alone: list[Found] = []
    inside: list[Found] = []
    for row in rows:
        if label_at_start(row, "so vao so cap"):
            continue
        single = len(row.words) <= 2
        found = find_serial(row.text, alone=single)
        if found:
            value, start, end = found
            conf = row.span_conf(start, end) * (1.0 if single else 0.8)
            (alone if single else inside).append(
                Found(value, conf, row.page, row.span_box(start, end))
            )
    if alone:
        return max(alone, key=lambda f: f.confidence)
    return inside[0] if inside else None

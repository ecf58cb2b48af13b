"""The signing block of a certificate (issue date, issuer) and its serial."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date

from pipeline.stages.certificate.fields import Found, find_date, find_serial
from pipeline.stages.certificate.layout import Row, label_at_start, union

_ISSUER = re.compile(
    r"uy\s*ban\s*nhan\s*dan|ubnd|so\s*tai\s*nguyen|so\s*nong\s*nghiep|van\s*phong\s*dang\s*ky"
    r"|chi\s*nhanh"
)
_TITLE = re.compile(r"^\W*(kt\W|tuq|tm\W|chu\s*tich|pho\s*chu|giam\s*doc|pho\s*giam)")


_DATE_LINE = re.compile(r"ngay.{0,14}thang.{0,14}nam|ngay\s*\S{1,2}\s?/")
_PLACE_DATE = re.compile(r"[^\W\d_]\W{0,2},\W{0,2}ngay\b")
"""The signature block's date follows its place and a comma: "Hà Nội, ngày 06 tháng 11 …"."""
_NOT_ISSUE = re.compile(
    r"thoi\s*han|den\s*ngay|loai\s*dat|nghi\s*dinh|quyet\s*dinh|thong\s*tu|luat\b|hop\s*dong"
    r"|ho\s*so|ban\s*an|theo\b|can\s*cu|\bso\s*\S*\s*/"
)
"""Dates that are not the issue date: a term, a legal basis ("Nghị định … ngày …"), a
contract or dossier of a change."""
_ANY_DAY = date(2200, 1, 1)


def _signing(rows: Sequence[Row]) -> dict[str, Found]:
    """The issue date and the body signing under it, anchored on the signature block: the date
    line written "<place>, ngày … tháng … năm …" with an issuing body (or its signer's title)
    in the rows below. Any other date on the page (a term, a legal basis, a change's
    confirmation) is never taken for it.

    When the block's (often handwritten) digits do not read as a date, the issuer is still
    taken and the date left out; a place-and-date line with no body under it gives the date at
    a lower confidence."""
    best: tuple[int, int] | None = None
    for i, row in enumerate(rows):
        anchor = _date_anchor(row)
        if anchor is None:
            continue
        score = (2 if _PLACE_DATE.search(row.folded) else 0) + _below(rows, i)
        if score >= 2 and (best is None or score > best[0]):
            best = (score, i)
    if best is None:
        return {}
    score, i = best
    row = rows[i]
    out: dict[str, Found] = {}
    start = _date_anchor(row) or 0
    found = find_date(row.text[start:], today=_ANY_DAY)  # the era is `validate.py`'s to judge
    sure = 1.0 if score >= 4 else 0.7
    if found:
        iso, s, e = found
        raw = row.text[start + s : start + e]
        box = row.span_box(start + s, start + e)
        conf = _digits_conf(row, start + s, start + e) * sure
        out["issue_date"] = Found(iso, conf, row.page, box, raw)
    else:  # handwritten or garbled digits: kept unread for a person
        end = len(row.text)
        conf = row.span_conf(start, end) * sure
        out["issue_date"] = Found(None, conf, row.page, row.span_box(start, end), row.text[start:])
    issuer = _issuer(rows, i)
    if issuer:
        out["issuer"] = issuer
    return out


def _digits_conf(row: Row, start: int, end: int) -> float:
    """The confidence (0–1) of a date: that of its least sure word holding digits (a date is
    as wrong as its worst digit; the words "tháng", "năm" between them say nothing of it)."""
    words = [w for w in row.span_words(start, end) if any(c.isdigit() for c in w.text)]
    if not words:
        return row.span_conf(start, end)
    return min(min(max(w.conf, 0.0), 100.0) for w in words) / 100.0


def _date_anchor(row: Row) -> int | None:
    """Where the date of a date line starts ("ngày" after a comma, else the first "ngày"),
    unless what precedes it says the date is of something else."""
    m = _DATE_LINE.search(row.folded)
    if m is None:
        return None
    place = _PLACE_DATE.search(row.folded)
    start = row.folded.index("ngay", place.start()) if place else m.start()
    if _NOT_ISSUE.search(row.folded[:start]) or _NOT_ISSUE.search(row.folded[start:][:40]):
        return None
    return start


def _below(rows: Sequence[Row], i: int) -> int:
    """2 when an issuing body is named in the three rows under row `i`, 1 for a signer's
    title only, else 0."""
    for j in range(i + 1, min(i + 4, len(rows))):
        if rows[j].page != rows[i].page:
            break
        if _ISSUER.search(rows[j].folded):
            return 2
        if _TITLE.match(rows[j].folded):
            return 1
    return 0


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
        return Found(text.strip(" ."), conf, row.page, union(r.box for r in used), text)
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
                Found(value, conf, row.page, row.span_box(start, end), row.text[start:end])
            )
    if alone:
        return max(alone, key=lambda f: f.confidence)
    return inside[0] if inside else None

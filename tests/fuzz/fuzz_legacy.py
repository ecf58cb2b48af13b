"""Fuzz target: TCVN3/VNI detection and conversion (`models.language.legacy_encodings`), as the
importer calls it
on every text value (bytes read as UTF-8 and as Latin-1, the way legacy fonts arrive)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterable

from models.language.legacy_encodings import is_vietnamese_legacy, to_legacy, to_unicode


def test_one(data: bytes) -> None:
    for text in (data.decode("utf-8", "replace"), data.decode("latin-1")):
        encoding = is_vietnamese_legacy(text)
        if encoding is not None and not isinstance(to_unicode(text, encoding), str):
            raise AssertionError("to_unicode must return text")
        to_unicode(text)


def seeds() -> Iterable[bytes]:
    yield "NguyÔn V¨n A".encode()
    yield "Lª ThÞ Hoµ, x· §«ng Ng¹c".encode()
    yield b"Nguye64n Va9n A"  # VNI
    yield "Hà Nội, phường Cửa Nam".encode()
    for enc in ("tcvn3", "vni"):
        with contextlib.suppress(ValueError, KeyError):
            yield to_legacy("Đình làng Đông Ngạc, huyện Từ Liêm", enc).encode("latin-1", "replace")

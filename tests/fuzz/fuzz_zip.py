"""Fuzz target: a ZIP as ingest takes it: the probe (`pipeline.media`), then its members listed
(`pipeline.usecases.inputs.collect`) and each one extracted with the size and ratio limits."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterable

from pipeline.errors import InputRejectedError
from pipeline.media.probe import probe
from pipeline.media.sniff import ZIP
from pipeline.usecases.inputs import collect, materialised
from tests.factories import samples
from tests.fuzz.common import LIMITS, as_file, generated, scratch_dir


def test_one(data: bytes) -> None:
    path = as_file(data, "batch.zip")
    try:
        probe(path, ZIP, LIMITS)
    except InputRejectedError:
        return
    for item in collect([path], None, lambda p: True, LIMITS):
        if item.status != "rejected":
            raise AssertionError(f"{item.display}: {item.status} {item.error}")
        if item.source is None:
            continue
        try:
            with materialised(item.source, scratch_dir() / "tmp", LIMITS) as member:
                member.stat()
        except InputRejectedError:
            pass


def _zip(members: dict[str, bytes], method: int = zipfile.ZIP_DEFLATED) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", method) as z:
        for name, body in members.items():
            z.writestr(name, body)
    return buf.getvalue()


def seeds() -> Iterable[bytes]:
    yield from generated(
        lambda p: samples.make_zip(p.with_suffix(".zip"), {"a.png": b"\x89PNG\r\n\x1a\n" * 4}),
        lambda p: samples.make_zip_slip(p.with_suffix(".zip")),
        lambda p: samples.make_zip_symlink(p.with_suffix(".zip")),
    )
    yield _zip({"scans/p1.txt": b"page one " * 20, "scans/p2.txt": b"two"})
    yield _zip({"a": b"x" * 5000}, zipfile.ZIP_STORED)
    yield _zip({})

"""Fuzz target: resumable uploads (`pipeline.usecases.uploads`): the id, declared size and offset a
client
sends (as the `PUT /api/uploads/{id}?offset=` route passes them) and the chunks that follow.

Checked besides "only `UploadError` escapes": the stored bytes are always exactly the bytes
accepted so far, in order, never past the declared size."""

from __future__ import annotations

import contextlib
from collections.abc import Iterable

import atheris

from pipeline.usecases.uploads import UploadError, Uploads
from tests.fuzz.common import scratch_dir

MAX_BYTES = 4096


def test_one(data: bytes) -> None:
    fdp = atheris.FuzzedDataProvider(data)
    uploads = Uploads(scratch_dir() / "uploads", MAX_BYTES)
    size = fdp.ConsumeIntInRange(-10, MAX_BYTES + 10) if fdp.ConsumeBool() else None
    try:
        info = uploads.create(fdp.ConsumeUnicodeNoSurrogates(20), size, {"kind": "document"})
    except UploadError:
        return
    try:
        _exercise(uploads, info.id, fdp, size)
    finally:
        uploads.discard(info.id)


def _exercise(uploads: Uploads, upload_id: str, fdp, size: int | None) -> None:
    model = b""
    for _ in range(fdp.ConsumeIntInRange(0, 6)):
        target = upload_id if fdp.ConsumeProbability() < 0.9 else fdp.ConsumeUnicode(32)
        offset = fdp.ConsumeIntInRange(-3, len(model) + 3)
        chunk = fdp.ConsumeBytes(fdp.ConsumeIntInRange(0, 1200))
        try:
            uploads.write(target, offset, [chunk])
        except UploadError:
            continue
        if target != upload_id:
            raise AssertionError(f"a write to upload {target!r} was accepted")
        model = model[:offset] + chunk if offset + len(chunk) > len(model) else model
    stored = (uploads.root / upload_id / "data.part").read_bytes()
    if stored != model or len(stored) > min(size or MAX_BYTES, MAX_BYTES):
        raise AssertionError(f"stored {len(stored)} bytes, expected {len(model)}")
    with contextlib.suppress(UploadError):
        uploads.path_when_complete(upload_id)


def seeds() -> Iterable[bytes]:
    yield bytes(range(256)) * 4
    yield b"\x01\x10\x00abc\x03\x00\x00\x05hello" + b"\x00" * 300

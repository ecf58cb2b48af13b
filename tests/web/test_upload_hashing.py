"""Chunked uploads are hashed as they are written, whoever wrote which chunk, and a chunk is
received while the previous part of it is written."""

from __future__ import annotations

import hashlib
import os
import threading

import anyio
import pytest

from pipeline.usecases.uploads import RUNNING_HASHES, Uploads, UploadTooLargeError
from web.staff.uploads import receive_into

MiB = 1024 * 1024


def finish(uploads: Uploads, upload_id: str) -> str:
    with uploads.completed(upload_id) as done:
        assert done.path.read_bytes()  # still there for the blob store to take
        return done.sha256


def test_the_hash_is_kept_while_writing(tmp_path, monkeypatch) -> None:
    uploads = Uploads(tmp_path, 10 * MiB)
    data = os.urandom(3 * MiB + 5)
    up = uploads.create("scan.tif", len(data))
    uploads.write(up.id, 0, [data[: MiB + 3]])
    uploads.write(up.id, 0, [data[:100]])  # a repeated chunk changes nothing
    uploads.write(up.id, MiB, [data[MiB:]])  # overlaps what is stored, then appends
    calls = []
    real = os.preadv
    monkeypatch.setattr(os, "preadv", lambda *a: calls.append(a) or real(*a))
    assert finish(uploads, up.id) == hashlib.sha256(data).hexdigest()
    assert calls == []  # nothing was read back to hash it


def test_chunks_this_process_did_not_write_are_read_back(tmp_path) -> None:
    """Another process (here another `Uploads`) wrote the middle; a restart lost the hash."""
    data = os.urandom(2 * MiB)
    first, other = Uploads(tmp_path, 10 * MiB), Uploads(tmp_path, 10 * MiB)
    up = first.create("scan.tif", len(data))
    first.write(up.id, 0, [data[:1000]])
    other.write(up.id, 1000, [data[1000:MiB]])
    first.write(up.id, MiB, [data[MiB:]])
    assert finish(first, up.id) == hashlib.sha256(data).hexdigest()
    restarted = Uploads(tmp_path, 10 * MiB)
    up = first.create("again.tif", len(data))
    first.write(up.id, 0, [data])
    assert finish(restarted, up.id) == hashlib.sha256(data).hexdigest()


def test_a_write_that_failed_after_hashing_is_not_counted(tmp_path) -> None:
    uploads = Uploads(tmp_path, 10 * MiB)
    data = os.urandom(MiB)
    up = uploads.create("scan.tif", None)
    uploads.write(up.id, 0, [data])
    part = tmp_path / up.id / "data.part"
    os.truncate(part, 1000)  # as if the last bytes never reached the disk
    uploads.write(up.id, 1000, [data[1000:]])
    assert finish(uploads, up.id) == hashlib.sha256(data).hexdigest()


def test_a_refused_chunk_leaves_the_hash_right(tmp_path) -> None:
    uploads = Uploads(tmp_path, MiB)
    data = os.urandom(MiB)
    up = uploads.create("scan.tif", None)
    uploads.write(up.id, 0, [data[:1000]])
    with pytest.raises(UploadTooLargeError):
        uploads.write(up.id, 1000, [data, data])
    stored = (tmp_path / up.id / "data.part").read_bytes()
    assert finish(uploads, up.id) == hashlib.sha256(stored).hexdigest()


def test_running_hashes_are_bounded(tmp_path) -> None:
    uploads = Uploads(tmp_path, MiB)
    ids = [uploads.create(f"{n}.tif", None).id for n in range(RUNNING_HASHES + 5)]
    for upload_id in ids:
        uploads.write(upload_id, 0, [upload_id.encode()])
    assert len(uploads._hashes) == RUNNING_HASHES
    assert finish(uploads, ids[0]) == hashlib.sha256(ids[0].encode()).hexdigest()


GROUP = 4 * 1024 * 1024


async def pieces(n_groups: int, received: threading.Event | None = None):
    """A request body in 64 KiB network pieces; `received` is set once the second group starts."""
    for g in range(n_groups):
        for _ in range(GROUP // 65536):
            if g == 1 and received is not None:
                received.set()
            yield bytes([g]) * 65536


def test_the_next_group_is_received_while_the_last_is_written() -> None:
    received = threading.Event()
    written: list[int] = []

    def write(group: list[bytes]) -> None:
        if not written:  # the first group's write waits until the second is arriving
            assert received.wait(10), "the body was not received while a group was written"
        written.append(sum(len(p) for p in group))

    anyio.run(receive_into, pieces(3, received), write)
    assert written == [GROUP] * 3


def test_a_failed_write_stops_the_receiving_and_is_raised() -> None:
    read = []

    async def body():
        async for piece in pieces(6):
            read.append(piece)
            yield piece

    def write(group: list[bytes]) -> None:
        raise UploadTooLargeError("the upload would pass 4 bytes")

    with pytest.raises(UploadTooLargeError):
        anyio.run(receive_into, body(), write)
    assert sum(map(len, read)) < 6 * GROUP

"""Adopting a finished file (an upload) into the store: moved, not copied; a full disk leaves
nothing half-stored."""

from __future__ import annotations

import errno
import hashlib
import io
import os
from pathlib import Path
from typing import BinaryIO

import pytest

from storage.base import BlobStore, StorageError, key_for
from storage.local import LocalBlobStore
from tests.storage.test_blobstore_contract import leftovers

MiB = 1024 * 1024


def test_adopt_stores_the_bytes_and_takes_the_file(blob_store: BlobStore, tmp_path) -> None:
    data = os.urandom(3 * MiB + 17)
    src = tmp_path / "data.part"
    src.write_bytes(data)
    ref = blob_store.adopt(src)
    assert ref.key == key_for(hashlib.sha256(data).hexdigest()) and ref.size == len(data)
    assert blob_store.read_bytes(ref.key) == data
    assert not src.exists()
    assert leftovers(blob_store) == []
    again = tmp_path / "again.part"
    again.write_bytes(data)
    assert blob_store.adopt(again) == ref  # a duplicate is stored once, the file still taken
    assert not again.exists() and list(blob_store.keys()) == [ref.key]


def test_local_adopt_renames_the_file_in_place(tmp_path) -> None:
    store = LocalBlobStore(tmp_path / "blobs")
    src = tmp_path / "data.part"
    src.write_bytes(b"II*\x00" + os.urandom(MiB))
    inode = src.stat().st_ino
    ref = store.adopt(src)
    assert (store.root / ref.key).stat().st_ino == inode  # the same bytes on disk: no copy


def test_local_adopt_copies_a_file_with_another_name(tmp_path) -> None:
    """A hard link elsewhere could change the blob after it is stored: such a file is copied."""
    store = LocalBlobStore(tmp_path / "blobs")
    src = tmp_path / "data.part"
    src.write_bytes(b"original bytes")
    os.link(src, tmp_path / "other-name")
    ref = store.adopt(src)
    (tmp_path / "other-name").write_bytes(b"changed later")
    assert store.read_bytes(ref.key) == b"original bytes" and store.verify(ref.key) is None


def test_adopt_over_the_limit_stores_nothing(blob_store: BlobStore, tmp_path) -> None:
    src = tmp_path / "data.part"
    src.write_bytes(b"x" * 2000)
    with pytest.raises(StorageError, match="limit"):
        blob_store.adopt(src, max_bytes=1000)
    assert list(blob_store.keys()) == [] and leftovers(blob_store) == []


class FullDisk(io.RawIOBase):
    """A file that takes `room` bytes, then fails as a full disk does."""

    def __init__(self, real: BinaryIO, room: int) -> None:
        self.real, self.room = real, room

    def writable(self) -> bool:
        return True

    def write(self, data) -> int:
        if len(data) > self.room:
            raise OSError(errno.ENOSPC, "No space left on device")
        self.room -= len(data)
        return self.real.write(data)

    def fileno(self) -> int:
        return self.real.fileno()

    def close(self) -> None:
        self.real.close()
        super().close()


class FullDiskStore(LocalBlobStore):
    """A local store whose disk fills after `room` bytes of blobs, or on any new folder."""

    def __init__(self, root: Path, room: int) -> None:
        super().__init__(root)
        self.room = room

    def _create(self, path: Path) -> BinaryIO:
        return FullDisk(open(path, "wb"), self.room)  # type: ignore[return-value]

    def _place(self, tmp: Path, sha256: str, size: int):
        raise OSError(errno.ENOSPC, "No space left on device")


def test_a_full_disk_leaves_nothing_half_stored(tmp_path) -> None:
    store = FullDiskStore(tmp_path / "blobs", room=5 * MiB)
    with pytest.raises(OSError) as put_error:
        store.put(io.BytesIO(os.urandom(9 * MiB)))
    src = tmp_path / "data.part"
    src.write_bytes(os.urandom(MiB))
    with pytest.raises(OSError) as adopt_error:
        store.adopt(src)
    assert put_error.value.errno == adopt_error.value.errno == errno.ENOSPC
    assert list(store.keys()) == [] and leftovers(store) == []


def test_adopt_with_a_known_hash_does_not_read_the_file(tmp_path, monkeypatch) -> None:
    """An upload hashed as it was written is renamed and fsynced, never read back to hash it."""
    store = LocalBlobStore(tmp_path / "blobs")
    data = os.urandom(2 * MiB)
    src = tmp_path / "data.part"
    src.write_bytes(data)
    sha = hashlib.sha256(data).hexdigest()

    def no_second_pass(*args, **kwargs):
        raise AssertionError("the file was read again to hash it")

    monkeypatch.setattr("storage.local.HashingReader", no_second_pass)
    ref = store.adopt(src, sha256=sha)
    assert (ref.key, ref.size) == (key_for(sha), len(data))
    assert store.verify(ref.key) is None and not src.exists()


def test_adopt_with_a_known_hash_keeps_the_size_limit(blob_store: BlobStore, tmp_path) -> None:
    src = tmp_path / "data.part"
    src.write_bytes(b"x" * 2000)
    with pytest.raises(StorageError, match="limit"):
        blob_store.adopt(src, max_bytes=1000, sha256=hashlib.sha256(b"x" * 2000).hexdigest())
    assert list(blob_store.keys()) == [] and leftovers(blob_store) == []


@pytest.mark.services
def test_s3_adopt_with_a_known_hash_sends_once_and_checks_it(s3_url, tmp_path, monkeypatch):
    """A large file of known hash goes up in one pass; bytes that do not hash to what the caller
    said are not stored (the multipart upload is aborted)."""
    from storage.factory import blob_store_from_url

    monkeypatch.setattr("storage.s3_upload.SINGLE_PUT_MAX", 1 * MiB)
    store = blob_store_from_url(s3_url)
    data = os.urandom(3 * MiB)
    src = tmp_path / "data.part"
    src.write_bytes(data)
    wrong = hashlib.sha256(b"other bytes").hexdigest()
    with pytest.raises(StorageError, match="changed"):
        store.adopt(src, sha256=wrong)
    assert list(store.keys()) == [] and src.exists()
    monkeypatch.setattr(type(store), "_hash_file", no_hashing_pass)
    ref = store.adopt(src, sha256=hashlib.sha256(data).hexdigest())
    assert store.read_bytes(ref.key) == data and not src.exists()
    assert leftovers(store) == []


def no_hashing_pass(*args, **kwargs):
    raise AssertionError("the file was hashed before it was sent")

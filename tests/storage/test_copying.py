"""Copying a file into a blob: small files take the short path, changed files are refused."""

from __future__ import annotations

import hashlib
import os

import pytest

from storage.base import key_for
from storage.copying import SMALL_FILE, copy_file_hashing
from storage.local import LocalBlobStore


def test_a_small_file_is_copied_without_a_thread(tmp_path, monkeypatch) -> None:
    """Starting a thread cost more than copying a small scan (a ZIP of 50,000 of them)."""

    def no_thread(*args, **kwargs):
        raise AssertionError("a thread was started for a small file")

    monkeypatch.setattr("storage.copying.threading.Thread", no_thread)
    store = LocalBlobStore(tmp_path / "blobs")
    data = os.urandom(SMALL_FILE - 1)
    src = tmp_path / "page.png"
    src.write_bytes(data)
    ref = store.put_file(src)
    assert ref.key == key_for(hashlib.sha256(data).hexdigest()) and ref.size == len(data)
    assert store.read_bytes(ref.key) == data


@pytest.mark.parametrize("size", [0, 1000, SMALL_FILE - 1, SMALL_FILE + 1])
def test_the_copy_reports_bytes_past_the_size_it_was_given(tmp_path, size) -> None:
    """A file that grew after its size was taken hashes more bytes than that size: the caller
    refuses it rather than storing a blob whose hash is not its bytes'."""
    src, out = tmp_path / "src", tmp_path / "out"
    src.write_bytes(os.urandom(size + 10))
    with open(src, "rb") as s, open(out, "wb") as o:
        _, hashed = copy_file_hashing(s.fileno(), o.fileno(), size, None)
    assert hashed > size

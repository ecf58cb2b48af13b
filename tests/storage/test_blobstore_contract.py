"""One behavioural contract, run against every BlobStore backend (local files and S3)."""

from __future__ import annotations

import hashlib
import io
import random
import socket
import time
import urllib.request

import pytest

from storage.base import (
    BlobNotFoundError,
    BlobStore,
    InvalidKeyError,
    StorageError,
    StorageUnavailableError,
    key_for,
)
from storage.local import LocalBlobStore
from storage.s3 import S3BlobStore

MiB = 1024 * 1024
HOSTILE_KEYS = [
    "../../etc/passwd",
    "sha256/../x",
    "/etc/passwd",
    "sha256/ab/cd/../../../../etc/passwd",
    "sha256/AB/CD/" + "AB" * 32,
    "",
]


class PseudoRandomStream:
    """A read(n)-only stream of `size` deterministic pseudo-random bytes, generated on demand.

    Bytes come from fixed 64 KiB blocks, so the content does not depend on how it is read.
    """

    BLOCK = 64 * 1024

    def __init__(self, size: int, seed: int = 1) -> None:
        self._left = size
        self._rng = random.Random(seed)
        self._buffer = b""
        self.reads = 0

    def read(self, n: int = -1) -> bytes:
        n = self._left if n is None or n < 0 else min(n, self._left)
        self.reads += 1
        pieces, have = [self._buffer], len(self._buffer)
        while have < n:
            block = self._rng.randbytes(self.BLOCK)
            pieces.append(block)
            have += len(block)
        data = b"".join(pieces)
        self._buffer = data[n:]
        self._left -= n
        return data[:n]


def sha256_of_stream(size: int, seed: int = 1) -> str:
    stream, digest = PseudoRandomStream(size, seed), hashlib.sha256()
    while data := stream.read(100_003):  # a different read size than any backend uses
        digest.update(data)
    return digest.hexdigest()


def tamper(store: BlobStore, key: str, data: bytes) -> None:
    """Replace a stored blob's bytes behind the store's back."""
    if isinstance(store, LocalBlobStore):
        (store.root / key).write_bytes(data)
    else:
        assert isinstance(store, S3BlobStore)
        store.client.put_object(store.bucket, key, io.BytesIO(data), len(data))


def leftovers(store: BlobStore) -> list[str]:
    """Temporary files or objects a put left behind."""
    if isinstance(store, LocalBlobStore):
        return [p.name for p in (store.root / "tmp").iterdir()]
    assert isinstance(store, S3BlobStore)
    return [
        o.object_name
        for o in store.client.list_objects(store.bucket, recursive=True)
        if not o.object_name.startswith("sha256/")
    ]


@pytest.mark.parametrize("data", [b"hello, archive\n", b"", bytes(range(256)) * 1000])
def test_put_returns_content_address(blob_store: BlobStore, data: bytes) -> None:
    ref = blob_store.put(io.BytesIO(data))
    sha = hashlib.sha256(data).hexdigest()
    assert ref.sha256 == sha
    assert ref.key == key_for(sha)
    assert ref.size == len(data)
    assert blob_store.read_bytes(ref.key) == data
    assert blob_store.exists(ref.key)
    assert blob_store.size(ref.key) == len(data)
    assert leftovers(blob_store) == []


def test_same_bytes_twice_stored_once(blob_store: BlobStore) -> None:
    first = blob_store.put_bytes(b"same page")
    second = blob_store.put_bytes(b"same page")
    other = blob_store.put_bytes(b"other page")
    assert first == second
    keys = list(blob_store.keys())
    assert keys.count(first.key) == 1
    assert sorted(keys) == sorted([first.key, other.key])
    assert leftovers(blob_store) == []


def test_open_streams(blob_store: BlobStore) -> None:
    data = b"0123456789" * 1000
    ref = blob_store.put_bytes(data)
    with blob_store.open(ref.key) as f:
        head = f.read(10)
        rest = f.read()
    assert head + rest == data


def test_put_file_and_local_path(blob_store: BlobStore, tmp_path) -> None:
    src = tmp_path / "scan.tif"
    src.write_bytes(b"II*\x00" + b"\x01" * 5000)
    ref = blob_store.put_file(src)
    with blob_store.local_path(ref.key) as path:
        assert path.read_bytes() == src.read_bytes()


def test_delete(blob_store: BlobStore) -> None:
    keep = blob_store.put_bytes(b"keep")
    gone = blob_store.put_bytes(b"gone")
    blob_store.delete(gone.key)
    assert not blob_store.exists(gone.key)
    assert list(blob_store.keys()) == [keep.key]
    blob_store.delete(gone.key)  # deleting a missing blob is not an error


def test_missing_key(blob_store: BlobStore) -> None:
    key = key_for(hashlib.sha256(b"never stored").hexdigest())
    assert not blob_store.exists(key)
    with pytest.raises(BlobNotFoundError):
        blob_store.read_bytes(key)
    with pytest.raises(BlobNotFoundError), blob_store.open(key):
        pass
    with pytest.raises(BlobNotFoundError):
        blob_store.size(key)
    with pytest.raises(KeyError):  # BlobNotFoundError is also a KeyError
        blob_store.read_bytes(key)
    assert list(blob_store.keys()) == []


@pytest.mark.parametrize("key", HOSTILE_KEYS)
def test_hostile_keys_rejected(blob_store: BlobStore, key: str) -> None:
    with pytest.raises(InvalidKeyError), blob_store.open(key):
        pass
    with pytest.raises(InvalidKeyError):
        blob_store.exists(key)
    with pytest.raises(InvalidKeyError):
        blob_store.url(key)
    with pytest.raises(InvalidKeyError):
        blob_store.size(key)
    with pytest.raises(InvalidKeyError):
        blob_store.delete(key)
    with pytest.raises(ValueError):
        blob_store.read_bytes(key)


def test_max_bytes_exceeded_leaves_nothing(blob_store: BlobStore) -> None:
    kept = blob_store.put_bytes(b"already here")
    with pytest.raises(StorageError, match="limit"):
        blob_store.put(io.BytesIO(b"x" * 1001), max_bytes=1000)
    assert list(blob_store.keys()) == [kept.key]
    assert leftovers(blob_store) == []
    ok = blob_store.put(io.BytesIO(b"y" * 1000), max_bytes=1000)  # exactly the limit is fine
    assert ok.size == 1000


def test_max_bytes_exceeded_mid_multipart_leaves_nothing(blob_store: BlobStore) -> None:
    trace = io.StringIO()
    if isinstance(blob_store, S3BlobStore):
        blob_store.client.trace_on(trace)
    try:
        with pytest.raises(StorageError, match="limit"):
            blob_store.put(PseudoRandomStream(40 * MiB), max_bytes=20 * MiB)  # type: ignore[arg-type]
    finally:
        if isinstance(blob_store, S3BlobStore):
            blob_store.client.trace_off()
    assert list(blob_store.keys()) == []
    assert leftovers(blob_store) == []
    if isinstance(blob_store, S3BlobStore):
        # the multipart upload was aborted too (S3Proxy's filesystem backend cannot list
        # uploads, so the abort request is read from the client's trace)
        lines = trace.getvalue().splitlines()
        assert any(line.startswith("DELETE ") and "uploadId=" in line for line in lines), lines


def test_verify(blob_store: BlobStore) -> None:
    intact = blob_store.put_bytes(b"intact page")
    deleted = blob_store.put_bytes(b"deleted page")
    tampered = blob_store.put_bytes(b"tampered page")
    blob_store.delete(deleted.key)
    tamper(blob_store, tampered.key, b"forged page")
    assert blob_store.verify(intact.key) is None
    assert blob_store.verify(deleted.key) == "missing"
    reason = blob_store.verify(tampered.key)
    assert reason is not None and "mismatch" in reason
    assert hashlib.sha256(b"forged page").hexdigest() in reason


def test_url_downloads_the_blob(blob_store: BlobStore) -> None:
    data = b"presigned bytes " * 100
    ref = blob_store.put_bytes(data)
    url = blob_store.url(ref.key)
    expected_scheme = "file://" if isinstance(blob_store, LocalBlobStore) else "http://"
    assert url.startswith(expected_scheme)
    with urllib.request.urlopen(url, timeout=10) as response:
        assert response.read() == data


def test_streamed_put_40_mib(blob_store: BlobStore) -> None:
    size = 40 * MiB
    stream = PseudoRandomStream(size, seed=40)
    trace = io.StringIO()
    if isinstance(blob_store, S3BlobStore):
        blob_store.client.trace_on(trace)
    try:
        ref = blob_store.put(stream)  # type: ignore[arg-type]
    finally:
        if isinstance(blob_store, S3BlobStore):
            blob_store.client.trace_off()
    sha = sha256_of_stream(size, seed=40)
    assert (ref.sha256, ref.key, ref.size) == (sha, key_for(sha), size)
    assert stream.reads > 2  # read in pieces, not in one go
    if isinstance(blob_store, S3BlobStore):  # 16 MiB parts: 16 + 16 + 8
        part_uploads = [line for line in trace.getvalue().splitlines() if "partNumber=" in line]
        assert len(part_uploads) == 3, part_uploads
    assert blob_store.size(ref.key) == size
    assert blob_store.verify(ref.key) is None
    assert leftovers(blob_store) == []


# -- S3 only -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (
            "s3://AK%2Fx:s%40cr%3At@minio.local:9000/scans?secure=false&region=us-east-1",
            ("minio.local:9000", "scans", "AK/x", "s@cr:t", False, "us-east-1"),
        ),
        ("s3://k:s@s3.example.org/archive", ("s3.example.org", "archive", "k", "s", True, None)),
    ],
)
def test_s3_from_url(monkeypatch: pytest.MonkeyPatch, url: str, expected: tuple) -> None:
    seen = {}

    def fake_init(self, endpoint, bucket, **kwargs):
        seen.update(endpoint=endpoint, bucket=bucket, **kwargs)

    monkeypatch.setattr(S3BlobStore, "__init__", fake_init)
    S3BlobStore.from_url(url)
    assert (
        seen["endpoint"],
        seen["bucket"],
        seen["access_key"],
        seen["secret_key"],
        seen["secure"],
        seen["region"],
    ) == expected


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("s3://k:s@host:9000", "no bucket"),
        ("s3://k:s@host:9000/", "no bucket"),
        ("s3://k:s@host:9000/a/b", "just a bucket"),
        ("s3://k:s@host:9000/b?secure=maybe", "secure"),
        ("s3://k:s@host:9000/b?sercure=false", "unknown"),
    ],
)
def test_s3_from_url_rejects(url: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        S3BlobStore.from_url(url)


@pytest.mark.services
def test_s3_creates_missing_bucket(s3_url: str) -> None:
    store = S3BlobStore.from_url(s3_url)
    assert store.client.bucket_exists(store.bucket)
    S3BlobStore.from_url(s3_url)  # an existing bucket is fine


def test_s3_unavailable_fails_fast() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        endpoint = f"127.0.0.1:{s.getsockname()[1]}"  # closed again: nothing listens there
    url = f"s3://k:s@{endpoint}/bucket?secure=false&region=us-east-1"
    started = time.monotonic()
    with pytest.raises(StorageUnavailableError, match=endpoint):
        S3BlobStore.from_url(url)
    store = S3BlobStore.from_url(url, create_bucket=False)
    with pytest.raises(StorageUnavailableError, match=endpoint):
        store.put_bytes(b"page")
    with pytest.raises(StorageUnavailableError, match=endpoint):
        store.exists(key_for(hashlib.sha256(b"page").hexdigest()))
    assert time.monotonic() - started < 10


def test_put_file_over_max_bytes_leaves_nothing(blob_store: BlobStore, tmp_path) -> None:
    src = tmp_path / "big.bin"
    src.write_bytes(b"z" * 1001)
    with pytest.raises(StorageError, match="limit"):
        blob_store.put_file(src, max_bytes=1000)
    assert list(blob_store.keys()) == []
    assert leftovers(blob_store) == []
    assert blob_store.put_file(src, max_bytes=1001).size == 1001


@pytest.mark.parametrize("size", [0, 3 * MiB, 20 * MiB])
def test_put_file_stores_once_and_dedupes(
    blob_store: BlobStore, tmp_path, monkeypatch: pytest.MonkeyPatch, size: int
) -> None:
    # on S3, files above 1 MiB take the multipart path (16 MiB parts: 20 MiB is two)
    monkeypatch.setattr("storage.s3_upload.SINGLE_PUT_MAX", 1 * MiB)
    src = tmp_path / "scan.bin"
    src.write_bytes(random.Random(size).randbytes(size))
    sha = hashlib.sha256(src.read_bytes()).hexdigest()
    ref = blob_store.put_file(src)
    assert (ref.key, ref.sha256, ref.size) == (key_for(sha), sha, size)
    assert blob_store.read_bytes(ref.key) == src.read_bytes()
    assert blob_store.verify(ref.key) is None
    assert blob_store.put_file(src) == ref
    assert blob_store.put_bytes(src.read_bytes()) == ref
    assert list(blob_store.keys()) == [ref.key]
    assert leftovers(blob_store) == []

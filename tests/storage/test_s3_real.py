"""What only a real S3 server shows: signatures are checked (moto accepts any)."""

from __future__ import annotations

import hashlib
import io
import os
import re
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import pytest

from storage.base import StorageAccessDeniedError, StorageError, key_for
from storage.factory import blob_store_from_url
from storage.s3 import S3BlobStore
from tests.s3server import real_s3, remove_bucket, s3_url_for

pytestmark = pytest.mark.services


@pytest.fixture
def bucket() -> Iterator[tuple[str, str, str, str]]:
    endpoint, access_key, secret_key = real_s3()
    name = f"sohoa-test-{uuid.uuid4().hex[:12]}"
    yield endpoint, access_key, secret_key, name
    remove_bucket(endpoint, access_key, secret_key, name)


@pytest.fixture
def store(bucket: tuple[str, str, str, str]) -> S3BlobStore:
    return S3BlobStore.from_url(s3_url_for(*bucket))


def get(url: str) -> tuple[int, bytes, dict[str, str]]:
    """A plain HTTP GET, as a browser would make it."""
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.read(), dict(response.headers)
    except urllib.error.HTTPError as e:
        return e.code, e.read(), dict(e.headers)


def with_query(url: str, **changes: str) -> str:
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query, keep_blank_values=True))
    query.update(changes)
    return urlunsplit(parts._replace(query=urlencode(query)))


# -- credentials ---------------------------------------------------------------


def test_wrong_secret_is_access_denied_not_unavailable(bucket, store) -> None:
    endpoint, access_key, _, name = bucket
    ref = store.put_bytes(b"a page")
    wrong = s3_url_for(endpoint, access_key, "not-the-secret", name)
    started = time.monotonic()
    with pytest.raises(StorageAccessDeniedError, match="denied access") as caught:
        S3BlobStore.from_url(wrong)  # checks the bucket on start
    assert "SOHOA_STORAGE_URL" in str(caught.value)
    assert "not-the-secret" not in str(caught.value)
    intruder = S3BlobStore.from_url(wrong, create_bucket=False)
    with pytest.raises(StorageAccessDeniedError):
        intruder.put_bytes(b"forged page")
    with pytest.raises(StorageAccessDeniedError):
        intruder.read_bytes(ref.key)
    with pytest.raises(StorageAccessDeniedError):
        intruder.exists(ref.key)
    with pytest.raises(StorageAccessDeniedError):
        list(intruder.keys())
    assert time.monotonic() - started < 5  # refused at once, never retried
    assert list(store.keys()) == [ref.key]


def test_unknown_access_key_is_access_denied(bucket) -> None:
    endpoint, _, secret_key, name = bucket
    with pytest.raises(StorageAccessDeniedError):
        S3BlobStore.from_url(s3_url_for(endpoint, "nobody", secret_key, name))


def test_ingest_with_a_wrong_secret_fails_clearly_without_blaming_the_file(
    tmp_path: Path, bucket, store
) -> None:
    from scanners.cli.ingest import ingest_paths
    from tests.factories import samples
    from tests.helpers import make_services

    endpoint, access_key, _, name = bucket
    svc = make_services(tmp_path, SOHOA_AUTO_RUNS="")
    svc.blobs = S3BlobStore.from_url(
        s3_url_for(endpoint, access_key, "not-the-secret", name), create_bucket=False
    )
    png = samples.make_png(tmp_path / "p.png", 10, 10)
    started = time.monotonic()
    [result] = ingest_paths(svc, [png], None, None, as_json=True)
    assert result.status == "failed"
    assert "denied access" in result.error and "unavailable" not in result.error
    assert time.monotonic() - started < 5  # no retries with backoff
    assert list(svc.store.capture_ids()) == []


# -- presigned URLs ------------------------------------------------------------


def test_presigned_url_works_with_a_plain_get(store) -> None:
    data = b"register page " * 1000
    ref = store.put_bytes(data)
    url = store.url(ref.key, filename="Sổ địa chính 1.pdf")
    status, body, headers = get(url)
    assert (status, body) == (200, data)
    disposition = headers.get("Content-Disposition", "")
    assert "attachment" in disposition and "S%E1%BB%95" in disposition


def test_tampered_signature_gets_403(store) -> None:
    ref = store.put_bytes(b"signed bytes")
    url = store.url(ref.key)
    signature = dict(parse_qsl(urlsplit(url).query))["X-Amz-Signature"]
    forged = signature[:-1] + ("0" if signature[-1] != "0" else "1")
    assert get(with_query(url, **{"X-Amz-Signature": forged}))[0] == 403
    # another key under the same signature
    other = store.put_bytes(b"other bytes")
    assert get(url.replace(ref.key, other.key))[0] == 403
    # a longer life than was signed
    assert get(with_query(url, **{"X-Amz-Expires": "604800"}))[0] == 403


def test_expired_url_is_refused(store) -> None:
    ref = store.put_bytes(b"short-lived")
    url = store.url(ref.key, expires=timedelta(seconds=1))
    time.sleep(2.5)
    status, body, _ = get(url)
    assert status == 403, body


def test_lifetime_over_seven_days_is_refused(store) -> None:
    ref = store.put_bytes(b"x")
    with pytest.raises(ValueError, match="7 days"):
        store.url(ref.key, expires=timedelta(days=7, seconds=1))
    assert get(store.url(ref.key, expires=timedelta(days=7)))[0] == 200


def test_presigned_for_the_public_url(bucket) -> None:
    """Signed for the address browsers reach (here `localhost`), not the internal one."""
    endpoint = bucket[0]
    port = endpoint.rpartition(":")[2]
    public = f"http://localhost:{port}"
    store = blob_store_from_url(s3_url_for(*bucket), public_url=public)
    ref = store.put_bytes(b"for the browser")
    url = store.url(ref.key)
    assert urlsplit(url).netloc == f"localhost:{port}"
    assert get(url)[:2] == (200, b"for the browser")
    # the host is part of the signature: the same URL on the internal address is refused
    assert get(url.replace(f"localhost:{port}", endpoint))[0] == 403
    # without a public URL the link names the internal endpoint
    internal = blob_store_from_url(s3_url_for(*bucket)).url(ref.key)
    assert urlsplit(internal).netloc == endpoint


def test_public_url_from_settings_reaches_the_store(tmp_path: Path, bucket) -> None:
    from tests.helpers import make_services

    port = bucket[0].rpartition(":")[2]
    svc = make_services(
        tmp_path,
        SOHOA_STORAGE_URL=s3_url_for(*bucket),
        SOHOA_STORAGE_PUBLIC_URL=f"http://localhost:{port}",
    )
    ref = svc.blobs.put_bytes(b"settings")
    assert urlsplit(svc.blobs.url(ref.key)).netloc == f"localhost:{port}"


@pytest.mark.parametrize(
    "public", ["files.example.org", "ftp://files.example.org", "https://example.org/s3"]
)
def test_bad_public_url_is_refused(bucket, public: str) -> None:
    with pytest.raises(ValueError, match="SOHOA_STORAGE_PUBLIC_URL"):
        blob_store_from_url(s3_url_for(*bucket), public_url=public)


def test_presigned_url_of_a_missing_blob_gets_404(store) -> None:
    url = store.url(key_for("0" * 64))
    assert get(url)[0] == 404


# -- a known hash goes straight to its address -----------------------------------

REQUEST = re.compile(r"^(GET|HEAD|PUT|POST|DELETE) (\S+) HTTP/1\.1$")


def requests_of(store: S3BlobStore, call) -> tuple[object, list[tuple[str, str]]]:
    """What `call()` returned and the (method, path?query) of each request it made."""
    trace = io.StringIO()
    store.client.trace_on(trace)
    try:
        result = call()
    finally:
        store.client.trace_off()
    found = (REQUEST.match(line) for line in trace.getvalue().splitlines())
    return result, [(m[1], m[2]) for m in found if m]


def objects(store: S3BlobStore) -> list[str]:
    """Every object in the bucket (S3Proxy's filesystem backend also lists folders: not those)."""
    names = (o.object_name for o in store.client.list_objects(store.bucket, recursive=True))
    return sorted(name for name in names if name and not name.endswith("/"))


def test_put_file_uploads_once_to_its_address(store: S3BlobStore, tmp_path: Path) -> None:
    src = tmp_path / "scan.tif"
    src.write_bytes(os.urandom(3 * 1024 * 1024))
    sha = hashlib.sha256(src.read_bytes()).hexdigest()
    ref, requests = requests_of(store, lambda: store.put_file(src))
    assert ref.key == key_for(sha)
    writes = [(m, p) for m, p in requests if m in ("PUT", "POST", "DELETE")]
    # one PutObject, at the content address: no incoming/ object, no server-side copy
    assert writes == [("PUT", f"/{store.bucket}/{ref.key}")], requests
    assert objects(store) == [ref.key]
    assert store.read_bytes(ref.key) == src.read_bytes()

    again, requests = requests_of(store, lambda: store.put_file(src))
    assert again == ref
    assert [m for m, _ in requests] == ["HEAD"], requests  # a duplicate costs no upload
    _, requests = requests_of(store, lambda: store.put_bytes(src.read_bytes()))
    assert [m for m, _ in requests] == ["HEAD"], requests


def test_large_put_file_is_one_multipart_upload_to_its_address(
    store: S3BlobStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("storage.s3_upload.SINGLE_PUT_MAX", 1024 * 1024)
    src = tmp_path / "model.ply"
    src.write_bytes(os.urandom(20 * 1024 * 1024))
    ref, requests = requests_of(store, lambda: store.put_file(src))
    path = f"/{store.bucket}/{ref.key}"
    writes = [(m, p.split("?")[0]) for m, p in requests if m in ("PUT", "POST", "DELETE")]
    # create, two 16 MiB parts (16 + 4), complete: every byte sent once, to its address
    assert writes == [("POST", path), ("PUT", path), ("PUT", path), ("POST", path)], requests
    assert objects(store) == [ref.key]
    assert store.verify(ref.key) is None
    _, requests = requests_of(store, lambda: store.put_file(src))
    assert [m for m, _ in requests] == ["HEAD"], requests


def test_a_file_changed_after_hashing_is_not_stored(
    store: S3BlobStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("storage.s3_upload.SINGLE_PUT_MAX", 1024 * 1024)
    src = tmp_path / "scan.tif"
    src.write_bytes(os.urandom(6 * 1024 * 1024))
    stale = hashlib.sha256(b"what the file held when it was hashed").hexdigest()
    monkeypatch.setattr(store, "_hash_file", lambda f, limit: (stale, src.stat().st_size))
    trace = io.StringIO()
    store.client.trace_on(trace)
    try:
        with pytest.raises(StorageError, match="changed while it was being stored"):
            store.put_file(src)
    finally:
        store.client.trace_off()
    lines = trace.getvalue().splitlines()
    # the multipart upload was aborted, never completed: nothing became visible
    assert any(line.startswith("DELETE ") and "uploadId=" in line for line in lines), lines
    assert objects(store) == []
    assert not store.exists(key_for(stale))

"""What only a real S3 server shows: signatures are checked (moto accepts any)."""

from __future__ import annotations

import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import pytest

from storage.base import StorageAccessDeniedError, key_for
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
    from scanners.ingest_command import ingest_paths
    from tests import samples
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

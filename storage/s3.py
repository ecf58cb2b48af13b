"""Blobs as objects in an S3-compatible bucket (MinIO, AWS S3, …), via the `minio` client."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import BinaryIO, NoReturn, cast
from urllib.parse import parse_qsl, unquote, urlsplit

import certifi
import urllib3
from minio import Minio
from minio.error import MinioException, S3Error, ServerError
from urllib3.exceptions import HTTPError as Urllib3HTTPError
from urllib3.util import Retry, Timeout

from storage.base import (
    KEY_PATTERN,
    BlobNotFoundError,
    BlobStore,
    StorageAccessDeniedError,
    StorageError,
    StorageUnavailableError,
    check_key,
    content_disposition,
)
from storage.s3_upload import S3UploadMixin

MAX_PRESIGN = timedelta(days=7)
"""S3's limit on a presigned URL's lifetime (signature version 4)."""


_NOT_FOUND_CODES = frozenset({"NoSuchKey", "NoSuchObject", "NoSuchVersion"})
_DENIED_CODES = frozenset(
    {
        "AccessDenied",
        "SignatureDoesNotMatch",
        "InvalidAccessKeyId",
        "InvalidToken",
        "ExpiredToken",
        "AllAccessDisabled",
        "AccountProblem",
        "InvalidSecurity",
    }
)
_UNAVAILABLE_CODES = frozenset(
    {"SlowDown", "ServiceUnavailable", "InternalError", "RequestTimeout"}
)
_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"0", "false", "no", "off"})
_URL_PARAMS = frozenset({"secure", "region"})


class S3BlobStore(S3UploadMixin, BlobStore):
    """Content-addressed objects under `sha256/…` in one bucket.

    When the hash is known before the upload (`put_bytes`, and `put_file`, which hashes the
    file in a first pass), the bytes go straight to their content address, once: a single
    PutObject up to 64 MiB, else a multipart upload that is completed only when the bytes
    sent hash to that address (a file changed meanwhile aborts it). Either way S3 makes the
    object visible whole or not at all, and a blob already stored is not uploaded again.

    A stream of unknown hash (`put`, e.g. a web upload) goes to a temporary
    `incoming/<uuid4>` object (multipart above 16 MiB), hashed on the way, then is copied
    server-side to its content address, so a reader never sees a partial blob under a
    `sha256/…` key. Temporary objects left behind by a crash are garbage: an expiry
    lifecycle rule on `incoming/` can sweep them.
    """

    url_scheme = "s3"

    def __init__(
        self,
        endpoint: str,
        bucket: str,
        *,
        access_key: str | None = None,
        secret_key: str | None = None,
        secure: bool = True,
        region: str | None = None,
        create_bucket: bool = True,
        connect_timeout: float = 3.0,
        read_timeout: float = 60.0,
        public_url: str | None = None,
    ) -> None:
        """`public_url` (e.g. `https://files.example.org`): the address users' browsers reach
        the same S3 server at; presigned URLs are signed for it instead of `endpoint`."""
        if not bucket:
            raise ValueError("S3BlobStore needs a bucket name")
        self.endpoint = endpoint
        self.bucket = bucket
        self.secure = secure
        # Few, quick retries: an unreachable S3 must fail in seconds, not minutes
        # (the client's default is 5 minutes' timeouts and 5 retries).
        http = urllib3.PoolManager(
            timeout=Timeout(connect=connect_timeout, read=read_timeout),
            maxsize=10,
            cert_reqs="CERT_REQUIRED",
            ca_certs=os.environ.get("SSL_CERT_FILE") or certifi.where(),
            retries=Retry(total=2, backoff_factor=0.2, status_forcelist=[500, 502, 503, 504]),
        )
        self.client = Minio(
            endpoint,
            access_key=access_key,
            secret_key=secret_key,
            secure=secure,
            region=region,
            http_client=http,
        )
        self.public_url = public_url or None
        self._presigner = (
            self._public_client(public_url, access_key, secret_key, region)
            if public_url
            else self.client
        )
        if create_bucket:
            with self._errors():
                if not self.client.bucket_exists(bucket):
                    try:
                        self.client.make_bucket(bucket)
                    except S3Error as exc:
                        # Another process created it between the check and now.
                        if exc.code not in ("BucketAlreadyOwnedByYou", "BucketAlreadyExists"):
                            raise

    @classmethod
    def from_url(cls, url: str, **kwargs: object) -> S3BlobStore:
        """`s3://ACCESS_KEY:SECRET_KEY@host:port/bucket?secure=false&region=us-east-1`."""
        parts = urlsplit(url)
        if parts.scheme not in ("s3", "minio"):
            raise ValueError(f"an S3 storage URL must start with s3://, got {parts.scheme!r}")
        endpoint = parts.netloc.rpartition("@")[2]
        if not endpoint:
            raise ValueError(
                "the S3 storage URL has no host, e.g. s3://KEY:SECRET@host:9000/bucket"
            )
        bucket = parts.path.strip("/")
        if not bucket:
            raise ValueError(
                "the S3 storage URL names no bucket; "
                "expected s3://KEY:SECRET@host:port/BUCKET[?secure=false&region=…]"
            )
        if "/" in bucket:
            raise ValueError(
                f"the S3 storage URL's path must be just a bucket name, got {bucket!r}"
            )
        access_key = unquote(parts.username) if parts.username is not None else None
        secret_key = unquote(parts.password) if parts.password is not None else None
        if access_key and secret_key is None:
            raise ValueError("the S3 storage URL has an access key but no secret key")
        params = dict(parse_qsl(parts.query, keep_blank_values=True))
        unknown = set(params) - _URL_PARAMS
        if unknown:
            raise ValueError(
                f"unknown S3 storage URL parameter(s) {sorted(unknown)}; "
                f"known: {sorted(_URL_PARAMS)}"
            )
        secure_text = params.get("secure", "true").lower()
        if secure_text not in _TRUE | _FALSE:
            raise ValueError(f"secure= must be true or false, got {params['secure']!r}")
        return cls(
            endpoint,
            bucket,
            access_key=access_key or None,
            secret_key=secret_key if access_key else None,
            secure=secure_text in _TRUE,
            region=params.get("region") or None,
            **kwargs,  # type: ignore[arg-type]
        )

    def __repr__(self) -> str:
        return f"S3BlobStore({self._where()})"

    def _public_client(
        self, public_url: str, access_key: str | None, secret_key: str | None, region: str | None
    ) -> Minio:
        """A client that only signs, for the public address: it makes no request, so it needs
        the region up front (asked of the internal endpoint when the URL names none)."""
        parts = urlsplit(public_url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError(
                f"SOHOA_STORAGE_PUBLIC_URL must be http(s)://host[:port], got {public_url!r}"
            )
        if parts.path.strip("/") or parts.query:
            raise ValueError(
                "SOHOA_STORAGE_PUBLIC_URL must be just a scheme and a host (S3 signs the path), "
                f"got {public_url!r}"
            )
        if region is None:
            with self._errors():
                region = self.client._get_region(self.bucket)
        return Minio(
            parts.netloc,
            access_key=access_key,
            secret_key=secret_key,
            secure=parts.scheme == "https",
            region=region,
        )

    def delete(self, key: str) -> None:
        check_key(key)
        with self._errors(key):
            self.client.remove_object(self.bucket, key)

    # -- reading ---------------------------------------------------------------

    @contextmanager
    def open(self, key: str) -> Iterator[BinaryIO]:
        check_key(key)
        with self._errors(key):
            response = self.client.get_object(self.bucket, key)
        try:
            with self._errors(key):
                yield cast(BinaryIO, response)
        finally:
            response.close()
            response.release_conn()

    def exists(self, key: str) -> bool:
        check_key(key)
        return self._stat_exists(key)

    def size(self, key: str) -> int:
        check_key(key)
        with self._errors(key):
            return cast(int, self.client.stat_object(self.bucket, key).size)

    def keys(self) -> Iterator[str]:
        with self._errors():
            for obj in self.client.list_objects(self.bucket, prefix="sha256/", recursive=True):
                name = obj.object_name
                if name is not None and KEY_PATTERN.fullmatch(name):
                    yield name

    def url(
        self,
        key: str,
        expires: timedelta = timedelta(hours=1),
        *,
        filename: str | None = None,
    ) -> str:
        """A presigned GET, for `SOHOA_STORAGE_PUBLIC_URL` when set; with `filename`, the
        download is saved under that name (Content-Disposition)."""
        check_key(key)
        if not timedelta(seconds=1) <= expires <= MAX_PRESIGN:
            raise ValueError(f"a presigned URL lasts from 1 second to 7 days, not {expires}")
        headers = (
            {"response-content-disposition": content_disposition(filename)} if filename else None
        )
        with self._errors(key):
            return self._presigner.presigned_get_object(
                self.bucket, key, expires=expires, response_headers=headers
            )

    # -- helpers ---------------------------------------------------------------

    def _stat_exists(self, key: str) -> bool:
        try:
            with self._errors(key):
                self.client.stat_object(self.bucket, key)
        except BlobNotFoundError:
            return False
        return True

    def _where(self) -> str:
        scheme = "https" if self.secure else "http"
        return f"{scheme}://{self.endpoint}/{self.bucket}"

    @contextmanager
    def _errors(self, key: str | None = None) -> Iterator[None]:
        """Translate client and transport errors into the storage.base exceptions."""
        try:
            yield
        except S3Error as exc:
            self._raise_s3(exc, key)
        except ServerError as exc:
            raise StorageUnavailableError(
                f"S3 at {self._where()} failed with HTTP {exc.status_code}: {exc}"
            ) from exc
        except (Urllib3HTTPError, ConnectionError) as exc:
            raise StorageUnavailableError(
                f"S3 at {self._where()} is unreachable: {type(exc).__name__}: {exc}"
            ) from exc
        except MinioException as exc:
            raise StorageError(f"S3 at {self._where()}: {exc}") from exc

    def _raise_s3(self, exc: S3Error, key: str | None) -> NoReturn:
        if exc.code in _NOT_FOUND_CODES and key is not None:
            raise BlobNotFoundError(key) from exc
        if exc.code in _DENIED_CODES:
            raise StorageAccessDeniedError(
                f"S3 at {self._where()} denied access ({exc.code}): check the access key and "
                f"secret in SOHOA_STORAGE_URL and the bucket's permissions"
            ) from exc
        if exc.code in _UNAVAILABLE_CODES:
            raise StorageUnavailableError(f"S3 at {self._where()}: {exc.code}: {exc}") from exc
        raise StorageError(f"S3 at {self._where()}: {exc.code}: {exc}") from exc

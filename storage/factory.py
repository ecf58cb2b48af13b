"""Choose a blob store from its URL (`file://…` or `s3://…`)."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import unquote, urlsplit

from storage.base import BlobStore


def blob_store_from_url(url: str, public_url: str | None = None) -> BlobStore:
    """`public_url`: where users' browsers reach the S3 server (presigned URLs are signed for
    it); unused by local storage, whose files the web app serves."""
    parts = urlsplit(url)
    if parts.scheme == "file":
        from storage.local import LocalBlobStore

        return LocalBlobStore(Path(unquote(parts.path)))
    if parts.scheme in ("s3", "minio"):
        from storage.s3 import S3BlobStore

        return S3BlobStore.from_url(url, public_url=public_url or None)
    raise ValueError(f"SOHOA_STORAGE_URL must start with file:// or s3://, got {url!r}")

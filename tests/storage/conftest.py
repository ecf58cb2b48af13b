"""Blob store fixtures: every contract test runs on the local backend and on the real S3 server."""

from __future__ import annotations

from pathlib import Path

import pytest

from storage.base import BlobStore
from storage.factory import blob_store_from_url
from tests.s3server import free_port, moto_endpoint, s3_url  # noqa: F401  (fixtures)


@pytest.fixture(params=["local", pytest.param("s3", marks=pytest.mark.services)])
def blob_store(request: pytest.FixtureRequest, tmp_path: Path) -> BlobStore:
    if request.param == "local":
        return blob_store_from_url((tmp_path / "blobs").as_uri())
    return blob_store_from_url(request.getfixturevalue("s3_url"))

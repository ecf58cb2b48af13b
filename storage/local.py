"""Blobs as files under one folder (the embedded default)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import BinaryIO

from storage.base import (
    BlobNotFoundError,
    BlobRef,
    BlobStore,
    HashingReader,
    check_key,
    key_for,
)


class LocalBlobStore(BlobStore):
    """Writes go to `tmp/` on the same file system, are fsynced, then renamed into place."""

    url_scheme = "file"

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self._tmp = self.root / "tmp"
        self._tmp.mkdir(parents=True, exist_ok=True)

    def put(self, stream: BinaryIO, *, max_bytes: int | None = None) -> BlobRef:
        tmp = self._tmp / uuid.uuid4().hex
        reader = HashingReader(stream, limit=max_bytes)
        try:
            with open(tmp, "wb") as out:
                for chunk in reader.chunks():
                    out.write(chunk)
                out.flush()
                os.fsync(out.fileno())
            sha256 = reader.hash.hexdigest()
            key = key_for(sha256)
            final = self._path(key)
            if final.exists():
                tmp.unlink()
            else:
                new_folder = not final.parent.exists()
                final.parent.mkdir(parents=True, exist_ok=True)
                os.replace(tmp, final)
                # the rename (and a new folder's entry) is durable only once its folder is
                for folder in [final.parent, *([final.parent.parent] if new_folder else [])]:
                    fd = os.open(folder, os.O_RDONLY)
                    try:
                        os.fsync(fd)
                    finally:
                        os.close(fd)
            return BlobRef(key=key, sha256=sha256, size=reader.size)
        finally:
            tmp.unlink(missing_ok=True)

    @contextmanager
    def open(self, key: str) -> Iterator[BinaryIO]:
        path = self._path(key)
        if not path.is_file():
            raise BlobNotFoundError(key)
        with open(path, "rb") as f:
            yield f

    @contextmanager
    def local_path(self, key: str) -> Iterator[Path]:
        path = self._path(key)
        if not path.exists():
            raise BlobNotFoundError(key)
        yield path

    def exists(self, key: str) -> bool:
        return self._path(key).exists()

    def size(self, key: str) -> int:
        try:
            return self._path(key).stat().st_size
        except FileNotFoundError:
            raise BlobNotFoundError(key) from None

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)

    def keys(self) -> Iterator[str]:
        base = self.root / "sha256"
        for path in sorted(base.glob("*/*/*")):
            yield f"sha256/{path.parent.parent.name}/{path.parent.name}/{path.name}"

    def url(
        self, key: str, expires: timedelta = timedelta(hours=1), *, filename: str | None = None
    ) -> str:
        return self._path(key).resolve().as_uri()

    def _path(self, key: str) -> Path:
        return self.root / check_key(key)

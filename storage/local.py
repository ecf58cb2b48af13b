"""Blobs as files under one folder (the embedded default)."""

from __future__ import annotations

import os
import stat
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import BinaryIO

from storage.base import (
    CHUNK,
    BlobNotFoundError,
    BlobRef,
    BlobStore,
    HashingReader,
    StorageError,
    check_key,
    fsync_folder,
    key_for,
)
from storage.copying import copy_file_hashing, copy_hashing


class LocalBlobStore(BlobStore):
    """Writes go to `tmp/` on the same file system, are fsynced, then renamed into place.

    Each byte is read once, hashed once and written once (hashing overlaps the writing), one
    fsync per blob; a file adopted from the same file system is renamed, not copied."""

    url_scheme = "file"

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self._tmp = self.root / "tmp"
        self._tmp.mkdir(parents=True, exist_ok=True)

    def put(self, stream: BinaryIO, *, max_bytes: int | None = None) -> BlobRef:
        tmp = self._tmp / uuid.uuid4().hex
        reader = HashingReader(stream, limit=max_bytes)
        try:
            with self._create(tmp) as out:
                copy_hashing(reader, out)
                out.flush()
                os.fsync(out.fileno())
            return self._place(tmp, reader.hash.hexdigest(), reader.size)
        finally:
            tmp.unlink(missing_ok=True)

    def put_file(self, path: Path, *, max_bytes: int | None = None) -> BlobRef:
        """The kernel copies the file while this thread hashes it; one fsync. A file that
        changes meanwhile (its size or modification time) is refused, not stored."""
        with open(path, "rb") as src:
            before = os.fstat(src.fileno())
            if not stat.S_ISREG(before.st_mode):  # a pipe or a device: hash on the way
                return self.put(src, max_bytes=max_bytes)
            if max_bytes is not None and before.st_size > max_bytes:
                raise StorageError(f"stream exceeds the limit of {max_bytes} bytes")
            tmp = self._tmp / uuid.uuid4().hex
            try:
                with self._create(tmp) as out:
                    sha256, size = copy_file_hashing(
                        src.fileno(), out.fileno(), before.st_size, max_bytes
                    )
                after = os.fstat(src.fileno())
                if size != before.st_size or _changed(before, after):
                    raise StorageError(
                        f"the file changed while it was being stored ({before.st_size} bytes, "
                        f"then {after.st_size}); store it again once it is complete"
                    )
                return self._place(tmp, sha256, size)
            finally:
                tmp.unlink(missing_ok=True)

    def adopt(
        self, path: Path, *, max_bytes: int | None = None, sha256: str | None = None
    ) -> BlobRef:
        """Rename the file into place when it is on this store's file system and has no other
        name (a hard link elsewhere could change the blob later); else copy it, then remove it.
        A file whose `sha256` the caller gives is not read at all, only fsynced.

        The file is first renamed into `tmp/`, so a crash before it reaches its address leaves
        it where the store's garbage is, never half-adopted under a `sha256/…` key."""
        info = os.stat(path)
        if info.st_dev != os.stat(self._tmp).st_dev or info.st_nlink != 1:
            return super().adopt(path, max_bytes=max_bytes)
        tmp = self._tmp / uuid.uuid4().hex
        with open(path, "rb") as f:
            if sha256 is None:
                reader = HashingReader(f, limit=max_bytes)
                while reader.read(CHUNK):
                    pass
                sha256, size = reader.hash.hexdigest(), reader.size
            else:
                size = os.fstat(f.fileno()).st_size
                if max_bytes is not None and size > max_bytes:
                    raise StorageError(f"stream exceeds the limit of {max_bytes} bytes")
            os.fsync(f.fileno())
        os.replace(path, tmp)
        try:
            return self._place(tmp, sha256, size)
        finally:
            tmp.unlink(missing_ok=True)

    def _create(self, path: Path) -> BinaryIO:
        """A new file to write a blob into (a test puts a full disk behind it)."""
        return open(path, "wb")

    def _place(self, tmp: Path, sha256: str, size: int) -> BlobRef:
        """Rename a complete, fsynced file from `tmp/` to its content address (durably)."""
        key = key_for(sha256)
        final = self._path(key)
        if not final.exists():
            new_folder = not final.parent.exists()
            final.parent.mkdir(parents=True, exist_ok=True)
            os.replace(tmp, final)
            # the rename (and a new folder's entry) is durable only once its folder is
            for folder in [final.parent, *([final.parent.parent] if new_folder else [])]:
                fsync_folder(folder)
        return BlobRef(key=key, sha256=sha256, size=size)

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


def _changed(before: os.stat_result, after: os.stat_result) -> bool:
    return (before.st_size, before.st_mtime_ns) != (after.st_size, after.st_mtime_ns)

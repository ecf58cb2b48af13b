"""The BlobStore interface, shared by every backend."""

from __future__ import annotations

import hashlib
import os
import re
from abc import ABC, abstractmethod
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import BinaryIO

CHUNK = 1024 * 1024
KEY_PATTERN = re.compile(r"sha256/[0-9a-f]{2}/[0-9a-f]{2}/[0-9a-f]{64}")


class StorageError(Exception):
    """Base of the errors a blob store raises."""


class BlobNotFoundError(StorageError, KeyError):
    """No blob under that key."""


class StorageUnavailableError(StorageError):
    """The backend could not be reached; a transient failure worth retrying."""


class StorageAccessDeniedError(StorageError):
    """The backend refused the credentials or the permission (wrong key or secret, a policy).

    Permanent until an operator fixes the configuration: retrying does not help."""


class InvalidKeyError(StorageError, ValueError):
    """A key that is not a content address (and might be a path traversal)."""


@dataclass(frozen=True)
class BlobRef:
    key: str
    sha256: str
    size: int


def key_for(sha256: str) -> str:
    """Content address of some bytes: `sha256/ab/cd/abcd…`."""
    return f"sha256/{sha256[:2]}/{sha256[2:4]}/{sha256}"


def check_key(key: str) -> str:
    if not KEY_PATTERN.fullmatch(key):
        raise InvalidKeyError(f"not a blob key: {key!r}")
    return key


def download_name(original: str) -> str:
    """The last part of an original name as received (which may be a path, `/` or `\\`)."""
    return re.split(r"[\\/]", original)[-1] or "download"


def content_disposition(filename: str) -> str:
    """`attachment` under a file name, any script (RFC 6266: an ASCII fallback and UTF-8)."""
    from urllib.parse import quote

    name = download_name(filename)
    ascii_name = "".join(c if 32 <= ord(c) < 127 and c not in '"\\;' else "_" for c in name)
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name, safe='')}"


def sha256_of_key(key: str) -> str:
    return check_key(key).rsplit("/", 1)[1]


class HashingReader:
    """Wraps a stream, hashing and counting what passes through."""

    def __init__(self, stream: BinaryIO, limit: int | None = None) -> None:
        self._stream = stream
        self._limit = limit
        self.hash = hashlib.sha256()
        self.size = 0

    def read(self, n: int = -1) -> bytes:
        data = self._stream.read(CHUNK if n is None or n < 0 else n)
        self.hash.update(data)
        self.size += len(data)
        if self._limit is not None and self.size > self._limit:
            raise StorageError(f"stream exceeds the limit of {self._limit} bytes")
        return data

    def chunks(self) -> Iterator[bytes]:
        while data := self.read(CHUNK):
            yield data


def fsync_folder(folder: Path) -> None:
    """Make a rename (or a new entry) in `folder` durable."""
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class BlobStore(ABC):
    """Content-addressed blobs: the key is derived from the sha256 of the bytes.

    Writes are atomic: a reader sees either nothing or the whole blob, never
    a partial one, and storing the same bytes twice stores them once.
    """

    url_scheme: str

    @abstractmethod
    def put(self, stream: BinaryIO, *, max_bytes: int | None = None) -> BlobRef:
        """Store a stream, hashing it on the way through; returns its ref."""

    def put_bytes(self, data: bytes) -> BlobRef:
        import io

        return self.put(io.BytesIO(data))

    def put_file(self, path: Path, *, max_bytes: int | None = None) -> BlobRef:
        with open(path, "rb") as f:
            return self.put(f, max_bytes=max_bytes)

    def adopt(
        self, path: Path, *, max_bytes: int | None = None, sha256: str | None = None
    ) -> BlobRef:
        """Take a file the caller owns and will not touch again (a finished upload) into the
        store. Once stored the file is gone (moved or uploaded, then removed); after an error
        it may still be there, for the caller to discard. `sha256`, when the caller hashed the
        bytes as it wrote them, spares reading the file only to hash it.

        The default uploads it (`put_file`) and removes it; a local store on the same file
        system renames it into place instead, so its bytes are never written twice."""
        ref = self.put_file(path, max_bytes=max_bytes)
        path.unlink(missing_ok=True)
        return ref

    @abstractmethod
    @contextmanager
    def open(self, key: str) -> Iterator[BinaryIO]:
        """A readable stream of the blob."""

    def read_bytes(self, key: str) -> bytes:
        with self.open(key) as f:
            return f.read()

    @abstractmethod
    def exists(self, key: str) -> bool: ...

    @abstractmethod
    def size(self, key: str) -> int: ...

    @abstractmethod
    def delete(self, key: str) -> None: ...

    @abstractmethod
    def keys(self) -> Iterator[str]:
        """Every stored key."""

    @abstractmethod
    def url(
        self, key: str, expires: timedelta = timedelta(hours=1), *, filename: str | None = None
    ) -> str:
        """Where a client can download the blob (presigned on S3, saved as `filename`)."""

    @contextmanager
    def local_path(self, key: str) -> Iterator[Path]:
        """A file path holding the blob, for tools that need one (a temporary copy if remote)."""
        import shutil
        import tempfile

        with self.open(key) as src, tempfile.NamedTemporaryFile(prefix="sohoa-") as tmp:
            shutil.copyfileobj(src, tmp, CHUNK)
            tmp.flush()
            yield Path(tmp.name)

    def verify(self, key: str) -> str | None:
        """Re-hash a blob; returns None when it matches its address, else a reason."""
        try:
            with self.open(key) as f:
                reader = HashingReader(f)
                for _ in reader.chunks():
                    pass
        except BlobNotFoundError:
            return "missing"
        actual = reader.hash.hexdigest()
        expected = sha256_of_key(key)
        return None if actual == expected else f"sha256 mismatch: stored bytes hash to {actual}"

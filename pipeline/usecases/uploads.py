"""Resumable chunked uploads: bytes arrive in pieces at stated offsets, then go to ingest.

An upload is a folder `<root>/<id>/` holding `data.part` and `meta.json`. A chunk at the
current end is appended; a chunk that lies wholly inside what is already stored is a repeat
and is checked and ignored (a client that lost the answer resends it); a chunk that starts
past the end is refused with the expected offset. Memory is bounded by the copy buffer, not
the chunk or file size. A lock file per upload (`fcntl.flock`) serialises writers, also across
processes.

Bytes are hashed (sha256) as they are appended, so a finished upload is not read again to learn
its content address. The running hash lives in this process only; whatever it has not seen
(chunks written by another process, or before a restart) is read back from the file when the
next chunk is appended or when the upload completes, so it is always the hash of the file.

Chunks are not fsynced one by one (a journal commit per chunk cost more than the copy): the
finished file is fsynced once, when the blob store adopts it. After a crash the offset a
client resumes from is the file's size, which on a journaling file system in ordered mode
(ext4's default) never runs ahead of the bytes written.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import re
import secrets
import shutil
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import BinaryIO

BUFFER = 1024 * 1024
RUNNING_HASHES = 256
"""Uploads whose running hash is kept; one abandoned past that is read back if it completes."""
_ID = re.compile(r"[0-9a-f]{32}")


class UploadError(Exception):
    """Base of the chunked-upload errors."""


class UploadNotFoundError(UploadError, LookupError):
    """No upload with that id (never created, completed or discarded)."""


class UploadOffsetError(UploadError):
    """A chunk does not start where the stored bytes end (or differs from them)."""

    def __init__(self, message: str, expected: int) -> None:
        super().__init__(message)
        self.expected = expected


class UploadTooLargeError(UploadError):
    """The upload would pass its declared size or the file size limit."""


@dataclass(frozen=True)
class UploadInfo:
    id: str
    name: str
    meta: dict
    size: int | None  # declared total, if the client said
    offset: int  # bytes stored so far

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class FinishedUpload:
    info: UploadInfo
    path: Path
    sha256: str
    """Of the file's bytes, hashed as they were written (the blob store need not read them)."""


class RunningHash:
    """The sha256 of a file's first `upto` bytes, which never change once written."""

    def __init__(self) -> None:
        self.digest = hashlib.sha256()
        self.upto = 0

    def add(self, data: bytes, at: int, f: BinaryIO) -> None:
        """`data` was just written at offset `at` of `f` (open for reading)."""
        self.catch_up(f, at)
        if at == self.upto:
            self.digest.update(data)
            self.upto += len(data)

    def catch_up(self, f: BinaryIO, end: int) -> None:
        """Hash the file's bytes from `upto` to `end` (those this process did not see written).

        A hash ahead of the file (bytes hashed, then lost by a write that failed) starts again."""
        if self.upto > end:
            self.digest, self.upto = hashlib.sha256(), 0
        if self.upto == end:
            return
        f.flush()
        buffer = bytearray(BUFFER)
        while self.upto < end and (n := os.preadv(f.fileno(), [buffer], self.upto)):
            n = min(n, end - self.upto)
            self.digest.update(memoryview(buffer)[:n])
            self.upto += n


class Uploads:
    """Chunked uploads under `root`, each at most `max_bytes`."""

    def __init__(self, root: Path, max_bytes: int) -> None:
        self.root = root
        self.max_bytes = max_bytes
        self._hashes: dict[str, RunningHash] = {}

    def create(self, name: str, size: int | None = None, meta: dict | None = None) -> UploadInfo:
        """A new upload of `name` (`size` bytes if known; `meta` kept for when it completes)."""
        if size is not None and not 0 < size <= self.max_bytes:
            raise UploadTooLargeError(f"size must be 1 to {self.max_bytes} bytes, got {size}")
        upload_id = secrets.token_hex(16)
        folder = self.root / upload_id
        folder.mkdir(parents=True)
        (folder / "data.part").touch()
        meta = {"name": name, "meta": meta or {}, "size": size}
        (folder / "meta.json").write_text(json.dumps(meta, ensure_ascii=False))
        return self.info(upload_id)

    def info(self, upload_id: str) -> UploadInfo:
        folder = self._folder(upload_id)
        meta = json.loads((folder / "meta.json").read_text())
        offset = (folder / "data.part").stat().st_size
        return UploadInfo(upload_id, meta["name"], meta["meta"], meta["size"], offset)

    def write(self, upload_id: str, offset: int, chunks: Iterable[bytes]) -> UploadInfo:
        """Store a chunk that starts at `offset`; returns the upload with its new offset."""
        with self.writer(upload_id, offset) as w:
            for chunk in chunks:
                w.put(chunk)
        return self.info(upload_id)

    @contextmanager
    def writer(self, upload_id: str, offset: int) -> Iterator[ChunkWriter]:
        """A writer for one chunk arriving piece by piece (e.g. from an HTTP body stream)."""
        with self._locked(upload_id) as folder:
            info = self.info(upload_id)
            if offset > info.offset or offset < 0:
                raise UploadOffsetError(f"expected a chunk at offset {info.offset}", info.offset)
            limit = min(info.size if info.size is not None else self.max_bytes, self.max_bytes)
            with open(folder / "data.part", "r+b") as f:
                f.seek(offset)
                yield ChunkWriter(f, offset, info.offset, limit, self._running(upload_id))

    def path_when_complete(self, upload_id: str) -> Path:
        """The assembled file, once every declared byte is there."""
        info = self.info(upload_id)
        if info.size is not None and info.offset != info.size:
            raise UploadOffsetError(
                f"{info.offset} of {info.size} bytes received; resume at {info.offset}",
                info.offset,
            )
        return self._folder(upload_id) / "data.part"

    @contextmanager
    def completed(self, upload_id: str) -> Iterator[FinishedUpload]:
        """The finished upload, its assembled file (for the caller to take: the blob store may
        rename it away) and its sha256; no chunk can be written meanwhile, and the upload is
        discarded afterwards whatever the outcome."""
        with self._locked(upload_id):
            info = self.info(upload_id)
            path = self.path_when_complete(upload_id)
            running = self._running(upload_id)
            with open(path, "rb") as f:
                running.catch_up(f, info.offset)
            try:
                yield FinishedUpload(info, path, running.digest.hexdigest())
            finally:
                self.discard(upload_id)

    def discard(self, upload_id: str) -> None:
        self._hashes.pop(upload_id, None)
        shutil.rmtree(self._folder(upload_id), ignore_errors=True)

    def _running(self, upload_id: str) -> RunningHash:
        """This upload's running hash (new, from offset 0, if this process has none)."""
        running = self._hashes.get(upload_id)
        if running is None:
            while len(self._hashes) >= RUNNING_HASHES:
                self._hashes.pop(next(iter(self._hashes)), None)
            running = self._hashes[upload_id] = RunningHash()
        return running

    def _folder(self, upload_id: str) -> Path:
        if not _ID.fullmatch(upload_id) or not (self.root / upload_id / "meta.json").exists():
            raise UploadNotFoundError(f"no upload {upload_id!r}")
        return self.root / upload_id

    @contextmanager
    def _locked(self, upload_id: str) -> Iterator[Path]:
        folder = self._folder(upload_id)
        with open(folder / "lock", "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                yield folder
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)


class ChunkWriter:
    """Writes one chunk: compares what overlaps the stored bytes, appends (and hashes) the rest."""

    def __init__(
        self, f: BinaryIO, position: int, stored: int, limit: int, running: RunningHash
    ) -> None:
        self.f, self.position, self.stored, self.limit = f, position, stored, limit
        self.running = running

    def put(self, data: bytes) -> None:
        self.put_all([data])

    def put_all(self, chunks: Iterable[bytes]) -> None:
        """Several consecutive pieces of the chunk, in order."""
        for piece in _pieces(chunks):
            self._put(piece)

    def _put(self, chunk: bytes) -> None:
        overlap = max(0, min(len(chunk), self.stored - self.position))
        if overlap and self.f.read(overlap) != chunk[:overlap]:
            raise UploadOffsetError(
                f"bytes at offset {self.position} differ from those stored; "
                f"resume at {self.stored}",
                self.stored,
            )
        rest = chunk[overlap:]
        if rest:
            if self.position + len(chunk) > self.limit:
                raise UploadTooLargeError(f"the upload would pass {self.limit} bytes")
            self.f.write(rest)
            self.running.add(rest, self.stored, self.f)
        self.position += len(chunk)
        self.stored = max(self.stored, self.position)


def _pieces(chunks: Iterable[bytes]) -> Iterator[bytes]:
    """Re-cut arbitrary chunks into pieces of at most BUFFER bytes."""
    for chunk in chunks:
        for start in range(0, len(chunk), BUFFER):
            yield chunk[start : start + BUFFER]

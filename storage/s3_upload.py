"""The writing paths of `S3BlobStore`: a stream of unknown hash through `incoming/`, bytes or a
file of known hash straight to their content address (one PutObject, or a multipart upload
completed only when the bytes sent hash to that address).
"""

from __future__ import annotations

import hashlib
import io
import logging
import os
import stat
import uuid
from pathlib import Path
from typing import BinaryIO, cast

from minio.commonconfig import ComposeSource
from minio.datatypes import Part
from minio.helpers import MIN_PART_SIZE

from storage.base import CHUNK, BlobRef, HashingReader, StorageError, key_for

log = logging.getLogger(__name__)


PART_SIZE = 16 * 1024 * 1024
SINGLE_PUT_MAX = 64 * 1024 * 1024
"""A blob of known hash up to this size is read into memory and sent as one PutObject (on
loopback one PUT beats 16 MiB parts, sequential or parallel); above it, multipart."""


INCOMING_PREFIX = "incoming/"


class S3UploadMixin:
    """The `put` methods of `S3BlobStore` (which holds the client, bucket and error mapping)."""

    def put(self, stream: BinaryIO, *, max_bytes: int | None = None) -> BlobRef:
        reader = HashingReader(stream, limit=max_bytes)
        tmp = f"{INCOMING_PREFIX}{uuid.uuid4()}"
        try:
            with self._errors():
                # length=-1: size unknown, uploaded in 16 MiB parts as it is read. One
                # upload thread, so at most one part is held in memory at a time.
                self.client.put_object(
                    self.bucket,
                    tmp,
                    cast(BinaryIO, reader),
                    length=-1,
                    part_size=PART_SIZE,
                    num_parallel_uploads=1,
                )
                sha256 = reader.hash.hexdigest()
                key = key_for(sha256)
                if not self._stat_exists(key):
                    # compose, not copy: a single CopyObject is limited to 5 GiB, while
                    # compose_object switches to multipart UploadPartCopy above that.
                    self.client.compose_object(self.bucket, key, [ComposeSource(self.bucket, tmp)])
            return BlobRef(key=key, sha256=sha256, size=reader.size)
        finally:
            self._remove_quietly(tmp)

    def put_bytes(self, data: bytes) -> BlobRef:
        sha256 = hashlib.sha256(data).hexdigest()
        if len(data) <= SINGLE_PUT_MAX:
            return self._put_whole(data, sha256)
        return self._put_parts(io.BytesIO(data), sha256, len(data), None)

    def put_file(self, path: Path, *, max_bytes: int | None = None) -> BlobRef:
        """Hash the file first, then upload it once to its content address (not at all when
        that blob is already stored)."""
        with open(path, "rb") as f:
            info = os.fstat(f.fileno())
            if not stat.S_ISREG(info.st_mode):  # a pipe or a device: hash on the way
                return self.put(f, max_bytes=max_bytes)
            _check_limit(info.st_size, max_bytes)
            if info.st_size <= SINGLE_PUT_MAX:
                data = f.read(SINGLE_PUT_MAX + 1)
                if len(data) <= SINGLE_PUT_MAX:  # else it grew since the stat
                    _check_limit(len(data), max_bytes)
                    return self._put_whole(data, hashlib.sha256(data).hexdigest())
                f.seek(0)
            sha256, size = self._hash_file(f, max_bytes)
            f.seek(0)
            return self._put_parts(f, sha256, size, max_bytes)

    def adopt(
        self, path: Path, *, max_bytes: int | None = None, sha256: str | None = None
    ) -> BlobRef:
        """Upload a finished file once and remove it. With its `sha256` known (hashed as it
        was written) a large file is sent in one pass, no hashing pass first; the bytes sent
        are still hashed, and the upload completed only if they match."""
        with open(path, "rb") as f:
            size = os.fstat(f.fileno()).st_size
            if sha256 is None or size <= SINGLE_PUT_MAX:
                ref = self.put_file(path, max_bytes=max_bytes)
            else:
                _check_limit(size, max_bytes)
                ref = self._put_parts(f, sha256, size, max_bytes)
        path.unlink(missing_ok=True)
        return ref

    def _hash_file(self, f: BinaryIO, max_bytes: int | None) -> tuple[str, int]:
        """The first pass of `put_file`: (sha256, size) of what is in the file now."""
        reader = HashingReader(f, limit=max_bytes)
        for _ in reader.chunks():
            pass
        return reader.hash.hexdigest(), reader.size

    def _put_whole(self, data: bytes, sha256: str) -> BlobRef:
        """Bytes of known hash, in one PutObject to their address unless already there."""
        key = key_for(sha256)
        if not self._stat_exists(key):
            with self._errors(key):
                self.client.put_object(
                    self.bucket,
                    key,
                    io.BytesIO(data),
                    len(data),
                    part_size=max(len(data), MIN_PART_SIZE),  # one part: a plain PutObject
                    num_parallel_uploads=1,
                )
        return BlobRef(key=key, sha256=sha256, size=len(data))

    def _put_parts(
        self, stream: BinaryIO, sha256: str, size: int, max_bytes: int | None
    ) -> BlobRef:
        """A stream expected to hash to `sha256`, as a multipart upload to its address that
        is completed only if the bytes sent do hash to it (else aborted: nothing visible).

        minio's put_object completes the upload by itself, so the three calls of the
        multipart protocol are made here (the client's own, underscored methods)."""
        key = key_for(sha256)
        if self._stat_exists(key):
            return BlobRef(key=key, sha256=sha256, size=size)
        reader = HashingReader(stream, limit=max_bytes)
        client = self.client
        with self._errors(key):
            upload_id = client._create_multipart_upload(
                self.bucket, key, {"Content-Type": "application/octet-stream"}
            )
            try:
                parts: list[Part] = []
                while True:
                    data = _read_part(reader, PART_SIZE)
                    if not data and parts:
                        break
                    number = len(parts) + 1
                    etag = client._upload_part(self.bucket, key, data, None, upload_id, number)
                    parts.append(Part(number, etag))
                    if len(data) < PART_SIZE:
                        break
                if reader.hash.hexdigest() != sha256 or reader.size != size:
                    raise StorageError(
                        f"the file changed while it was being stored "
                        f"(it hashed to {sha256}, {size} bytes, then sent "
                        f"{reader.hash.hexdigest()}, {reader.size} bytes)"
                    )
                client._complete_multipart_upload(self.bucket, key, upload_id, parts)
            except BaseException:
                self._abort_quietly(key, upload_id)
                raise
        return BlobRef(key=key, sha256=sha256, size=size)

    def _abort_quietly(self, key: str, upload_id: str) -> None:
        """Best-effort abort of a multipart upload; never masks the caller's outcome."""
        try:
            self.client._abort_multipart_upload(self.bucket, key, upload_id)
        except Exception as exc:  # an unfinished upload is invisible; a lifecycle rule ends it
            log.warning("could not abort the upload of %s/%s: %s", self.bucket, key, exc)

    def _remove_quietly(self, name: str) -> None:
        """Best-effort removal of a temporary object; never masks the caller's outcome."""
        try:
            self.client.remove_object(self.bucket, name)
        except Exception as exc:  # a leftover under incoming/ is only garbage
            log.warning("could not remove temporary object %s/%s: %s", self.bucket, name, exc)


def _check_limit(size: int, max_bytes: int | None) -> None:
    if max_bytes is not None and size > max_bytes:
        raise StorageError(f"stream exceeds the limit of {max_bytes} bytes")


def _read_part(reader: HashingReader, size: int) -> bytes:
    """Up to `size` bytes, fewer only at the end of the stream."""
    chunks, left = [], size
    while left:
        data = reader.read(min(left, CHUNK * 8))
        if not data:
            break
        chunks.append(data)
        left -= len(data)
    return b"".join(chunks)

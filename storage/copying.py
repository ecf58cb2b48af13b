"""Copying bytes into a blob while hashing them, each byte read and written once.

Reading, hashing (buffers over 2 KiB) and writing all release the GIL, so a second thread
overlaps the writing with the hashing instead of waiting for it.
"""

from __future__ import annotations

import errno
import hashlib
import os
import queue
import threading
from typing import BinaryIO

from storage.base import CHUNK, HashingReader, StorageError

COPY_CHUNK = 4 * 1024 * 1024
"""Buffer of a blob copy: large enough that the per-buffer costs (a thread hand-over, a
syscall) vanish beside hashing and writing it."""
SMALL_FILE = 256 * 1024
"""Below this a file is copied in the calling thread: hashing it takes about as long as starting
the thread that would overlap the hashing with the copy."""
_NO_KERNEL_COPY = frozenset({errno.EXDEV, errno.ENOSYS, errno.EOPNOTSUPP, errno.EINVAL})


def copy_hashing(reader: HashingReader, out: BinaryIO, chunk: int = COPY_CHUNK) -> None:
    """Copy a stream into `out`, reading and hashing one buffer while the previous is written.

    An error on either side (a full disk, a limit passed) ends both and is raised here."""
    buffers: queue.Queue[bytes | None] = queue.Queue(maxsize=2)
    failed: list[BaseException] = []

    def write() -> None:
        while (data := buffers.get()) is not None:
            if not failed:
                try:
                    out.write(data)
                except BaseException as exc:  # reported to the reading side
                    failed.append(exc)

    writer = threading.Thread(target=write, name="blob-writer", daemon=True)
    writer.start()
    try:
        while not failed and (data := reader.read(chunk)):
            buffers.put(data)
    finally:
        buffers.put(None)
        writer.join()
    if failed:
        raise failed[0]


def copy_file_hashing(src: int, out: int, size: int, limit: int | None) -> tuple[str, int]:
    """Copy `size` bytes of the regular file `src` into `out` and fsync it, while this thread
    hashes `src` to its end: (sha256, bytes hashed).

    The copy is the kernel's (copy_file_range: no trip through Python's memory), in a second
    thread, so the hash overlaps the copy and its fsync. The caller checks that the bytes
    hashed are the bytes copied (the size, and that the file did not change meanwhile).

    A small file is read, hashed and written in this thread: starting a thread cost more than
    copying it (a ZIP of 50,000 small scans starts none)."""
    if size < SMALL_FILE:
        return _copy_small(src, out, size, limit)
    failed: list[BaseException] = []

    def copy() -> None:
        try:
            _kernel_copy(src, out, size)
            os.fsync(out)
        except BaseException as exc:  # reported to the hashing side
            failed.append(exc)

    copier = threading.Thread(target=copy, name="blob-copier", daemon=True)
    copier.start()
    digest, hashed = hashlib.sha256(), 0
    buffer = bytearray(COPY_CHUNK)
    view = memoryview(buffer)
    try:
        while not failed and (n := os.preadv(src, [buffer], hashed)):
            digest.update(view[:n])
            hashed += n
            if limit is not None and hashed > limit:
                raise StorageError(f"stream exceeds the limit of {limit} bytes")
    finally:
        copier.join()
    if failed:
        raise failed[0]
    return digest.hexdigest(), hashed


def _copy_small(src: int, out: int, size: int, limit: int | None) -> tuple[str, int]:
    data = os.pread(src, size + 1, 0)  # a byte more: a file that grew shows a size that differs
    if limit is not None and len(data) > limit:
        raise StorageError(f"stream exceeds the limit of {limit} bytes")
    view = memoryview(data)[:size]
    done = 0
    while done < len(view):
        done += os.pwrite(out, view[done:], done)
    os.fsync(out)
    return hashlib.sha256(data).hexdigest(), len(data)


def _kernel_copy(src: int, out: int, size: int) -> None:
    done = 0
    while done < size:
        try:
            n = os.copy_file_range(src, out, size - done, done, done)
        except OSError as exc:
            if exc.errno not in _NO_KERNEL_COPY or done:
                raise
            _user_copy(src, out, size)
            return
        if n == 0:  # the file shrank; the caller sees the sizes differ
            return
        done += n


def _user_copy(src: int, out: int, size: int) -> None:
    done = 0
    while done < size and (data := os.pread(src, min(CHUNK * 4, size - done), done)):
        done += os.pwrite(out, data, done)

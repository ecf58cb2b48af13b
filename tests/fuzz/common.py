"""What the fuzz targets share: small limits, a scratch file, seed helpers and the contract.

The contract of every target's `test_one(data)`: a parser may reject its input with the error
it documents (`InputRejectedError`, `RowRejected`, `QueryError`, `UploadError`); anything else
escaping is a crash, which libFuzzer saves and `run.py` keeps as a regression input.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path

from pipeline.media.limits import Limits

LIMITS = Limits(
    max_file_bytes=2 * 1024 * 1024,
    max_pixels=4_000_000,
    max_pages=20,
    max_points=1_000_000,
    max_zip_members=50,
    max_zip_ratio=50,
)
"""Small limits: a fuzzed header declaring a huge image costs a rejection, not a decode."""

_SCRATCH: Path | None = None


def scratch_dir() -> Path:
    """One folder per process for the files a target writes (in memory when /dev/shm exists)."""
    global _SCRATCH
    if _SCRATCH is None:
        base = "/dev/shm" if os.path.isdir("/dev/shm") and os.access("/dev/shm", os.W_OK) else None
        _SCRATCH = Path(tempfile.mkdtemp(prefix="sohoa-fuzz-", dir=base))
    return _SCRATCH


def as_file(data: bytes, name: str = "input.bin") -> Path:
    """`data` written to a scratch file called `name` (overwritten on every call)."""
    path = scratch_dir() / name
    path.write_bytes(data)
    return path


def generated(*makers: Callable[[Path], Path]) -> Iterable[bytes]:
    """The bytes of files written by sample generators (tests.factories.samples,
    tests.factories.hostile)."""
    with tempfile.TemporaryDirectory(prefix="sohoa-seed-") as tmp:
        for i, make in enumerate(makers):
            try:
                path = make(Path(tmp) / f"seed{i}")
            except Exception as e:  # a generator needing a missing tool: fewer seeds, not none
                print(f"seed {i} skipped: {e}")
                continue
            yield path.read_bytes()

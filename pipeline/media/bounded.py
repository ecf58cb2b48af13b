"""Reading untrusted bytes with every length and offset checked first, and the verdict for
whatever still slips through.

Every structural probe (`pipeline.media`) reads through these helpers instead of `f.read` and
`struct.unpack` directly: a header shorter than its offset field, a count that runs past the end
of the file or a table with no values becomes `InputRejectedError` naming the file and the
structure ("truncated TIFF header in scan.tif: needs 8 bytes at offset 4, the file has 5"),
never a `struct.error` or an `IndexError`.

`internal_error` is the other half: an exception nobody expected (our bug) is logged with its
traceback under a short id and becomes that one input's verdict, `failed: internal error <id>`;
the batch goes on.
"""

from __future__ import annotations

import logging
import secrets
import struct
from collections.abc import Sequence
from typing import BinaryIO, TypeVar

from pipeline.errors import InputRejectedError

INTERNAL_ERROR = "internal error"
"""How a verdict caused by our own bug starts: `failed: internal error <id>`."""

T = TypeVar("T")


def internal_error(logger: logging.Logger, subject: str) -> str:
    """Log the exception being handled with a short id; returns "internal error <id>".

    Call it from an `except` block. The id ties the verdict a user sees to the traceback in the
    log (which a user never sees: it may hold paths and values)."""
    error_id = secrets.token_hex(4)
    logger.error("%s %s while handling %s", INTERNAL_ERROR, error_id, subject, exc_info=True)
    return f"{INTERNAL_ERROR} {error_id}"


def _truncated(name: str, what: str, n: int, offset: int | None, have: int) -> InputRejectedError:
    where = f" at offset {offset:,}" if offset is not None else ""
    return InputRejectedError(
        f"truncated {what} in {name}: needs {n:,} bytes{where}, only {have:,} are there"
    )


def read_exact(f: BinaryIO, n: int, what: str, name: str = "the file") -> bytes:
    """Exactly n bytes from the current position, or InputRejectedError naming `what`."""
    if n < 0:
        raise InputRejectedError(f"corrupt {what} in {name}: a negative length ({n})")
    data = f.read(n)
    if len(data) != n:
        raise _truncated(name, what, n, None, len(data))
    return data


def unpack(fmt: str, data: bytes, offset: int, what: str, name: str = "the file") -> tuple:
    """`struct.unpack_from`, with a buffer too short for `fmt` at `offset` rejected."""
    need = struct.calcsize(fmt)
    if offset < 0 or offset + need > len(data):
        raise _truncated(name, what, need, offset, max(0, len(data) - max(offset, 0)))
    return struct.unpack_from(fmt, data, offset)


def first(values: Sequence[T], what: str, name: str = "the file") -> T:
    """The first of a structure's values; a structure declaring none is rejected."""
    if not values:
        raise InputRejectedError(f"corrupt {what} in {name}: it has no values")
    return values[0]


class BoundedReader:
    """A seekable file of known size whose reads are checked against that size.

    `name` is what a person calls the file (its name, or the format when it has none)."""

    def __init__(self, f: BinaryIO, size: int, name: str) -> None:
        self.f, self.size, self.name = f, size, name

    def check_span(self, offset: int, n: int, what: str) -> None:
        """Reject a structure of n bytes at offset that does not lie inside the file."""
        if offset < 0 or n < 0:
            raise InputRejectedError(
                f"corrupt {what} in {self.name}: offset {offset:,}, length {n:,}"
            )
        if offset + n > self.size:
            raise InputRejectedError(
                f"truncated {what} in {self.name}: {n:,} bytes at offset {offset:,} lie beyond "
                f"the end of the file ({self.size:,} bytes)"
            )

    def read_at(self, offset: int, n: int, what: str) -> bytes:
        """Exactly n bytes at offset (checked against the size before seeking)."""
        self.check_span(offset, n, what)
        self.f.seek(offset)
        return read_exact(self.f, n, what, self.name)

    def read_up_to(self, offset: int, n: int) -> bytes:
        """At most n bytes at offset (fewer near the end; none past it): for heads and tails."""
        if offset < 0 or offset >= self.size or n <= 0:
            return b""
        self.f.seek(offset)
        return self.f.read(min(n, self.size - offset))

    def unpack_at(self, fmt: str, offset: int, what: str) -> tuple:
        """`struct.unpack` of the bytes at offset, after checking they are in the file."""
        return struct.unpack(fmt, self.read_at(offset, struct.calcsize(fmt), what))

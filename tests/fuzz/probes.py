"""The shared body of the media-probe targets: probe one format, as ingest does."""

from __future__ import annotations

from collections.abc import Callable

from pipeline.errors import InputRejectedError
from pipeline.media.probe import probe
from tests.fuzz.common import LIMITS, as_file


def probe_target(media_type: str, name: str) -> Callable[[bytes], None]:
    """A `test_one` that probes its bytes as `media_type` (a file called `name`)."""

    def test_one(data: bytes) -> None:
        path = as_file(data, name)
        try:
            facts = probe(path, media_type, LIMITS)
        except InputRejectedError:
            return
        if not isinstance(facts, dict):
            raise AssertionError(f"probe returned {facts!r}")

    return test_one

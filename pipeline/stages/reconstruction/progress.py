"""How far a reconstruction has got, told by the stage and read by whoever runs it.

The stage runs in a child process (and its structure-from-motion part in a grandchild), so it
cannot reach the record store. It rewrites one small JSON file in its work folder instead
(`ProgressFile.report`: stage, done, total), atomically, as often as it likes; the file keeps
the last report of every stage so far. The job in the parent reads it every second and records
`ReconstructionProgressed` events for what `to_record` picks: each stage once it has begun, its
last count once it has ended (even a stage shorter than the poll), and within the running stage
every tenth of its work or every `QUIET_S` seconds of progress. A 200-photo run then leaves a
few dozen events, not one per photo and pair, and a person following it sees the stage and
count move.
"""

from __future__ import annotations

import json
import os
import resource
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

QUIET_S = 20.0
"""Within a stage, progress is recorded at least this often while the count moves."""
STEPS = 10
"""Within a stage, progress is recorded each time another 1/STEPS of the total is done."""


@dataclass(frozen=True)
class Progress:
    stage: str
    done: int | None = None
    total: int | None = None
    elapsed_s: float = 0.0


class ProgressFile:
    """The stage's side: `report("mapping", 12, 200)` rewrites the file. A missing path (None)
    makes every report a no-op, so stages run alike with and without someone watching."""

    def __init__(self, path: Path | None, started: float | None = None) -> None:
        self.path = path
        self.started = time.time() if started is None else started

    def report(self, stage: str, done: int | None = None, total: int | None = None) -> None:
        if self.path is None:
            return
        elapsed = round(time.time() - self.started, 1)
        reports = [r for r in read_progress(self.path) if r.stage != stage]
        reports.append(Progress(stage, done, total, elapsed))
        data = json.dumps([asdict(r) for r in reports])
        tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}")
        try:
            tmp.write_text(data)
            tmp.replace(self.path)
        except OSError:  # progress is a courtesy: a full disk must not fail the stage
            tmp.unlink(missing_ok=True)

    def counter(self, stage: str, total: int, start: int = 0):
        """A callable that reports `stage` one step further each time it is called."""
        state = {"done": start}
        self.report(stage, start, total)

        def step() -> None:
            state["done"] += 1
            self.report(stage, min(state["done"], total), total)

        return step

    @property
    def spec(self) -> tuple[str | None, float]:
        """What a child process needs to report into the same file (JSON-able)."""
        return (str(self.path) if self.path else None, self.started)

    @classmethod
    def from_spec(cls, spec: tuple[str | None, float] | list) -> ProgressFile:
        path, started = spec
        return cls(Path(path) if path else None, started)


def read_progress(path: Path) -> list[Progress]:
    """The last report of each stage so far, in the order the stages began ([] if none)."""
    try:
        return [Progress(**r) for r in json.loads(path.read_text())]
    except (OSError, ValueError, TypeError):
        return []


def to_record(
    reports: list[Progress], recorded: dict[str, Progress], seconds_since_last: float
) -> list[Progress]:
    """Which reports deserve an event, given the last one recorded per stage: a stage not yet
    recorded; an ended stage's final count if it moved since; the running (last) stage's count
    once it has moved by a tenth of the total, or moved at all after `QUIET_S` seconds."""
    out = []
    for k, new in enumerate(reports):
        last = recorded.get(new.stage)
        if last is None:
            out.append(new)
        elif k < len(reports) - 1:
            if new.done != last.done:
                out.append(new)
        elif worth_recording(last, new, seconds_since_last):
            out.append(new)
    return out


def worth_recording(last: Progress, new: Progress, seconds_since_last: float) -> bool:
    """Within one running stage: whether the count has moved enough to record it again."""
    if new.done is None or new.done == last.done:
        return False
    if new.total and new.done >= new.total:
        return True
    step = max(1, (new.total or 0) // STEPS)
    return new.done - (last.done or 0) >= step or seconds_since_last >= QUIET_S


class timed:
    """`with timed(stages, "name", progress) as info:` reports the stage as begun and appends
    {stage, seconds, peak_rss_mb, **info} to `stages` when it ends."""

    def __init__(
        self, stages: list[dict[str, Any]], name: str, progress: ProgressFile | None = None
    ) -> None:
        self.stages, self.name, self.info = stages, name, {}
        if progress is not None:
            progress.report(name)

    def __enter__(self) -> dict[str, Any]:
        self.start = time.perf_counter()
        return self.info

    def __exit__(self, *exc: object) -> None:
        seconds = round(time.perf_counter() - self.start, 3)
        self.stages.append(
            {"stage": self.name, "seconds": seconds, "peak_rss_mb": peak_rss_mb(), **self.info}
        )


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far (Linux reports KiB)."""
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 / 1e6, 1)

"""What work each capture implies, and the queue the dispatcher hands it to.

The plan is a pure function of the capture, so the dispatcher, `--wait` and
`sohoa status` agree on which stages a capture needs without extra events.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any, Protocol
from uuid import UUID

from models.capture import Capture

QUEUES = ("default", "ocr", "reconstruction")


@dataclass(frozen=True)
class Stage:
    name: str
    queue: str
    version: str
    """Bumped when the stage's code changes what it records; part of the job key."""


INSPECT = Stage("inspect", "default", "1")
STAGES = {s.name: s for s in (INSPECT,)}


@dataclass(frozen=True)
class Job:
    stage: str
    capture_id: UUID
    params: dict[str, Any]

    @property
    def queue(self) -> str:
        return STAGES[self.stage].queue


class JobQueue(Protocol):
    """Where the dispatcher puts jobs (a Dramatiq broker behind `workers/`)."""

    def enqueue(self, job: Job) -> None: ...

    def depth(self) -> dict[str, int]: ...


def plan(capture: Capture) -> list[str]:
    """The stages a capture needs before it is done."""
    return [INSPECT.name]


def job_key(capture: Capture, stage: str, params: dict[str, Any]) -> str:
    """(capture, stage, input sha256, stage version, parameters hash): one result per key."""
    digest = hashlib.sha256(json.dumps(params, sort_keys=True).encode()).hexdigest()[:16]
    return f"{capture.id}:{stage}:{capture.sha256}:{STAGES[stage].version}:{digest}"

"""What work each capture implies, and the queue the dispatcher hands it to.

A capture goes through `inspect`; a document then gets a text run (one `ocr` job per page, fanned
out, then one `text` job that assembles the full text and the searchable PDF when every page has
an outcome, then `fields` for a land certificate), and a 3D capture gets a `reconstruct` run.

`plan` is a pure function of the capture, so the dispatcher, `--wait` and `sohoa status` agree
on which stages a capture needs without extra events. `jobs_after` says which jobs an event
makes ready; the dispatcher calls it for each event it reads.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any, Protocol
from uuid import UUID

from models.capture import Capture, page_stage

QUEUES = ("default", "ocr", "reconstruction")


@dataclass(frozen=True)
class Stage:
    name: str
    queue: str
    version: str
    """Bumped when the stage's code changes what it records; part of the job key."""


INSPECT = Stage("inspect", "default", "1")
OCR = Stage("ocr", "ocr", "1")
TEXT = Stage("text", "ocr", "1")
FIELDS = Stage("fields", "default", "1")
RECONSTRUCT = Stage("reconstruct", "reconstruction", "1")
STAGES = {s.name: s for s in (INSPECT, OCR, TEXT, FIELDS, RECONSTRUCT)}

TEXT_KINDS = ("document", "land-certificate")
MODEL_KINDS = ("model", "scan-set", "photo-set")


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
    """The stages (outcome names) a capture needs before it is done, in order."""
    stages = [INSPECT.name]
    if capture.text_runs:
        run = len(capture.text_runs)
        pages = int(capture.inspection.get("pages", 0))
        stages += [page_stage(run, p) for p in range(pages)]
        stages.append(f"text/{run}")
        if capture.kind == "land-certificate":
            stages.append(f"fields/{run}")
    if capture.model_runs:
        stages.append(f"reconstruct/{len(capture.model_runs)}")
    return stages


def jobs_after(event: str, capture: Capture, run: int | None = None, **data: Any) -> list[Job]:
    """The jobs that become ready when `event` (a Capture event class name) is recorded."""
    cid = capture.id
    if event == "RetryRequested":
        stages = list(data.get("stages", ()))
        # a run whose pages are retried re-assembles its text when they have an outcome
        reread = {s.split("/")[1] for s in stages if s.startswith("ocr/")}
        return [
            job
            for stage in stages
            if not (stage.startswith(("text/", "fields/")) and stage.split("/")[1] in reread)
            and (job := job_for(capture, stage))
        ]
    if event == "Received":
        return [Job(INSPECT.name, cid, {})]
    if event == "TextRequested" and run is not None:
        pages = int(capture.inspection.get("pages", 0))
        return [Job(OCR.name, cid, {"run": run, "page": p}) for p in range(pages)]
    if event in ("PageRecognised", "ProcessingFailed") and run is not None:
        pages = int(capture.inspection.get("pages", 0))
        settled = capture.page_outcomes(run)
        if len(settled) == pages and f"text/{run}" not in capture.outcomes:
            return [Job(TEXT.name, cid, {"run": run})]  # it records a failure if no page was read
        return []
    if event == "TextAssembled" and run is not None and capture.kind == "land-certificate":
        return [Job(FIELDS.name, cid, {"run": run})]
    if event == "ReconstructionRequested" and run is not None:
        return [Job(RECONSTRUCT.name, cid, {"run": run})]
    return []


def ready_jobs(capture: Capture) -> list[Job]:
    """Every job the capture's state says could run now and has no outcome: what a lost
    message (a broker restarted without persistence) leaves undone. Enqueueing one that is
    merely slow is harmless: its key makes the second run a no-op."""
    outcomes = capture.outcomes
    if INSPECT.name not in outcomes:
        return [Job(INSPECT.name, capture.id, {})]
    jobs = []
    if capture.text_runs:
        run = len(capture.text_runs)
        pages = int(capture.inspection.get("pages", 0))
        settled = capture.page_outcomes(run)
        jobs += [
            Job(OCR.name, capture.id, {"run": run, "page": p})
            for p in range(pages)
            if p not in settled
        ]
        if len(settled) == pages and f"text/{run}" not in outcomes:
            jobs.append(Job(TEXT.name, capture.id, {"run": run}))
        if (
            capture.kind == "land-certificate"
            and outcomes.get(f"text/{run}", {}).get("status") == "done"
            and f"fields/{run}" not in outcomes
        ):
            jobs.append(Job(FIELDS.name, capture.id, {"run": run}))
    if capture.model_runs and f"reconstruct/{len(capture.model_runs)}" not in outcomes:
        jobs.append(Job(RECONSTRUCT.name, capture.id, {"run": len(capture.model_runs)}))
    return jobs


def job_for(capture: Capture, outcome: str) -> Job | None:
    """The job whose outcome is named `outcome` ("inspect", "ocr/1/3", "text/1", …)."""
    name, *numbers = outcome.split("/")
    if name not in STAGES or not all(n.isdigit() for n in numbers):
        return None
    params = dict(zip(("run", "page"), map(int, numbers), strict=False))
    return Job(name, capture.id, params)


def job_key(capture: Capture, stage: str, params: dict[str, Any]) -> str:
    """(capture, stage, input sha256, stage version, parameters hash): one result per key."""
    digest = hashlib.sha256(json.dumps(params, sort_keys=True).encode()).hexdigest()[:16]
    return f"{capture.id}:{stage}:{capture.sha256}:{STAGES[stage].version}:{digest}"

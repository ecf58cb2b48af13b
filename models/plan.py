"""What work each capture implies, and the queue the dispatcher hands it to.

A capture goes through `inspect`; a document then gets a text run (one `ocr` job per page, fanned
out, then one `text` job that assembles the full text and the searchable PDF when every page has
an outcome, then `fields` for a land certificate), and a 3D capture gets a `reconstruct` run.

`plan` is a pure function of the capture, so the dispatcher, `--wait` and `sohoa status` agree
on which stages a capture needs without extra events. `jobs_after` says which jobs an event
makes ready, dispatching on the event's class (`AFTER`); the dispatcher calls it for each
event it reads.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol
from uuid import UUID

from models.capture import Capture
from models.ids import InvalidKeyError, Outcome

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
        stages += [str(Outcome(OCR.name, run, p)) for p in range(pages)]
        stages.append(str(Outcome(TEXT.name, run)))
        if capture.kind == "land-certificate":
            stages.append(str(Outcome(FIELDS.name, run)))
    if capture.model_runs:
        stages.append(str(Outcome(RECONSTRUCT.name, len(capture.model_runs))))
    return stages


def jobs_after(event: object, capture: Capture) -> list[Job]:
    """The jobs that become ready when `event` (a Capture event) is recorded on `capture`.

    The policy dispatches on the event's class (`AFTER`); any other event makes no job.
    """
    policy = AFTER.get(type(event))
    return policy(event, capture) if policy else []


def run_of(event: object) -> int | None:
    """The text or model run an event belongs to; a failure names it in its stage, and only
    a page's failure ("ocr/2/7") counts towards its run's fan-in."""
    run = getattr(event, "run", None)
    if run is not None:
        return int(run)
    try:
        outcome = Outcome.parse(getattr(event, "stage", ""))
    except InvalidKeyError:
        return None
    return outcome.run if outcome.is_page else None


def _after_received(event: object, capture: Capture) -> list[Job]:
    return [Job(INSPECT.name, capture.id, {})]


def _after_text_requested(event: object, capture: Capture) -> list[Job]:
    run = run_of(event)
    pages = int(capture.inspection.get("pages", 0))
    return [Job(OCR.name, capture.id, {"run": run, "page": p}) for p in range(pages)]


def _after_page_settled(event: object, capture: Capture) -> list[Job]:
    """A page read or failed: the run's text is assembled once every page has an outcome."""
    run = run_of(event)
    if run is None:
        return []
    pages = int(capture.inspection.get("pages", 0))
    settled = capture.page_outcomes(run)
    if len(settled) == pages and str(Outcome(TEXT.name, run)) not in capture.outcomes:
        return [Job(TEXT.name, capture.id, {"run": run})]  # it records a failure if none read
    return []


def _after_text_assembled(event: object, capture: Capture) -> list[Job]:
    if capture.kind != "land-certificate":
        return []
    return [Job(FIELDS.name, capture.id, {"run": run_of(event)})]


def _after_reconstruction_requested(event: object, capture: Capture) -> list[Job]:
    return [Job(RECONSTRUCT.name, capture.id, {"run": run_of(event)})]


def _after_retry(event: object, capture: Capture) -> list[Job]:
    stages = []
    for name in getattr(event, "stages", ()):
        try:
            stages.append(Outcome.parse(name))
        except InvalidKeyError:
            continue
    # a run whose pages are retried re-assembles its text when they have an outcome
    reread = {o.run for o in stages if o.is_page}
    return [
        job
        for o in stages
        if not (o.stage in (TEXT.name, FIELDS.name) and o.run in reread)
        and (job := job_for(capture, str(o)))
    ]


AFTER: dict[type, Callable[[Any, Capture], list[Job]]] = {
    Capture.Received: _after_received,
    Capture.TextRequested: _after_text_requested,
    Capture.PageRecognised: _after_page_settled,
    Capture.ProcessingFailed: _after_page_settled,
    Capture.TextAssembled: _after_text_assembled,
    Capture.ReconstructionRequested: _after_reconstruction_requested,
    Capture.RetryRequested: _after_retry,
}
"""The dispatcher's policy: which Capture event classes make jobs ready, and how."""


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
        text = str(Outcome(TEXT.name, run))
        if len(settled) == pages and text not in outcomes:
            jobs.append(Job(TEXT.name, capture.id, {"run": run}))
        if (
            capture.kind == "land-certificate"
            and outcomes.get(text, {}).get("status") == "done"
            and str(Outcome(FIELDS.name, run)) not in outcomes
        ):
            jobs.append(Job(FIELDS.name, capture.id, {"run": run}))
    model_run = len(capture.model_runs)
    if model_run and str(Outcome(RECONSTRUCT.name, model_run)) not in outcomes:
        jobs.append(Job(RECONSTRUCT.name, capture.id, {"run": model_run}))
    return jobs


def job_for(capture: Capture, outcome: str) -> Job | None:
    """The job whose outcome is named `outcome` ("inspect", "ocr/1/3", "text/1", …)."""
    try:
        o = Outcome.parse(outcome)
    except InvalidKeyError:
        return None
    if o.stage not in STAGES:
        return None
    params = {k: v for k, v in (("run", o.run), ("page", o.page)) if v is not None}
    return Job(o.stage, capture.id, params)


def job_key(capture: Capture, stage: str, params: dict[str, Any]) -> str:
    """(capture, stage, input sha256, stage version, parameters hash): one result per key."""
    digest = hashlib.sha256(json.dumps(params, sort_keys=True).encode()).hexdigest()[:16]
    return f"{capture.id}:{stage}:{capture.sha256}:{STAGES[stage].version}:{digest}"

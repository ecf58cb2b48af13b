"""Thin actors: parse the message, call a pipeline handler, let Dramatiq retry transient errors."""

from __future__ import annotations

import logging
from collections.abc import Callable
from uuid import UUID

import dramatiq
from dramatiq.middleware import CurrentMessage

from models.plan import FIELDS, INSPECT, OCR, RECONSTRUCT, STAGES, TEXT
from pipeline.bootstrap import Services
from pipeline.jobs.execute import Attempt
from pipeline.jobs.fields import run_fields
from pipeline.jobs.inspection import run_inspect
from pipeline.jobs.ocr import run_page
from pipeline.jobs.reconstruct import run_reconstruct
from pipeline.jobs.text import run_text

log = logging.getLogger(__name__)

Handler = Callable[[Services, UUID, dict, Attempt], str]

HANDLERS: dict[str, Handler] = {
    INSPECT.name: lambda s, cid, p, a: run_inspect(s, cid, a),
    OCR.name: lambda s, cid, p, a: run_page(s, cid, int(p["run"]), int(p["page"]), a),
    TEXT.name: lambda s, cid, p, a: run_text(s, cid, int(p["run"]), a),
    FIELDS.name: lambda s, cid, p, a: run_fields(s, cid, int(p["run"]), a),
    RECONSTRUCT.name: lambda s, cid, p, a: run_reconstruct(s, cid, int(p["run"]), a),
}


def declare_actors(broker: dramatiq.Broker, services: Services) -> dict[str, dramatiq.Actor]:
    """Actors bound to this broker and these services (no global broker, no import-time wiring)."""
    settings = services.settings
    retries = settings.job_retries

    def attempt() -> Attempt:
        message = CurrentMessage.get_current_message()
        done = message.options.get("retries", 0) if message else 0
        return Attempt(number=done + 1, final=done >= retries)

    def actor(stage: str, handler: Handler) -> dramatiq.Actor:
        def run(capture_id: str, params: dict | None = None) -> None:
            outcome = handler(services, UUID(capture_id), params or {}, attempt())
            log.info("%s %s %s: %s", stage, capture_id, params or "", outcome)

        # reconstruction runs in a child process with its own limit; the actor's is a backstop
        limit_s = (
            settings.reconstruct_time_limit_s + 60
            if stage == RECONSTRUCT.name
            else settings.stage_time_limit_s
        )
        return dramatiq.actor(
            run,
            actor_name=stage,
            queue_name=STAGES[stage].queue,
            broker=broker,
            max_retries=retries,
            min_backoff=500,
            max_backoff=30_000,
            time_limit=limit_s * 1000,
        )

    return {stage: actor(stage, handler) for stage, handler in HANDLERS.items()}

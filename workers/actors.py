"""Thin actors: parse the message, call a pipeline handler, let Dramatiq retry transient errors."""

from __future__ import annotations

import logging
from uuid import UUID

import dramatiq
from dramatiq.middleware import CurrentMessage

from pipeline.bootstrap import Services
from pipeline.handlers import Attempt, run_inspect
from pipeline.jobs import INSPECT

log = logging.getLogger(__name__)


def declare_actors(broker: dramatiq.Broker, services: Services) -> dict[str, dramatiq.Actor]:
    """Actors bound to this broker and these services (no global broker, no import-time wiring)."""
    retries = services.settings.job_retries
    time_limit_ms = services.settings.stage_time_limit_s * 1000

    def attempt() -> Attempt:
        message = CurrentMessage.get_current_message()
        done = message.options.get("retries", 0) if message else 0
        return Attempt(number=done + 1, final=done >= retries)

    def inspect(capture_id: str, params: dict | None = None) -> None:
        outcome = run_inspect(services, UUID(capture_id), attempt())
        log.info("inspect %s: %s", capture_id, outcome)

    return {
        INSPECT.name: dramatiq.actor(
            inspect,
            actor_name=INSPECT.name,
            queue_name=INSPECT.queue,
            broker=broker,
            max_retries=retries,
            min_backoff=500,
            max_backoff=30_000,
            time_limit=time_limit_ms,
        )
    }

"""Brokers from `SOHOA_BROKER_URL`: memory:// (in-process), redis://…, amqp://…."""

from __future__ import annotations

from urllib.parse import urlsplit

import dramatiq
from dramatiq.brokers.stub import StubBroker
from dramatiq.middleware import CurrentMessage

from models.plan import QUEUES, Job


def make_broker(url: str, redelivery_timeout_s: int = 60) -> dramatiq.Broker:
    """A broker; on Redis a dead worker's unacknowledged jobs return after the timeout."""
    scheme = urlsplit(url).scheme
    if scheme == "memory":
        broker: dramatiq.Broker = StubBroker()
    elif scheme in ("redis", "rediss"):
        from dramatiq.brokers.redis import RedisBroker

        broker = RedisBroker(
            url=url,
            heartbeat_timeout=redelivery_timeout_s * 1000,
            maintenance_chance=50_000,  # of a million commands: notice dead workers promptly
        )
    elif scheme in ("amqp", "amqps"):
        from dramatiq.brokers.rabbitmq import RabbitmqBroker

        broker = RabbitmqBroker(url=url)
    else:
        raise ValueError(f"SOHOA_BROKER_URL must be memory://, redis://… or amqp://…, got {url!r}")
    broker.add_middleware(CurrentMessage())
    for queue in QUEUES:
        broker.declare_queue(queue)
    return broker


class DramatiqQueue:
    """The pipeline's JobQueue on a Dramatiq broker: one message per job, ids not objects."""

    def __init__(self, broker: dramatiq.Broker) -> None:
        self.broker = broker

    def enqueue(self, job: Job) -> None:
        message = dramatiq.Message(
            queue_name=job.queue,
            actor_name=job.stage,
            args=(str(job.capture_id),),
            kwargs={"params": job.params},
            options={},
        )
        self.broker.enqueue(message)

    def depth(self) -> dict[str, int]:
        return {q: queue_depth(self.broker, q) for q in QUEUES}


def queue_depth(broker: dramatiq.Broker, queue: str) -> int:
    if isinstance(broker, StubBroker):
        return broker.queues[queue].qsize()
    name = type(broker).__name__
    if name == "RedisBroker":
        return int(broker.do_qsize(queue))  # type: ignore[attr-defined]
    if name == "RabbitmqBroker":
        ready, delayed, _dead = broker.get_queue_message_counts(queue)  # type: ignore[attr-defined]
        return ready + delayed
    return -1

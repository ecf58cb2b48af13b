"""Sign-in throttling per client address and per login: after a few free failures each next
attempt must wait, the wait doubling with every failure (up to a cap). The lasting lockout of
a login is an event on its account (`pipeline.usecases.accounts.lock_account`), which an
archivist can lift.

The counts are kept in memory (`LoginThrottle`: per process, a restart forgives) or, when the
broker is Redis (`SOHOA_BROKER_URL=redis://…`), in Redis (`RedisLoginThrottle`), so every web
process of a deployment counts the same failures. A refused attempt costs a lookup: no
password hashing, no write. So a storm of attempts from one address costs the service almost
nothing once the first few have failed.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections import OrderedDict
from typing import Protocol

import redis
from redis import RedisError

log = logging.getLogger(__name__)

MAX_KEYS = 100_000
"""Oldest entries are dropped past this, so memory stays bounded under address spraying."""


class Throttle(Protocol):
    def wait(self, key: str, now: float | None = None) -> float: ...
    def failed(self, key: str, now: float | None = None) -> int: ...
    def forget(self, key: str) -> None: ...


def pause(count: int, free: int, delay: float, max_delay: float) -> float:
    """How long to wait after the `count`th failure in a row."""
    return 0.0 if count < free else min(max_delay, delay * 2 ** (count - free))


class LoginThrottle:
    def __init__(self, free: int, delay: float, max_delay: float) -> None:
        self.free = free
        self.delay = delay
        self.max_delay = max_delay
        self._failures: OrderedDict[str, tuple[int, float]] = OrderedDict()
        self._lock = threading.Lock()

    def wait(self, key: str, now: float | None = None) -> float:
        """Seconds before `key` may try again (0.0: now)."""
        now = time.monotonic() if now is None else now
        with self._lock:
            count, last = self._failures.get(key, (0, 0.0))
        if count < self.free:
            return 0.0
        return max(0.0, last + pause(count, self.free, self.delay, self.max_delay) - now)

    def failed(self, key: str, now: float | None = None) -> int:
        """Count a failure of `key`; returns how many in a row."""
        now = time.monotonic() if now is None else now
        with self._lock:
            count, _ = self._failures.pop(key, (0, 0.0))
            self._failures[key] = (count + 1, now)
            while len(self._failures) > MAX_KEYS:
                self._failures.popitem(last=False)
            return count + 1

    def forget(self, key: str) -> None:
        """A success (or an archivist's unlock) clears `key`'s failures."""
        with self._lock:
            self._failures.pop(key, None)


FAILED = """
local count = redis.call('HINCRBY', KEYS[1], 'count', 1)
redis.call('HSET', KEYS[1], 'last', ARGV[1])
redis.call('EXPIRE', KEYS[1], ARGV[2])
return count
"""


class RedisLoginThrottle:
    """`LoginThrottle`'s counts in Redis, shared by every process. Keys are hashed (no address
    or login in Redis) and expire after a quiet day or twice the longest wait. Should Redis
    fail, sign-in goes on unthrottled (the lockout of a login, an event, still holds) and the
    log says so."""

    PREFIX = "sohoa:sign-in:"

    def __init__(self, url: str, free: int, delay: float, max_delay: float) -> None:
        self.redis = redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)
        self.free = free
        self.delay = delay
        self.max_delay = max_delay
        self.ttl = int(max(86_400, 2 * max_delay))
        self._failed = self.redis.register_script(FAILED)

    def _key(self, key: str) -> str:
        return self.PREFIX + hashlib.sha256(key.encode()).hexdigest()[:32]

    def wait(self, key: str, now: float | None = None) -> float:
        now = time.time() if now is None else now
        try:
            count, last = self.redis.hmget(self._key(key), "count", "last")
        except RedisError:
            log.warning("sign-in throttle: Redis unavailable, not throttling", exc_info=True)
            return 0.0
        if count is None or int(count) < self.free:
            return 0.0
        wait = pause(int(count), self.free, self.delay, self.max_delay)
        return max(0.0, float(last) + wait - now)

    def failed(self, key: str, now: float | None = None) -> int:
        now = time.time() if now is None else now
        try:
            return int(self._failed(keys=[self._key(key)], args=[repr(now), self.ttl]))
        except RedisError:
            log.warning("sign-in throttle: Redis unavailable, failure not counted", exc_info=True)
            return 0

    def forget(self, key: str) -> None:
        try:
            self.redis.delete(self._key(key))
        except RedisError:
            log.warning("sign-in throttle: Redis unavailable, nothing forgotten", exc_info=True)


def login_throttle(broker_url: str, free: int, delay: float, max_delay: float) -> Throttle:
    """Counts in Redis when the broker is Redis (shared by every web process), else here."""
    if broker_url.startswith(("redis://", "rediss://", "unix://")):
        return RedisLoginThrottle(broker_url, free, delay, max_delay)
    return LoginThrottle(free, delay, max_delay)


class SignInStormGuard:
    """ASGI middleware: a sign-in from an address that must wait is refused before routing,
    form parsing or anything else, so a storm from one address costs almost nothing."""

    def __init__(self, app, throttle: Throttle) -> None:
        self.app = app
        self.throttle = throttle

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] == "http" and scope["method"] == "POST" and scope["path"] == "/login":
            client = scope.get("client")
            wait = self.throttle.wait(client[0] if client else "unknown")
            if wait:
                await _refuse(send, wait)
                return
        await self.app(scope, receive, send)


async def _refuse(send, wait: float) -> None:
    seconds = max(1, int(wait + 0.999))
    body = (
        f'{{"detail": "too many failed sign-ins from this address; try again in {seconds} s"}}'
    ).encode()
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        (b"retry-after", str(seconds).encode()),
        (b"x-content-type-options", b"nosniff"),
    ]
    await send({"type": "http.response.start", "status": 429, "headers": headers})
    await send({"type": "http.response.body", "body": body})

"""Sign-in throttling per client address and per login: after a few free failures each next
attempt must wait, the wait doubling with every failure (up to a cap). Kept in memory (a
restart forgives); the lasting lockout of a login is an event on its account
(`pipeline.usecases.accounts
.lock_account`), which an archivist can lift.

A refused attempt costs a dictionary lookup: no password hashing, no write. So a storm of
attempts from one address costs the service almost nothing once the first few have failed.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict

MAX_KEYS = 100_000
"""Oldest entries are dropped past this, so memory stays bounded under address spraying."""


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
        pause = min(self.max_delay, self.delay * 2 ** (count - self.free))
        return max(0.0, last + pause - now)

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


class SignInStormGuard:
    """ASGI middleware: a sign-in from an address that must wait is refused before routing,
    form parsing or anything else, so a storm from one address costs almost nothing."""

    def __init__(self, app, throttle: LoginThrottle) -> None:
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

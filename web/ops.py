"""Routes for the people and machines that run sohoa: `/healthz`, `/readyz`, `/metrics`, and
the city's open numbers at `/api/stats`; and the middleware that times every request."""

from __future__ import annotations

import contextlib
import hmac
import json
import logging
import socket
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Any
from urllib.parse import urlsplit

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import JSONResponse, Response

from pipeline.bootstrap import Services
from pipeline.dispatch.follower import TrackingPositions
from pipeline.observability import metrics
from pipeline.projections.follower import stats_tables
from pipeline.projections.stats import NAME as STATS
from pipeline.usecases.stats import public_stats, public_stats_csv
from storage.base import key_for

router = APIRouter()

CHECK_TIMEOUT_S = 2.0
"""A backend that has not answered by then counts as down (`/readyz` answers in about this)."""
STALL_S = 60.0
"""A follower further behind than `ready_max_lag` must have moved within this to be ready."""
PROBE_KEY = key_for("0" * 64)
"""A blob key nobody stores: asking whether it exists is the blob store's cheapest answer."""


@router.get("/healthz", include_in_schema=False)
def healthz() -> dict:
    """The process is up and serving (nothing else is asked)."""
    return {"ok": True}


@router.get("/readyz", include_in_schema=False)
def readyz(request: Request) -> JSONResponse:
    """Every backend answers and every follower keeps up: 200, else 503 with the reasons.
    With `SOHOA_WEB_OPS_TOKEN` set, a caller without it (a load balancer) gets the verdict
    only: the reasons name backends, positions and errors."""
    checks = request.app.state.readiness.check()
    ready = all(c["ok"] for c in checks.values())
    body: dict[str, Any] = {"ready": ready}
    if _operator(request):
        body["checks"] = checks
    return JSONResponse(body, status_code=200 if ready else 503)


@router.get("/metrics", include_in_schema=False)
def prometheus(request: Request) -> Response:
    """Prometheus text format. Lag and queue gauges come from a background sampler, so a
    scrape never waits on the search node or the broker. With `SOHOA_WEB_OPS_TOKEN` set, only
    a scraper sending it as a bearer token is answered."""
    if not _operator(request):
        return Response(
            "metrics need the operators' token\n",
            status_code=401,
            media_type="text/plain",
            headers={"WWW-Authenticate": 'Bearer realm="sohoa-ops"'},
        )
    request.app.state.sampler_started()
    body, content_type = metrics.exposition()
    return Response(body, media_type=content_type)


@router.get("/api/stats")
def open_stats(request: Request, format: str | None = None) -> Response:
    """Public numbers (no personal data): captures and pages by administrative unit, kind and
    month, and published heritage sites by rank. `?format=csv` (or `Accept: text/csv`) for
    CSV. Answered from memory for SOHOA_STATS_CACHE_S seconds."""
    rendered = request.app.state.stats_cache.get()
    max_age = int(request.app.state.services.settings.stats_cache_s)
    headers = {"Cache-Control": f"public, max-age={max_age}"}
    wants_csv = format == "csv" or (
        format is None and "text/csv" in request.headers.get("accept", "")
    )
    if wants_csv:
        return Response(rendered["csv"], media_type="text/csv", headers=headers)
    return Response(rendered["json"], media_type="application/json", headers=headers)


def _operator(request: Request) -> bool:
    """No operators' token configured (open, as behind a proxy), or the caller sends it."""
    token = request.app.state.config.ops_token
    if not token:
        return True
    scheme, _, given = request.headers.get("authorization", "").partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(given.strip(), token)


def _rendered_stats(services: Services) -> dict[str, bytes]:
    """The public numbers, rendered once per cache period in both formats."""
    stats = public_stats(services)
    return {
        "json": json.dumps(stats, ensure_ascii=False, separators=(",", ":")).encode(),
        "csv": public_stats_csv(stats).encode(),
    }


class Cached:
    """A value recomputed at most once every `ttl_s` seconds. Only the very first request
    waits for it; after that a stale value is served while one thread recomputes it, so no
    request pays for the computation (the public numbers take half a second at 200k captures)."""

    def __init__(self, compute: Callable[[], Any], ttl_s: float) -> None:
        self.compute, self.ttl_s = compute, ttl_s
        self._value: Any = None
        self._at: float | None = None
        self._lock = threading.Lock()
        self._refreshing = False

    def get(self) -> Any:
        with self._lock:
            if self._at is None:  # nothing to serve yet: compute it now
                self._value, self._at = self.compute(), time.monotonic()
                return self._value
            if time.monotonic() - self._at >= self.ttl_s and not self._refreshing:
                self._refreshing = True
                threading.Thread(target=self._refresh, name="stats-refresh", daemon=True).start()
            return self._value

    def _refresh(self) -> None:
        try:
            value = self.compute()
            with self._lock:
                self._value, self._at = value, time.monotonic()
        except Exception:  # keep serving the last value; the next request tries again
            logging.getLogger(__name__).exception("recomputing a cached value failed")
        finally:
            with self._lock:
                self._refreshing = False


class Readiness:
    """The backends' answers and the followers' progress, each within `CHECK_TIMEOUT_S`."""

    def __init__(self, services: Services) -> None:
        self.services = services
        self._pool = ThreadPoolExecutor(max_workers=8, thread_name_prefix="readyz")
        self._moved: dict[str, tuple[int, float]] = {}

    def check(self) -> dict[str, dict[str, Any]]:
        probes = self._probes()
        futures = {name: self._pool.submit(_timed, probe) for name, probe in probes.items()}
        deadline = time.monotonic() + CHECK_TIMEOUT_S
        results: dict[str, dict[str, Any]] = {}
        for name, future in futures.items():
            try:
                results[name] = future.result(timeout=max(0.0, deadline - time.monotonic()))
            except FutureTimeout:
                results[name] = {"ok": False, "detail": f"no answer in {CHECK_TIMEOUT_S:.0f} s"}
        return results

    def _probes(self) -> dict[str, Callable[[], str]]:
        svc = self.services
        tracking = TrackingPositions(svc.positions)
        probes: dict[str, Callable[[], str]] = {
            "event_store": lambda: f"{svc.store.max_notification_id()} events",
            "blob_store": lambda: (svc.blobs.exists(PROBE_KEY), "answers")[1],
            "search_index": lambda: self._follower("indexer", svc.index.position),
            "dispatcher": lambda: self._follower("dispatcher", tracking.position),
            "stats": lambda: self._follower(STATS, stats_tables(svc).position),
        }
        broker = svc.settings.broker_url
        if not broker.startswith("memory"):
            probes["broker"] = lambda: _reach(broker)
        return probes

    def _follower(self, name: str, position: Callable[[str], int]) -> str:
        """Ready if at most `ready_max_lag` behind, or moving (its position changed in the last
        `STALL_S` seconds): a replay after a rebuild is not a failure."""
        at = position(name)
        lag = max(0, self.services.store.max_notification_id() - at)
        now = time.monotonic()
        last = self._moved.get(name)
        if last is None or last[0] != at:
            self._moved[name] = (at, now)
            last = (at, now)
        limit = self.services.settings.ready_max_lag
        if lag > limit and now - last[1] > STALL_S:
            raise RuntimeError(f"{lag} events behind and not moving for {now - last[1]:.0f} s")
        return f"position {at}, {lag} behind"


def _timed(probe: Callable[[], str]) -> dict[str, Any]:
    start = time.perf_counter()
    try:
        detail, ok = probe(), True
    except Exception as e:  # the answer is the reason, not a 500
        detail, ok = f"{type(e).__name__}: {e}", False
    return {"ok": ok, "detail": detail, "ms": round((time.perf_counter() - start) * 1000, 1)}


def _reach(url: str) -> str:
    """The broker answers: Redis `PING`, or a TCP connection to RabbitMQ."""
    parts = urlsplit(url)
    if parts.scheme.startswith("redis"):
        import redis

        redis.Redis.from_url(url, socket_timeout=CHECK_TIMEOUT_S).ping()
        return "PING answered"
    with socket.create_connection((parts.hostname, parts.port or 5672), CHECK_TIMEOUT_S):
        return "accepts connections"


def install(app: FastAPI, services: Services) -> None:
    """The routes, their state, and the request-timing middleware."""
    state = app.state
    state.readiness = Readiness(services)
    state.stats_cache = Cached(lambda: _rendered_stats(services), services.settings.stats_cache_s)
    sampler = metrics.Sampler(_probes(services))
    started = threading.Event()

    def sampler_started() -> None:
        if not started.is_set():
            started.set()
            sampler.start()

    state.sampler_started = sampler_started
    app.include_router(router)

    app.add_middleware(RequestTiming)


class RequestTiming:
    """ASGI middleware: every request's duration by method, route template and status class,
    and failed sign-ins. Plain ASGI so an upload's body passes straight through."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = 500  # what the server answers when the app raises before answering

        async def send_noting_status(message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_noting_status)
        finally:
            route = scope.get("route")
            template = getattr(route, "path", None) or "unmatched"
            method = scope["method"]
            metrics.HTTP_SECONDS.labels(method, template, f"{status // 100}xx").observe(
                time.perf_counter() - start
            )
            if template == "/login" and method == "POST" and status >= 400:
                metrics.LOGIN_FAILURES.inc()


def _probes(services: Services) -> list:
    """Follower lag as the web process sees it (each follower's stored position)."""
    tracking = TrackingPositions(services.positions)

    def lag() -> dict[str, float]:
        end = services.store.max_notification_id()
        values = {
            "dispatcher": end - tracking.position("dispatcher"),
            STATS: end - stats_tables(services).position(STATS),
        }
        with contextlib.suppress(Exception):  # the search node busy or down: the others count
            values["indexer"] = end - services.index.position("indexer")
        return {k: max(0, v) for k, v in values.items()}

    return [("lag", lag)]

"""Public search latency while a storm of sign-in attempts hits from one address.

`sohoa serve` runs in a subprocess over a store with a few published heritage sites. First the
p95 of a public search is measured with nothing else going on (the baseline, same run); then
again while `--attempts` sign-ins with wrong passwords (each with a valid pre-session CSRF token,
so it reaches the throttle) are sent from 127.0.0.1 by `--storm-clients` threads. The issue's
aim: the storm's p95 at most twice the quiet one.

    .venv/bin/python -m bench.bench_login_storm [--attempts 10000] [--json]
"""

from __future__ import annotations

import os
import re
import threading
import time
from pathlib import Path

from bench.bench_web import QUERIES, Server
from bench.common import emit, log, parser, percentile, row, scratch


def seed_sites(data: Path, count: int = 200) -> None:
    from models.record import Record
    from tests.helpers import make_services

    svc = make_services(data.parent, SOHOA_DATA_DIR=str(data))
    for n in range(count):
        r = Record(kind="site", key={"code": f"01-{n:04d}"}, source="bench")
        name = f"{QUERIES[n % len(QUERIES)].title()} {n}"
        r.record_attributes(attributes={"name": name, "rank": "quốc gia"}, source="bench")
        r.publish()
        svc.store.save(r)
    svc.close()


def searches(base: str, until: threading.Event | None, count: int) -> list[float]:
    """Sequential public searches: `count` of them, or until `until` is set (at least 50)."""
    import httpx

    out: list[float] = []
    with httpx.Client(base_url=base, timeout=30) as client:
        while (until is None and len(out) < count) or (
            until is not None and (not until.is_set() or len(out) < 50)
        ):
            q = QUERIES[len(out) % len(QUERIES)]
            start = time.perf_counter()
            r = client.get("/api/search", params={"q": q})
            out.append((time.perf_counter() - start) * 1000)
            r.raise_for_status()
    return out


def storm(base: str, attempts: int, clients: int) -> dict[int, int]:
    """`attempts` wrong sign-ins from this address; returns the count per status code."""
    import httpx

    codes: dict[int, int] = {}
    lock = threading.Lock()
    left = [attempts]

    def client(n: int) -> None:
        with httpx.Client(base_url=base, timeout=30) as c:
            page = c.get("/login").text
            token = re.search(r'name="csrf-token" content="([^"]*)"', page).group(1)
            while True:
                with lock:
                    if left[0] <= 0:
                        return
                    left[0] -= 1
                data = {"login": f"guess{n}", "password": "wrong", "csrf_token": token}
                status = c.post("/login", data=data).status_code
                with lock:
                    codes[status] = codes.get(status, 0) + 1

    threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return codes


def run(attempts: int, clients: int, quiet_count: int) -> list[dict]:
    with scratch("login-storm") as folder:
        data = folder / "data"
        seed_sites(data)
        server = Server(data)
        try:
            searches(server.base, None, 30)  # warm up (index opened, caches)
            quiet = searches(server.base, None, quiet_count)
            done = threading.Event()
            loaded: list[float] = []
            probe = threading.Thread(target=lambda: loaded.extend(searches(server.base, done, 0)))
            cpu0 = _cpu(server)
            start = time.perf_counter()
            probe.start()
            codes = storm(server.base, attempts, clients)
            seconds = time.perf_counter() - start
            server_cpu = _cpu(server) - cpu0
            done.set()
            probe.join()
        finally:
            server.stop()
    log(f"storm: {attempts} attempts in {seconds:.1f} s, status codes {codes}")
    quiet95, storm95 = percentile(quiet, 95), percentile(loaded, 95)
    note = (
        f"{attempts} sign-ins from one address by {clients} threads in {seconds:.1f} s "
        f"({attempts / seconds:.0f}/s), answered {codes}; {len(loaded)} searches during it; "
        f"server CPU {server_cpu:.1f} s; the senders share this machine's "
        f"{os.cpu_count()} cores with the server"
    )
    return [
        row(
            "public search p95 under a sign-in storm",
            "ms",
            storm95,
            quiet95,
            "ratio ≤ 2",
            note,
            ratio=storm95 / quiet95,
        ),
        row(
            "public search p50 under a sign-in storm",
            "ms",
            percentile(loaded, 50),
            percentile(quiet, 50),
            "",
            "quiet p50 as the baseline",
        ),
    ]


def _cpu(server: Server) -> float:
    import psutil

    proc = psutil.Process(server.proc.pid)
    times = [proc.cpu_times()] + [c.cpu_times() for c in proc.children(recursive=True)]
    return sum(t.user + t.system for t in times)


def main() -> list[dict]:
    p = parser(__doc__.splitlines()[0])
    p.add_argument("--attempts", type=int, default=10_000)
    p.add_argument("--storm-clients", type=int, default=8)
    p.add_argument("--quiet", type=int, default=300, help="searches for the quiet p95")
    args = p.parse_args()
    rows = run(args.attempts, args.storm_clients, args.quiet)
    emit(rows, args.json)
    return rows


if __name__ == "__main__":
    main()

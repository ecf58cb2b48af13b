"""The web edge: memory and speed of a large upload, public search latency, page weight.

    .venv/bin/python bench/bench_web.py [--upload-mb 2048] [--clients 20] [--quick] [--json]

1. `sohoa serve` (embedded defaults, in a subprocess on a loopback port) receives one big
   uncompressed greyscale TIFF (default 2 GB; quick 200 MB) through the resumable upload API
   (`POST /api/uploads`, `PUT` chunks of 8 MB, `POST …/complete`, which ingests it). The web
   process's RSS is sampled every 50 ms (psutil), and the whole tree's (the OCR pool processes
   too: their shared pages are counted once per process). Throughput is upload bytes per
   second from the first chunk to the end of ingest; baseline: `cp` of the same file plus an
   fsync of the copy (ingest fsyncs its blob too). A 1 MB upload first warms the server up (its
   first upload imports the parsers). Between rounds the bench waits until the
   pipeline has finished with the previous upload (its OCR and searchable PDF run in the same
   server), so a round measures the upload, not the previous one's pages.
2. Public search: the bundled Hanoi heritage sites are imported, then `--clients` threads
   (default 20) each send `GET /api/search?q=…` with a keep-alive connection for a fixed
   time; p50 and p95 latency. Baseline: `GET /healthz` under the same load (the cost of HTTP
   and the app without search).
3. Transfer size of the portal's search page: the HTML of `/?q=chua` plus every stylesheet,
   script and image it loads (no compression on the wire), measured from the server.
"""

from __future__ import annotations

import contextlib
import os
import re
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.bench_ingest import write_tiff_of_size
from bench.common import (
    MB,
    REPO,
    Stopwatch,
    emit,
    load_average,
    log,
    parser,
    percentile,
    row,
    scratch,
)

CHUNK = 8 * 1024 * 1024
QUERIES = ("chua", "van mieu", "hoan kiem", "den ngoc son", "thap rua", "ho tay", "dinh", "cot co")


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """`sohoa serve` in a subprocess, with an archivist's API token."""

    def __init__(self, data: Path) -> None:
        from datetime import timedelta

        from pipeline.usecases.accounts import add_user, issue_token
        from tests.helpers import make_services

        svc = make_services(data.parent, SOHOA_DATA_DIR=str(data))
        add_user(svc.store, "bench", "archivist", "bench-password")
        _, self.token = issue_token(svc.store, "bench", "bench", timedelta(hours=2))
        svc.close()
        self.port = _port()
        self.base = f"http://127.0.0.1:{self.port}"
        env = {
            **os.environ,
            "SOHOA_DATA_DIR": str(data),
            "SOHOA_WEB_SEARCH_RATE_PER_MIN": "100000000",
            "SOHOA_WEB_SEARCH_BURST": "100000",
            "TQDM_DISABLE": "1",
        }
        cmd = [sys.executable, "-m", "scanners.cli", "serve", "--port", str(self.port)]
        self.proc = subprocess.Popen(cmd, cwd=REPO, env=env, stderr=subprocess.DEVNULL)
        self._wait()

    def _wait(self) -> None:
        import httpx

        for _ in range(300):
            try:
                httpx.get(f"{self.base}/healthz", timeout=1)
                return
            except httpx.HTTPError:
                time.sleep(0.1)
        raise RuntimeError("server did not start")

    def rss(self) -> tuple[int, int]:
        """(the web process's RSS, the process tree's)."""
        import psutil

        p = psutil.Process(self.proc.pid)
        own = p.memory_info().rss
        children = 0
        for c in p.children(recursive=True):
            with contextlib.suppress(psutil.Error):  # a pool process may end meanwhile
                children += c.memory_info().rss
        return own, own + children

    def cpu(self) -> float:
        import psutil

        times = psutil.Process(self.proc.pid).cpu_times()
        return times.user + times.system

    def settle(self, capture_id: str, timeout_s: float = 900) -> str:
        """Wait until the pipeline has finished with a capture; its state."""
        import httpx

        auth = {"Authorization": f"Bearer {self.token}"}
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            state = httpx.get(f"{self.base}/api/captures/{capture_id}", headers=auth).json()
            if state["state"] != "pending":
                return state["state"]
            time.sleep(0.5)
        raise TimeoutError(f"capture {capture_id} still pending after {timeout_s} s")

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=20)


@dataclass
class Upload:
    seconds: float
    capture_id: str
    idle: tuple[int, int]  # RSS before it: (web process, process tree)
    peak: tuple[int, int]  # during it
    server_cpu: float  # CPU-seconds of the web process (user + system) during it


def upload_once(server: Server, path: Path) -> Upload:
    """One resumable upload of `path`, ingest included: time and RSS."""
    import httpx

    auth = {"Authorization": f"Bearer {server.token}"}
    size = path.stat().st_size
    idle = server.rss()
    peak = list(idle)
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            peak[:] = map(max, peak, server.rss())
            time.sleep(0.05)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    cpu_before = server.cpu()
    with httpx.Client(base_url=server.base, headers=auth, timeout=600) as c, Stopwatch() as t:
        up = c.post("/api/uploads", json={"name": path.name, "size": size}).json()
        with open(path, "rb") as f:
            offset = 0
            while chunk := f.read(CHUNK):
                r = c.put(f"/api/uploads/{up['id']}", params={"offset": offset}, content=chunk)
                r.raise_for_status()
                offset = r.json()["offset"]
        result = c.post(f"/api/uploads/{up['id']}/complete").json()
    cpu = server.cpu() - cpu_before
    done.set()
    sampler.join()
    if result.get("status") != "ingested":
        raise RuntimeError(f"upload not ingested: {result}")
    return Upload(t.s, result["capture_id"], idle, (peak[0], peak[1]), cpu)


def durable_copy(path: Path) -> float:
    """Seconds of `cp` of the file plus an fsync of the copy (the copy is removed)."""
    with scratch("web-cp") as tmp, Stopwatch() as cp:
        subprocess.run(["cp", str(path), str(tmp / "copy")], check=True)
        fd = os.open(tmp / "copy", os.O_RDONLY)
        os.fsync(fd)
        os.close(fd)
    return cp.s


def bench_uploads(server: Server, path: Path, rounds: int = 2) -> list[dict]:
    """Copy, upload, upload, copy (ABBA per pair of rounds); the better of each is shown."""
    size = path.stat().st_size
    copies: list[float] = []
    uploads: list[Upload] = []
    for n in range(rounds):
        pair = [copies, uploads] if n % 2 == 0 else [uploads, copies]
        for kind in pair:
            if kind is copies:
                copies.append(durable_copy(path))
            else:
                with open(path, "r+b") as f:  # new pixels each round: never a duplicate
                    f.seek(8)
                    f.write(n.to_bytes(8, "little"))
                uploads.append(upload_once(server, path))
                log(f"upload {n + 1}: {uploads[-1].seconds:.2f} s; waiting for its pages")
                server.settle(uploads[-1].capture_id)
    seconds = [u.seconds for u in uploads]
    rate, base = size / min(seconds) / MB, size / min(copies) / MB
    first, last = uploads[0], uploads[-1]
    note = (
        f"{size / MB:,.0f} MB TIFF in 8 MB chunks over loopback, from the first chunk to the "
        f"end of ingest (sha256 as the chunks are written; sniff, probe, the finished upload "
        f"renamed into the blob store with file and folder fsynced, one SQLite commit); "
        f"rounds ABBA: uploads "
        f"{' / '.join(f'{s:.2f}' for s in seconds)} s (web process CPU "
        f"{' / '.join(f'{u.server_cpu:.2f}' for u in uploads)} s), cp + fsync "
        f"{' / '.join(f'{s:.2f}' for s in copies)} s"
    )
    return [
        row("web RSS peak during upload", "MB", first.peak[0] / MB, first.idle[0] / MB,
            "sohoa ≤ 200",
            note=f"the web process (it receives the bytes), first upload; baseline: the same "
            f"process idle before it. After the pipeline has read the previous upload's pages "
            f"(the embedded runtime runs in the same process) the idle process holds "
            f"{last.idle[0] / MB:,.0f} MB and peaks at {last.peak[0] / MB:,.0f} MB during the "
            f"next upload. The process tree, OCR pool included: {first.peak[1] / MB:,.0f} MB "
            f"peak, {first.idle[1] / MB:,.0f} MB idle (summed RSS: pages the pool processes "
            f"share are counted in each); {note}"),
        row("upload throughput ÷ durable local copy", "MB/s", rate, base, "ratio ≥ 0.5",
            note=f"baseline: cp of the same file + fsync of the copy, same run; {note}"),
    ]  # fmt: skip


def bench_search(server: Server, clients: int, seconds: float) -> list[dict]:
    import httpx

    sites = REPO / "scanners/samples/hanoi_sites.jsonl"
    subprocess.run(
        [sys.executable, "-m", "scanners.cli", "import", str(sites)],
        cwd=REPO, env={**os.environ, "SOHOA_DATA_DIR": str(server.data)}, check=True,
        capture_output=True,
    )  # fmt: skip
    time.sleep(1.0)  # the server's indexer picks the import up

    def load(path_of) -> list[float]:
        times: list[float] = []
        lock = threading.Lock()
        stop = time.monotonic() + seconds

        def client(n: int) -> None:
            mine = []
            with httpx.Client(base_url=server.base, timeout=30) as c:
                i = n
                while time.monotonic() < stop:
                    start = time.perf_counter()
                    c.get(path_of(i)).raise_for_status()
                    mine.append(time.perf_counter() - start)
                    i += 1
            with lock:
                times.extend(mine)

        threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
        for th in threads:
            th.start()
        for th in threads:
            th.join()
        return times

    search = load(lambda i: f"/api/search?q={QUERIES[i % len(QUERIES)]}")
    health = load(lambda i: "/healthz")
    note = f"{clients} clients, keep-alive, {seconds:.0f} s each; {len(search)} searches"
    return [
        row("public search p95", "ms", percentile(search, 95) * 1000, percentile(health, 95) * 1000,
            note=f"baseline: /healthz p95 under the same load; {note}"),
        row("public search p50", "ms", percentile(search, 50) * 1000, percentile(health, 50) * 1000,
            note="baseline: /healthz p50"),
        row("public searches per second", "1/s", len(search) / seconds, len(health) / seconds),
    ]  # fmt: skip


def bench_page(server: Server) -> list[dict]:
    import httpx

    with httpx.Client(base_url=server.base, headers={"Accept-Encoding": "identity"}) as c:
        html = c.get("/?q=chua").text
        assets = set(re.findall(r'(?:src|href)="(/static/[^"]+)"', html))
        sizes = {a: len(c.get(a).content) for a in assets}
        css = "".join(c.get(a).text for a in assets if a.endswith(".css"))
        images = set(re.findall(r"url\((images/[^)]+)\)", css))
        for img in images:
            sizes[img] = len(c.get(f"/static/vendor/leaflet/{img}").content)
    total = len(html.encode()) + sum(sizes.values())
    return [
        row("portal search page transfer", "KB", total / 1000, None,
            note=f"HTML {len(html.encode()) / 1000:.0f} KB + {len(sizes)} assets, uncompressed "
            "(leaflet.js is 147 KB of it); nothing from other hosts"),
    ]  # fmt: skip


def run(upload_mb: int, clients: int, seconds: float, upload_only: bool = False) -> list[dict]:
    rows: list[dict] = []
    with scratch("web") as tmp:
        data = tmp / "data"
        server = Server(data)
        server.data = data
        try:
            big = tmp / "big.tif"
            log(f"writing a {upload_mb} MB TIFF")
            write_tiff_of_size(big, upload_mb * MB, seed=3)
            log("uploading")
            warm = tmp / "warm.tif"
            write_tiff_of_size(warm, MB, seed=4)  # the server's first upload imports its parsers
            server.settle(upload_once(server, warm).capture_id)
            rows += bench_uploads(server, big)
            big.unlink()
            if not upload_only:
                log("searching")
                rows += bench_search(server, clients, seconds)
                rows += bench_page(server)
        finally:
            server.stop()
    return rows


def main() -> list[dict]:
    p = parser(__doc__.split("\n\n")[0])
    p.add_argument(
        "--upload-mb", type=int, help="size of the uploaded file (default 2048; quick 200)"
    )
    p.add_argument("--clients", type=int, default=20)
    p.add_argument("--upload-only", action="store_true", help="only the upload figures")
    args = p.parse_args()
    log(f"bench_web: {load_average()}")
    rows = run(
        args.upload_mb or (200 if args.quick else 2048),
        args.clients,
        5 if args.quick else 20,
        args.upload_only,
    )
    log(f"bench_web done: {load_average()}")
    emit(rows, args.json)
    return rows


if __name__ == "__main__":
    main()

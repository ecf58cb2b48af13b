"""The portal as a visitor's browser sees it: page weight, time to the first result, axe-core.

    .venv/bin/python bench/bench_portal.py [--quick] [--json]

`sohoa serve` (embedded defaults, in a subprocess on a loopback port) over the small public
collection of the portal's browser tests (`tests/web/portal/showcase.py`: seven sites, a parcel,
a two-page document), opened in Debian's headless Chromium with a cold cache each time.

1. First page transfer: every byte the browser fetched for `/?q=van mieu` (the document and
   each stylesheet, script, image and thumbnail it loads: Resource Timing `transferSize`,
   headers included, compressed as sent), tiles excluded (the browser answers every tile
   itself; the offline outlines, fetched only when tiles fail, are shown separately).
2. Time to first result: from navigation start to the first result on screen (the paint
   that shows it: `first-contentful-paint`, the results being server-rendered), median of
   `runs` cold loads; baseline: the same for `/login` (a page of the same app without a search).
3. axe-core 4.14 on every public, staff and officer page: serious or critical violations, the
   most on any one page (the list of pages is printed in the note).
"""

from __future__ import annotations

import os
import socket
import statistics
import subprocess
import sys
import time
from contextlib import redirect_stdout
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import REPO, emit, load_average, log, parser, row, scratch

CHROMIUM = "/usr/bin/chromium"
PASSWORD = "correct horse battery"
AXE = "/static/vendor/axe-core/axe.min.js"
TRANSFER = """(() => performance.getEntries()
  .filter(e => e.entryType === 'navigation' || e.entryType === 'resource')
  .filter(e => !e.name.includes('/tiles/'))
  .map(e => [e.name, e.transferSize]))()"""
TILE = (REPO / "web/static/vendor/leaflet/images/marker-shadow.png").read_bytes()
"""What the browser answers for every tile: a small real PNG (an empty body would fail to
decode and count as a tile error)."""
PAINT = """(() => {
  const paint = performance.getEntriesByName('first-contentful-paint')[0];
  const nav = performance.getEntriesByType('navigation')[0];
  return paint ? paint.startTime : nav.domContentLoadedEventEnd;
})()"""
OUTLINES = (
    "performance.getEntries().filter(e => e.name.includes('provinces')).map(e => e.transferSize)"
)


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def serve(data: Path, port: int) -> subprocess.Popen:
    base = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "SOHOA_DATA_DIR": str(data),
        "SOHOA_AUTO_RUNS": "",
        "SOHOA_MAP_TILES_URL": f"{base}/tiles/{{z}}/{{x}}/{{y}}.png",
        "SOHOA_WEB_ADMIN_LOGIN": "lan",
        "SOHOA_WEB_ADMIN_PASSWORD": PASSWORD,
    }
    command = [sys.executable, "-m", "scanners.cli", "serve", "--host", "127.0.0.1"]
    proc = subprocess.Popen(
        [*command, "--port", str(port)], cwd=REPO, env=env, stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            found = httpx.get(f"{base}/api/search", params={"q": "thap rua"}, timeout=2).json()
            if found.get("total"):
                return proc
        except (httpx.HTTPError, ValueError):
            pass
        time.sleep(0.3)
    proc.kill()
    raise RuntimeError("sohoa serve did not index the collection in 60 s")


def transfer(browser, base: str) -> tuple[float, float, int]:
    """KB fetched for the first page with tiles answered, KB of the offline layer, requests."""
    context = browser.new_context(base_url=base)
    page = context.new_page()
    page.route("**/tiles/**", lambda route: route.fulfill(body=TILE, content_type="image/png"))
    page.goto("/?q=van mieu")
    page.wait_for_load_state("networkidle")
    entries = page.evaluate(TRANSFER)
    context.close()
    context = browser.new_context(base_url=base)
    page = context.new_page()
    page.route("**/tiles/**", lambda route: route.fulfill(status=404))
    page.goto("/?q=van mieu")
    page.wait_for_selector("#map[data-offline=shown]")
    outlines = page.evaluate(OUTLINES)
    context.close()
    return sum(size for _, size in entries) / 1000, sum(outlines) / 1000, len(entries)


def first_paint(browser, base: str, path: str, runs: int) -> float:
    times = []
    for _ in range(runs):
        context = browser.new_context(base_url=base)
        page = context.new_page()
        page.route("**/tiles/**", lambda route: route.fulfill(body=TILE, content_type="image/png"))
        page.goto(path)
        if path.startswith("/?"):
            page.wait_for_selector("ol.hits li")
        page.wait_for_load_state("load")
        times.append(page.evaluate(PAINT))
        context.close()
    return statistics.median(times)


def axe_pages(browser, base: str, show) -> dict[str, int]:
    """Serious and critical violations per page, signed in as each role in turn."""
    record = f"/records/{show.sites['Văn Miếu – Quốc Tử Giám']}"
    visits = {
        None: ["/", "/?q=van mieo", "/?lang=en&q=dinh", record, f"/records/{show.parcel}",
               "/login"],
        "lan": ["/staff", "/staff?q=van mieu", f"/staff/captures/{show.document}",
                f"/staff/records/{show.sites['Gò Đống Đa']}", "/staff/audit", "/staff/review"],
        "minh": ["/land", f"/land/parcels/{show.parcel}"],
    }  # fmt: skip
    found = {}
    for who, paths in visits.items():
        context = browser.new_context(base_url=base)
        page = context.new_page()
        page.route("**/tiles/**", lambda route: route.fulfill(body=TILE, content_type="image/png"))
        if who:
            page.goto("/login")
            page.fill("input[name=login]", who)
            page.fill("input[name=password]", PASSWORD)
            page.click("button[type=submit]")
            page.wait_for_load_state("networkidle")
        for path in paths:
            page.goto(path)
            page.wait_for_load_state("networkidle")
            page.add_script_tag(url=AXE)
            result = page.evaluate("axe.run(document, {resultTypes: ['violations']})")
            found[path] = sum(
                len(v["nodes"])
                for v in result["violations"]
                if v["impact"] in ("serious", "critical")
            )
        context.close()
    return found


def run(runs: int) -> list[dict]:
    from playwright.sync_api import sync_playwright

    from pipeline.usecases.accounts import add_user
    from tests.helpers import make_services
    from tests.web.portal.showcase import seed_showcase

    with scratch("portal") as tmp:
        svc = make_services(tmp)
        add_user(svc.store, "minh", "officer", PASSWORD)
        with redirect_stdout(sys.stderr):  # ingest reports each file on stdout: keep it a table
            show = seed_showcase(svc, tmp / "files")
        svc.close()
        port = _port()
        server = serve(tmp / "data", port)
        base = f"http://127.0.0.1:{port}"
        try:
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
                log("page weight")
                kb, outlines, requests = transfer(browser, base)
                log("time to first result")
                search = first_paint(browser, base, "/?q=van mieu", runs)
                plain = first_paint(browser, base, "/login", runs)
                log("axe-core")
                axe = axe_pages(browser, base, show)
                browser.close()
        finally:
            server.terminate()
            server.wait(timeout=10)
    return [
        row("portal first page transfer", "KB", kb, None, "sohoa ≤ 200",
            note=f"/?q=van mieu in Chromium: {requests} requests (document, CSS, JS, marker "
            f"images, thumbnails), tiles excluded, static files gzipped by the server; the "
            f"offline outlines add {outlines:.0f} KB only when tiles fail"),
        row("portal time to first result", "ms", search, plain,
            note=f"first-contentful-paint of /?q=van mieu (results server-rendered), median of "
            f"{runs} cold loads; baseline: /login"),
        row("axe serious/critical violations per page", "count", float(max(axe.values())), None,
            "sohoa ≤ 0", note=f"the most on any of {len(axe)} pages: {', '.join(axe)}"),
    ]  # fmt: skip


def main() -> list[dict]:
    p = parser(__doc__.split("\n\n")[0])
    args = p.parse_args()
    log(f"bench_portal: {load_average()}")
    rows = run(3 if args.quick else 9)
    log(f"bench_portal done: {load_average()}")
    emit(rows, args.json)
    return rows


if __name__ == "__main__":
    main()

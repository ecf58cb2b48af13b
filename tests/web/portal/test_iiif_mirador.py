"""A librarian's Mirador, on another origin, opens our manifest, draws the page on a canvas it
may read back (CORS), and finds a word through its search panel (Content Search).

Real Chromium (Debian's), the real app over HTTP (uvicorn in a thread), Mirador 4.0.0 from npm
(`tests/web/portal/mirador/`) served by a second HTTP server on another port.
"""

from __future__ import annotations

import functools
import http.server
import threading
import time
from pathlib import Path

import httpx
import pytest
import uvicorn

from pipeline.settings import WebSettings
from tests.web.browser import CHROMIUM, free_port, needs_chromium
from tests.web.portal.test_iiif import document
from web.app import create_app

MIRADOR = Path(__file__).parent / "mirador"
pw = pytest.importorskip("playwright.sync_api")

pytestmark = needs_chromium


@pytest.fixture
def sohoa(svc):
    """The app on a loopback port, in a thread; stopped after the test."""
    port = free_port()
    app = create_app(svc, WebSettings(search_rate_per_min=600, search_burst=200))
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 20
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert httpx.get(f"{base}/healthz", timeout=5).status_code == 200
    yield base
    server.should_exit = True
    thread.join(10)


@pytest.fixture
def viewer_origin():
    """Mirador's host page on another port: another origin than the app's."""
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(MIRADOR))
    handler.log_message = lambda *args: None  # type: ignore[method-assign]
    server = http.server.ThreadingHTTPServer(("127.0.0.1", free_port()), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


DRAWN = """() => {
  const canvas = document.querySelector('.openseadragon-canvas canvas');
  if (!canvas || !canvas.width) return null;
  try {
    canvas.toDataURL();
    const data = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
    let grey = 0;
    for (let i = 0; i < data.length; i += 4) {
      const [r, b, a] = [data[i], data[i + 2], data[i + 3]];
      if (a > 0 && r > 100 && r < 200 && Math.abs(r - b) < 8) grey++;
    }
    return grey > 50 ? 'drawn' : null;
  } catch (e) {
    return e.name;
  }
}"""


def test_mirador_on_another_origin_draws_the_page_and_searches_inside(
    svc, tmp_path, sohoa, viewer_origin
):
    cid = document(svc, tmp_path)
    manifest = f"{sohoa}/iiif/{cid}/manifest.json"
    with pw.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            errors: list[str] = []
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.goto(f"{viewer_origin}/index.html?manifest={manifest}")
            # the page's word blocks (grey) are on Mirador's canvas, and it may read them back
            state = page.wait_for_function(DRAWN, timeout=30_000).json_value()
            assert state == "drawn", (state, errors)
            assert not [e for e in errors if "CORS" in e or "SecurityError" in e], errors

            search = page.get_by_label("search terms", exact=False).first
            search.fill("van mieu")
            search.press("Enter")
            hit = page.locator("li", has_text="Miếu").first
            hit.wait_for(timeout=20_000)
            assert "Văn Miếu" in hit.inner_text()
            page.screenshot(path=str(tmp_path / "mirador.png"))
        finally:
            browser.close()

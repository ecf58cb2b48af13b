"""End to end in real headless Chromium (Debian's; no browser download) against `sohoa serve`.

The server is the real command in a subprocess on a free loopback port, with the embedded
runtime (followers and workers in-process), so an upload really gets processed and indexed.
"""

from __future__ import annotations

import hashlib
import re
import socket
import time
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from models.ids import capture_id
from pipeline.usecases.accounts import add_user
from tests.factories import samples
from tests.helpers import make_services
from tests.web.browser import PASSWORD, chromium, needs_chromium, serving, sign_in
from tests.web.records import parcel, site

pw = pytest.importorskip("playwright.sync_api")

pytestmark = needs_chromium


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("e2e")
    svc = make_services(tmp)
    add_user(svc.store, "minh", "officer", PASSWORD)
    seeded = seed(svc)
    svc.close()
    with serving(tmp / "data") as base:
        yield {"base": base, "tmp": tmp, **seeded}


def seed(svc) -> dict:
    """A parcel whose area changed (with the moment in between), and a site with a GLB."""
    p = parcel(svc.store)
    time.sleep(1.1)
    between = datetime.now(ZoneInfo("Asia/Ho_Chi_Minh"))
    time.sleep(1.1)
    svc.store.update(p.id, lambda r: r.record_attributes(attributes={"area_m2": 99.0}, source="t"))
    s = site(svc.store, "01-900", "Tháp Rùa")
    return {"parcel": p.id, "between": between, "site": s.id}


@pytest.fixture(scope="module")
def browser():
    with chromium() as b:
        yield b


@pytest.fixture
def page(browser, server):
    context = browser.new_context(base_url=server["base"], locale="vi-VN")
    yield context.new_page()
    context.close()


def test_upload_processed_published_then_found_in_portal(page, server, tmp_path):
    sign_in(page, "lan")
    page.wait_for_url("**/staff")
    png = samples.make_png(tmp_path / "bia-tien-si.png", 600, 400)
    page.set_input_files("input[name=file]", str(png))
    page.fill("input[name=site_code]", "01-777")
    page.fill("input[name=title]", "Bia tiến sĩ")
    page.click("#upload button[type=submit]")
    status = page.locator("#upload-status tbody tr").first
    pw.expect(status).to_have_class(re.compile(r"state-(done|partial|failed)"), timeout=180_000)
    status.locator("a").click()
    page.locator("#linked a").first.click()
    page.fill("#correct input[name=name]", "name")
    page.fill("#correct input[name=value]", "Bia Tiến sĩ Văn Miếu thử nghiệm")
    page.click("#correct button")
    pw.expect(page.locator("table.attrs")).to_contain_text("person:lan")
    page.click("#publish")
    pw.expect(page.locator("#published")).to_have_text("Đã công bố")

    for _ in range(40):  # the indexer follows the log in the server process
        page.goto("/?q=van mieu thu nghiem")
        if page.locator("ol.hits li").count():
            break
        time.sleep(0.25)
    title = page.locator("ol.hits li a.title", has_text="Bia Tiến sĩ Văn Miếu thử nghiệm")
    title.click()
    pw.expect(page.locator(".pages img").first).to_be_visible()
    loaded = "document.querySelector('.pages img').naturalWidth > 0"
    for _ in range(80):  # visible is laid out, not yet drawn (wait_for_function: our CSP)
        if page.evaluate(loaded):
            break
        time.sleep(0.25)
    assert page.evaluate(loaded), "the page image is drawn"


def text_page(path: Path) -> Path:
    """A clean printed page of Vietnamese text (big type, so OCR reads it in seconds)."""
    from PIL import Image, ImageDraw, ImageFont

    im = Image.new("L", (1240, 1000), 255)
    draw = ImageDraw.Draw(im)
    font = ImageFont.truetype("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf", 44)
    for n, line in enumerate(["QUYẾT ĐỊNH", "Về việc công nhận di tích", "Đình làng Đông Ngạc"]):
        draw.text((90, 90 + 110 * n), line, fill=0, font=font)
    im.save(path, dpi=(300, 300))
    return path


def test_a_text_page_shows_its_image_and_text_on_the_capture_page(page, server, tmp_path):
    sign_in(page, "lan")
    page.wait_for_url("**/staff")
    page.set_input_files("input[name=file]", str(text_page(tmp_path / "van-bia.png")))
    page.select_option("select[name=kind]", "document")
    page.click("#upload button[type=submit]")
    page.locator("#upload-status tbody tr a").first.click()
    pw.expect(page.locator("#progress")).to_be_visible()
    pw.expect(page.locator("#state")).to_have_text(re.compile("done|partial"), timeout=180_000)
    pw.expect(page.locator("pre.ocr").first).to_contain_text("di tích", timeout=20_000)
    image = page.locator(".page-image img").first
    image.scroll_into_view_if_needed()
    pw.expect(image).to_be_visible()
    for _ in range(40):
        if page.evaluate("document.querySelector('.page-image img').naturalWidth") > 0:
            break
        time.sleep(0.25)
    assert page.evaluate("document.querySelector('.page-image img').naturalWidth") > 600
    assert "1 / 1" in page.locator("#progress ul.runs").inner_text()


def test_officer_date_control_changes_the_parcel_page(page, server):
    sign_in(page, "minh")
    page.wait_for_url("**/land")
    page.fill("#lookup input[name=unit]", "00031")
    page.fill("#lookup input[name=sheet]", "12")
    page.fill("#lookup input[name=number]", "45")
    page.click("#lookup button")
    page.locator("ul.parcels a").first.click()
    attrs = page.locator("table.attrs")
    area = attrs.locator("[data-attribute=area_m2]")  # shown for people: 99.0 is "99"
    pw.expect(area).to_have_text("99")
    between = server["between"]
    page.click("#as-of details.recorded summary")  # the recorded time (the date is effective)
    page.fill("#as-of input[name=recorded]", between.date().isoformat())
    page.fill("#as-of input[name=at]", between.strftime("%H:%M:%S"))
    page.click("#as-of button[type=submit]")
    pw.expect(area).to_have_text("120.5")
    page.fill("#as-of input[name=recorded]", "2001-01-01")
    page.click("#as-of button[type=submit]")
    pw.expect(page.locator("#not-yet")).to_be_visible()
    assert page.evaluate("document.getElementById('map') === null")  # nothing to map then


def test_portal_map_shows_the_parcel_shape_and_a_huge_query_is_refused(page, server):
    page.goto("/?q=giang vo")
    pw.expect(page.locator("#map")).to_have_attribute("data-features", "1")
    assert page.locator("path.leaflet-interactive").count() == 1  # the polygon, no tiles
    with socket.create_connection(("127.0.0.1", int(server["base"].rsplit(":", 1)[1]))) as s:
        s.sendall(b"GET /api/search?q=" + b"x" * 100_000 + b" HTTP/1.1\r\nHost: x\r\n\r\n")
        status = s.recv(100).split(b" ")[1]
    assert status in (b"400", b"414", b"431")


def test_3d_viewer_shows_a_model(page, server, tmp_path):
    trimesh = pytest.importorskip("trimesh")
    glb = tmp_path / "thap-rua.glb"
    glb.write_bytes(trimesh.creation.box(extents=(1, 2, 3)).export(file_type="glb"))
    sign_in(page, "lan")
    page.wait_for_url("**/staff")
    page.set_input_files("input[name=file]", str(glb))
    page.fill("input[name=site_code]", "01-900")
    page.click("#upload button[type=submit]")
    pw.expect(page.locator("#upload-status tbody tr a")).to_be_visible(timeout=30_000)
    cid = capture_id(hashlib.sha256(glb.read_bytes()).hexdigest())
    state = {}
    for _ in range(240):  # reconstruction runs on the server's in-process worker
        state = page.request.get(f"/api/captures/{cid}/model").json()
        if state.get("state") in ("done", "failed"):
            break
        time.sleep(0.5)
    assert state.get("state") == "done", state
    assert state["faces"] > 0 and state["bbox_m"]
    page.goto(f"/records/{server['site']}")
    viewer = page.locator("model-viewer")
    pw.expect(viewer).to_be_attached(timeout=20_000)
    viewer.scroll_into_view_if_needed()
    for _ in range(120):  # wait_for_function would need 'unsafe-eval' under our CSP
        if page.evaluate("document.querySelector('model-viewer').loaded === true"):
            break
        time.sleep(0.25)
    assert page.evaluate("document.querySelector('model-viewer').loaded === true")
    source = page.evaluate("document.querySelector('model-viewer').dataset.source")
    assert source.startswith(f"/public/captures/{cid}/model.glb")
    if state.get("lods"):
        assert "?lod=" in source
    pw.expect(page.locator("dl.metrics")).to_be_visible()

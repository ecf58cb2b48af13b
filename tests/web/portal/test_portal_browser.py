"""The portal as a visitor meets it, in real headless Chromium against `sohoa serve`: a map with
a base layer (or the offline outlines when tiles fail), labels for people, the zoom viewer with
selectable words, keyboard use, and axe-core on every public and staff page."""

from __future__ import annotations

import time

import httpx
import pytest

from pipeline.usecases.accounts import add_user
from tests.helpers import REPO, make_services
from tests.web.browser import PASSWORD, chromium, free_port, needs_chromium, serving, sign_in
from tests.web.portal.showcase import seed_showcase

pw = pytest.importorskip("playwright.sync_api")
pytestmark = needs_chromium
AXE = "/static/vendor/axe-core/axe.min.js"
TILE = (REPO / "web/static/vendor/leaflet/images/marker-shadow.png").read_bytes()
"""Any PNG will do as a tile."""


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("portal")
    svc = make_services(tmp)
    add_user(svc.store, "minh", "officer", PASSWORD)
    shown = seed_showcase(svc, tmp / "files")
    svc.close()
    port = free_port()
    settings = {
        "SOHOA_AUTO_RUNS": "",  # the pages are recorded already: no OCR of its own
        # a tile server that answers 404: the offline outlines must show
        "SOHOA_MAP_TILES_URL": f"http://127.0.0.1:{port}/no-tiles/{{z}}/{{x}}/{{y}}.png",
    }
    with serving(tmp / "data", settings, port=port, ready=_finds_the_seeded_sites) as base:
        yield {"base": base, "show": shown}


def _finds_the_seeded_sites(base: str) -> bool:
    found = httpx.get(f"{base}/api/search", params={"q": "thap rua"}, timeout=2)
    return found.status_code == 200 and bool(found.json()["total"])


@pytest.fixture(scope="module")
def browser():
    with chromium() as b:
        yield b


@pytest.fixture
def page(browser, server):
    context = browser.new_context(base_url=server["base"], locale="vi-VN")
    yield context.new_page()
    context.close()


def record_url(server, name: str) -> str:
    return f"/records/{server['show'].sites[name]}"


# -- the map ---------------------------------------------------------------------------------


def test_the_map_shows_province_outlines_when_the_tile_server_fails(page, server):
    page.goto("/")
    pw.expect(page.locator("#map")).to_have_attribute("data-offline", "shown")
    assert page.locator(".province-label", has_text="Hà Nội").count() == 1
    assert page.locator("#map").get_attribute("data-features") == "8"  # 7 sites, 1 parcel
    pw.expect(page.locator(".marker-cluster").first).to_be_visible()  # Hoàn Kiếm's, zoomed out
    assert page.locator("path.leaflet-interactive").count() == 1  # the parcel
    pw.expect(page.locator(".leaflet-control-attribution")).to_contain_text("OpenStreetMap")


def test_the_map_draws_tiles_when_the_tile_server_answers(page, server):
    page.route("**/no-tiles/**", lambda route: route.fulfill(body=TILE, content_type="image/png"))
    page.goto("/")
    pw.expect(page.locator("#map")).to_have_attribute("data-tiles-loaded", "1")
    assert page.locator(".leaflet-tile-loaded").count() > 0
    assert page.locator("#map").get_attribute("data-offline") is None


# -- pages made for people -------------------------------------------------------------------


def test_facets_and_kinds_are_labelled_and_a_typo_is_said(page, server):
    page.goto("/")
    facets = page.locator("nav.facets")
    for text in ("Loại hồ sơ", "Di tích", "Thửa đất", "Xếp hạng", "Mô hình 3D", "Không"):
        pw.expect(facets).to_contain_text(text)
    assert "has_model" not in facets.inner_text() and "false" not in facets.inner_text()
    page.goto("/?q=van mieo")
    pw.expect(page.locator("#showing")).to_contain_text("Văn Miếu")
    page.goto("/?q=dong da")
    assert page.locator("#showing").count() == 0
    titles = page.locator("ol.hits a.title").all_inner_texts()
    assert titles == ["Gò Đống Đa"]  # not "xây dựng bằng đá", not "thời đại"


def test_a_record_page_reads_as_text_with_a_history_in_words(page, server):
    page.goto(record_url(server, "Văn Miếu – Quốc Tử Giám"))
    attrs = page.locator("table.attrs")
    pw.expect(attrs.locator("[data-attribute=aliases]")).to_have_text("Văn Miếu, Quốc Tử Giám")
    assert "[" not in attrs.inner_text() and "\\u" not in page.locator("main").inner_text()
    pw.expect(page.locator("p.kind")).to_have_text("Di tích")
    history = page.locator("ol.timeline")
    pw.expect(history).to_contain_text("Đã công bố")
    pw.expect(history).to_contain_text("Tên gọi khác: Văn Miếu, Quốc Tử Giám")
    assert "AttributesRecorded" not in history.inner_text()


def test_a_page_opens_in_the_zoom_viewer_with_words_to_select(page, server):
    page.goto(record_url(server, "Văn Miếu – Quốc Tử Giám"))
    page.locator("button.zoom").first.click()
    viewer = page.locator(".viewer").first
    pw.expect(viewer).to_have_attribute("data-words", "13", timeout=15_000)
    viewer.scroll_into_view_if_needed()
    time.sleep(0.5)  # the viewer settles after scrolling
    words = viewer.locator(".ocr-word")
    first, last = words.nth(3).bounding_box(), words.nth(6).bounding_box()
    page.mouse.move(first["x"] + 2, first["y"] + first["height"] / 2)
    page.mouse.down()
    page.mouse.move(last["x"] + last["width"] - 2, last["y"] + last["height"] / 2, steps=8)
    page.mouse.up()
    assert page.evaluate("String(window.getSelection())").split() == ["việc", "công", "nhận", "di"]
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    page.keyboard.press("Control+C")
    assert page.evaluate("navigator.clipboard.readText()") == "việc công nhận di"  # as it reads
    pw.expect(page.locator("pre.ocr").first).to_contain_text("Về việc công nhận di tích")


# -- keyboard ---------------------------------------------------------------------------------


def focused(page) -> str:
    return page.evaluate(
        "(() => { const e = document.activeElement;"
        " return e.tagName + '|' + (e.className || '') + '|' + (e.textContent || e.name || '')"
        ".trim().slice(0, 40); })()"
    )


def tab_until(page, wanted: str, most: int = 80) -> str:
    for _ in range(most):
        page.keyboard.press("Tab")
        if wanted in (now := focused(page)):
            return now
    raise AssertionError(f"Tab never reached {wanted!r}")


def test_keyboard_reaches_search_facets_results_and_the_viewer(page, server):
    page.goto("/")
    assert "skip" in tab_until(page, "skip")
    tab_until(page, "INPUT|")
    page.keyboard.type("van mieu")
    page.keyboard.press("Enter")
    page.wait_for_url("**/?q=van*")
    tab_until(page, "Di tích")  # a facet value
    page.keyboard.press("Enter")
    page.wait_for_url("**facet=kind*")
    assert page.locator("ol.hits li").count() == 1
    tab_until(page, "Văn Miếu – Quốc Tử Giám")  # the result
    page.keyboard.press("Enter")
    page.wait_for_url("**/records/**")
    tab_until(page, "BUTTON|zoom")
    page.keyboard.press("Enter")
    viewer = page.locator(".viewer").first
    pw.expect(viewer).to_have_attribute("data-opened", "1", timeout=15_000)
    zoom = "document.querySelector('.viewer').sohoaViewer.viewport.getZoom()"
    before = page.evaluate(zoom)
    tab_until(page, "openseadragon-canvas")
    page.keyboard.press("+")
    time.sleep(1.5)  # the zoom animates
    assert page.evaluate(zoom) > before * 1.05  # "+" zoomed in


# -- accessibility ----------------------------------------------------------------------------


def violations(page) -> list[str]:
    """axe-core's serious and critical violations on the page, as "rule: element" lines."""
    page.add_script_tag(url=AXE)
    found = page.evaluate("axe.run(document, {resultTypes: ['violations']})")
    return [
        f"{v['id']}: {node['target']}"
        for v in found["violations"]
        if v["impact"] in ("serious", "critical")
        for node in v["nodes"]
    ]


def test_public_pages_have_no_serious_accessibility_violation(page, server):
    show = server["show"]
    for url in (
        "/",
        "/?q=van mieo",
        "/?lang=en&q=dinh",
        record_url(server, "Văn Miếu – Quốc Tử Giám"),
        f"/records/{show.parcel}",
        "/login",
    ):
        page.goto(url)
        page.wait_for_load_state("networkidle")
        assert violations(page) == [], url


def test_staff_and_officer_pages_have_no_serious_accessibility_violation(page, server):
    show = server["show"]
    sign_in(page, "lan")
    page.wait_for_url("**/staff")
    for url in (
        "/staff",
        "/staff?q=van mieu",
        f"/staff/records/{show.sites['Văn Miếu – Quốc Tử Giám']}",
        f"/staff/captures/{show.document}",
        "/staff/audit",
        "/staff/review",
    ):
        page.goto(url)
        page.wait_for_load_state("networkidle")
        assert violations(page) == [], url
    page.context.clear_cookies()
    sign_in(page, "minh")
    page.wait_for_url("**/land")
    for url in ("/land", f"/land/parcels/{show.parcel}", "/land?unit=00031&sheet=12&number=45"):
        page.goto(url)
        page.wait_for_load_state("networkidle")
        assert violations(page) == [], url


def test_the_officer_parcel_map_has_the_same_base_and_keeps_the_parcel_in_view(page, server):
    sign_in(page, "minh")
    page.wait_for_url("**/land")
    page.goto(f"/land/parcels/{server['show'].parcel}")
    pw.expect(page.locator("#map")).to_have_attribute("data-offline", "shown")
    assert page.locator("#map").get_attribute("data-shapes") == "1"
    parcel = page.locator("path.leaflet-interactive")
    box = parcel.bounding_box()
    assert box["width"] > 40 and box["height"] > 40  # drawn large, not a dot at zoom 10

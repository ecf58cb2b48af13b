"""The archivist's keys in real headless Chromium against `sohoa serve`: Enter on the queue
starts at the weakest certificate, Alt+B leaves a photo's missing fields blank and opens the
next certificate saying which was done, ↑/↓ move between fields, Esc puts back the value read,
typing and Enter corrects; the last field settled ends at the queue's "nothing left"."""

from __future__ import annotations

import os

import pytest

from tests.conftest import SHARED_DATA, need
from tests.helpers import make_services
from tests.web.browser import needs_chromium, serving, sign_in
from tests.web.test_browser import browser  # noqa: F401 - the fixture
from tests.web.test_review_queue import certificate
from tests.web.test_review_walk import SECTION_I, SECTION_II

pw = pytest.importorskip("playwright.sync_api")

pytestmark = needs_chromium


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    need(SHARED_DATA.is_dir(), f"sample data folder {SHARED_DATA} is absent")
    tmp = tmp_path_factory.mktemp("review-walk")
    gazetteer = str(SHARED_DATA / "heritage" / "admin_units_vn")
    svc = make_services(tmp, SOHOA_GAZETTEER_DIR=gazetteer)
    page_1 = certificate(svc, tmp, "trang-1.png", SECTION_I, 64)
    spread = certificate(svc, tmp, "trang-2-3.png", SECTION_II, 65)
    svc.close()
    with serving(tmp / "data", {"SOHOA_GAZETTEER_DIR": gazetteer}) as base:
        yield {"base": base, "page_1": str(page_1), "spread": str(spread), "tmp": tmp}


def focused(page) -> str:
    return page.evaluate("document.activeElement && document.activeElement.id")


def test_the_keys_take_the_archivist_through_the_queue(browser, server):  # noqa: F811
    page = browser.new_context(base_url=server["base"], locale="vi-VN").new_page()
    sign_in(page, "lan")
    page.wait_for_url("**/staff")
    page.goto("/staff/review")
    assert focused(page) == "start"
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.url.endswith(f"/staff/review/{server['page_1']}")
    assert page.locator("#parcel .problem").get_attribute("data-problem") == "not_on_pages"
    with page.expect_navigation():
        page.keyboard.press("Alt+B")
    assert f"/staff/review/{server['spread']}?done={server['page_1']}" in page.url
    assert "trang-1.png" in page.locator("#done").inner_text()
    assert focused(page) == "v-serial"
    page.screenshot(path=os.environ.get("SOHOA_SHOT", str(server["tmp"] / "walk.png")))
    # ↓ to the next field, Esc puts back what was read after a slip, ↑ back to the serial
    page.keyboard.press("ArrowDown")
    below = focused(page)
    assert below.startswith("v-") and below != "v-serial"
    read = page.input_value(f"#{below}")
    page.keyboard.type("slip")
    page.keyboard.press("Escape")
    assert page.input_value(f"#{below}") == read
    page.keyboard.press("ArrowUp")
    assert focused(page) == "v-serial"
    page.keyboard.type("BV 999451")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.url.endswith(f"/staff/review?done={server['spread']}")
    assert page.locator("#all-done").count() == 1
    assert page.locator("#done a[href^='/staff/records/']").count() == 1
    page.context.close()


@pytest.fixture(scope="module")
def booklet(tmp_path_factory):
    """A photo of page 1, then the photo of the same booklet's pages 2–3."""
    need(SHARED_DATA.is_dir(), f"sample data folder {SHARED_DATA} is absent")
    tmp = tmp_path_factory.mktemp("review-join")
    gazetteer = str(SHARED_DATA / "heritage" / "admin_units_vn")
    svc = make_services(tmp, SOHOA_GAZETTEER_DIR=gazetteer)
    page_1 = certificate(svc, tmp, "IMG_0001.png", SECTION_I, 64)
    spread = certificate(svc, tmp, "IMG_0002.png", SECTION_II, 65)
    svc.close()
    with serving(tmp / "data", {"SOHOA_GAZETTEER_DIR": gazetteer}) as base:
        yield {"base": base, "page_1": str(page_1), "spread": str(spread)}


def test_alt_l_joins_a_page_1_photo_to_its_booklets_parcel(browser, booklet):  # noqa: F811
    page = browser.new_context(base_url=booklet["base"], locale="vi-VN").new_page()
    sign_in(page, "lan")
    page.wait_for_url("**/staff")
    page.goto(f"/staff/review/{booklet['page_1']}")
    assert "IMG_0002.png" in page.locator("#same").inner_text()
    with page.expect_navigation():
        page.keyboard.press("Alt+L")
    assert f"/staff/review/{booklet['spread']}?done={booklet['page_1']}" in page.url
    assert page.locator("#done a[href^='/staff/records/']").count() == 1
    page.context.close()

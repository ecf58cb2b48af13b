"""The review queue in real headless Chromium against `sohoa serve`: the keyboard alone takes an
archivist from the queue to the weakest field, typing corrects it, Enter accepts the next."""

from __future__ import annotations

import os
import time

import pytest

from tests.helpers import make_services
from tests.web.browser import needs_chromium, serving, sign_in
from tests.web.test_browser import browser  # noqa: F401 - the fixture
from tests.web.test_review_queue import GARBLED, certificate

pw = pytest.importorskip("playwright.sync_api")

pytestmark = needs_chromium


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("review")
    svc = make_services(tmp)
    cid = certificate(svc, tmp, "gcn.png", GARBLED, 64)
    svc.close()
    with serving(tmp / "data") as base:
        yield {"base": base, "capture": str(cid), "tmp": tmp}


def test_the_keyboard_alone_corrects_then_accepts_fields(browser, server):  # noqa: F811
    context = browser.new_context(base_url=server["base"], locale="en-GB")
    page = context.new_page()
    sign_in(page, "lan")
    page.wait_for_url("**/staff")
    page.goto("/staff/review?lang=en")
    assert page.locator("#fig-certificates").inner_text() == "1"
    page.click(f"a[href='/staff/review/{server['capture']}']")
    # the weakest field waiting has the focus, its label and its raw reading
    focused = page.locator(":focus")
    assert focused.get_attribute("id") == "v-parcel_number"
    assert focused.input_value().startswith("4#5")
    assert page.get_by_label("Parcel number").count() == 1  # the field's name, in English
    assert page.locator("#d-parcel_number .why").inner_text() == "not in the field's format"
    # and the crop of the page it was read from is shown
    crop = page.locator("#f-parcel_number img.crop")
    drawn = "img => img.complete && img.naturalWidth > 0"
    for _ in range(120):  # wait_for_function would need 'unsafe-eval' under our CSP
        if crop.evaluate(drawn):
            break
        time.sleep(0.25)
    assert crop.evaluate(drawn), "the field's crop is drawn"
    page.screenshot(path=os.environ.get("SOHOA_SHOT", str(server["tmp"] / "review.png")))
    # typing corrects it
    page.keyboard.press("Control+A")
    page.keyboard.type("45")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    item = page.locator("#f-parcel_number")
    assert "status-corrected" in item.get_attribute("class")
    # Enter on a field read right accepts it
    page.focus("#v-area_m2")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert "status-accepted" in page.locator("#f-area_m2").get_attribute("class")
    page.goto("/staff/review?lang=en")
    assert page.locator("#fig-accepted").inner_text() == "1"
    assert page.locator("#fig-corrected").inner_text() == "1"
    context.close()

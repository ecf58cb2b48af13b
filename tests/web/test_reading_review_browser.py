"""In real headless Chromium against `sohoa serve`: a page uploaded with a seal and a handwritten
note shows, once read, a labelled box over the seal on its image and the note dimmed in its text,
with the legend that says why."""

from __future__ import annotations

import os
import re

import pytest

from tests.factories.degrade import annotated_page
from tests.web.browser import needs_chromium, sign_in
from tests.web.test_browser import browser, page, server  # noqa: F401 - fixtures

pw = pytest.importorskip("playwright.sync_api")

pytestmark = needs_chromium


def test_the_seal_is_boxed_on_the_image_and_the_note_dimmed(page, server, tmp_path):  # noqa: F811
    path = tmp_path / "quyet-dinh-co-dau.png"
    annotated_page().save(path, dpi=(300, 300))
    sign_in(page, "lan")
    page.wait_for_url("**/staff")
    page.set_input_files("input[name=file]", str(path))
    page.select_option("select[name=kind]", "document")
    page.click("#upload button[type=submit]")
    page.locator("#upload-status tbody tr a").first.click()
    pw.expect(page.locator("#state")).to_have_text(re.compile("done|partial"), timeout=180_000)
    seal = page.locator(".page-image .skipped[data-kind=seal]").first
    seal.scroll_into_view_if_needed()
    pw.expect(seal).to_be_visible(timeout=20_000)
    pw.expect(seal.locator(".label")).to_have_text("con dấu")
    image = page.locator(".page-image img").first.bounding_box()
    box = seal.bounding_box()
    assert image["x"] <= box["x"] and box["x"] + box["width"] <= image["x"] + image["width"] + 1
    assert image["y"] <= box["y"] and box["y"] + box["height"] <= image["y"] + image["height"] + 1
    dim = page.locator("pre.ocr .dim").first
    pw.expect(dim).to_be_visible()
    pw.expect(dim).to_have_attribute("title", "đọc không chắc chắn")
    pw.expect(page.locator(".reading-legend")).to_contain_text("đọc không chắc chắn")
    page.screenshot(path=os.environ.get("SOHOA_SHOT", str(tmp_path / "review.png")), full_page=True)

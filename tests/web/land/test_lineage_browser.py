"""In headless Chromium: an officer records a split on the parcel page, follows the lineage
graph to a child, and sees the parent on the map as it was before the split."""

from __future__ import annotations

from tests.web.browser import sign_in
from tests.web.test_browser import browser, page, pw, server  # noqa: F401 - fixtures


def test_an_officer_records_a_split_and_follows_the_lineage(page, server):  # noqa: F811
    sign_in(page, "minh")
    page.wait_for_url("**/land")
    page.goto(f"/land/parcels/{server['parcel']}")
    page.click("#record-change summary")
    page.fill("#record-change textarea[name=into]", "31/12/45A=50\n31/12/45B=49")
    page.fill("#record-change input[name=effective]", "2021-03-01")
    page.fill("#record-change input[name=basis]", "QĐ 9/QĐ-UBND")
    page.click("#record-change button[type=submit]")
    pw.expect(page.locator("#retired")).to_contain_text("2021-03-01")
    pw.expect(page.locator("#timeline li.change")).to_contain_text("QĐ 9/QĐ-UBND")
    graph = page.locator("svg.lineage")
    pw.expect(graph.locator("a.node")).to_have_count(2)
    page.screenshot(path=str(server["tmp"] / "lineage.png"), full_page=True)

    page.fill("#as-of input[name=on]", "2020-01-01")
    page.click("#as-of button[type=submit]")
    pw.expect(page.locator("#map")).to_have_attribute("data-features", "1")  # before the split
    assert page.locator("#retired").count() == 0

    graph.locator("a.node").first.click()
    pw.expect(page.locator("#not-existed")).to_contain_text("2021-03-01")  # a child, then

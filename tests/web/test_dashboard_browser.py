"""The dashboard in real headless Chromium against `sohoa serve`: its charts are drawn."""

from __future__ import annotations

from tests.web.browser import sign_in
from tests.web.test_browser import browser, page, pw, server  # noqa: F401


def test_the_dashboard_draws_its_charts(page, server):  # noqa: F811
    sign_in(page, "lan")
    page.wait_for_url("**/staff")
    page.goto("/staff/dashboard")
    pw.expect(page.locator("body")).to_have_attribute("data-dashboard", "drawn", timeout=20_000)
    assert page.locator("canvas").count() == 7
    page.fill("#dash-filter input[name=since]", "1926-01-01")
    page.click("#dash-filter button")
    pw.expect(page.locator("#dash-status")).to_contain_text("by month")
    page.screenshot(path=str(server["tmp"] / "dashboard.png"), full_page=True)

"""The account pages in real headless Chromium against `sohoa serve`: a person changes their
password through the labelled form, an archivist lifts a lockout from the accounts page, and
axe-core finds no serious or critical violation on either page (also in their error states)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest

from pipeline.usecases.accounts import add_user, lock_account
from tests.helpers import make_services
from tests.web.browser import PASSWORD, chromium, needs_chromium, serving, sign_in
from tests.web.portal.test_portal_browser import violations

pw = pytest.importorskip("playwright.sync_api")
pytestmark = needs_chromium
NEW = "a brand new passphrase"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("accounts")
    svc = make_services(tmp)
    add_user(svc.store, "minh", "officer", PASSWORD)
    add_user(svc.store, "thu", "officer", PASSWORD)
    lock_account(svc.store, "minh", datetime.now(UTC) + timedelta(hours=1), 10, "192.0.2.1")
    svc.close()
    settings = {"SOHOA_AUTO_RUNS": "", "SOHOA_MAP_TILES_URL": ""}
    with serving(tmp / "data", settings, ready=_login_page_answers) as base:
        yield {"base": base}


def _login_page_answers(base: str) -> bool:
    return httpx.get(f"{base}/login", timeout=2).status_code == 200


@pytest.fixture(scope="module")
def browser():
    with chromium() as b:
        yield b


@pytest.fixture
def page(browser, server):
    context = browser.new_context(base_url=server["base"], locale="en-GB")
    yield context.new_page()
    context.close()


def test_a_person_changes_their_password_through_the_labelled_form(page):
    sign_in(page, "thu")
    page.wait_for_url("**/land")
    page.get_by_role("link", name="Đổi mật khẩu").click()
    page.wait_for_url("**/staff/password")
    page.goto("/staff/password?lang=en")
    assert violations(page) == []
    page.get_by_label("Current password").fill(PASSWORD)
    page.get_by_label("New password", exact=True).fill(NEW)
    page.get_by_label("New password again").fill(NEW + "?")
    page.get_by_role("button", name="Change password").click()
    assert page.get_by_role("alert").inner_text() == "The two new passwords differ."
    assert violations(page) == []

    page.get_by_label("Current password").fill(PASSWORD)
    page.get_by_label("New password", exact=True).fill(NEW)
    page.get_by_label("New password again").fill(NEW)
    page.get_by_role("button", name="Change password").click()
    page.wait_for_url("**/staff/password?changed=true")
    assert "Your other sessions have ended" in page.get_by_role("status").inner_text()
    page.goto("/land")  # still signed in, in the session the change started
    assert page.get_by_text("thu (officer)").is_visible()


def test_an_archivist_lifts_a_lockout_on_the_accounts_page(page):
    sign_in(page, "lan")
    page.wait_for_url("**/staff")
    page.get_by_role("link", name="Tài khoản").click()
    page.goto("/staff/accounts?lang=en")
    assert violations(page) == []
    row = page.get_by_role("row", name="minh")
    assert "until" in row.inner_text()
    row.get_by_role("button", name="Unlock minh").click()
    page.wait_for_url("**/staff/accounts?done=unlocked&login=minh")
    assert page.get_by_role("status").inner_text() == "minh: unlocked."
    assert violations(page) == []
    assert (
        page.get_by_role("row", name="minh").get_by_role("button", name="Unlock minh").count() == 0
    )

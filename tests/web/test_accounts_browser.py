"""The account pages in real headless Chromium against `sohoa serve`: a person changes their
password through the labelled form, an archivist lifts a lockout from the accounts page, and
axe-core finds no serious or critical violation on either page (also in their error states)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from pipeline.usecases.accounts import add_user, lock_account
from tests.helpers import REPO, make_services
from tests.web.portal.test_portal_browser import violations
from tests.web.test_browser import CHROMIUM, PASSWORD, _free_port, sign_in

pw = pytest.importorskip("playwright.sync_api")
pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists() and os.environ.get("CI") != "true",
    reason="needs Debian's chromium (apt-get install chromium)",
)
NEW = "a brand new passphrase"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("accounts")
    svc = make_services(tmp)
    add_user(svc.store, "minh", "officer", PASSWORD)
    add_user(svc.store, "thu", "officer", PASSWORD)
    lock_account(svc.store, "minh", datetime.now(UTC) + timedelta(hours=1), 10, "192.0.2.1")
    svc.close()
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "SOHOA_DATA_DIR": str(tmp / "data"),
        "SOHOA_AUTO_RUNS": "",
        "SOHOA_MAP_TILES_URL": "",
        "SOHOA_WEB_ADMIN_LOGIN": "lan",
        "SOHOA_WEB_ADMIN_PASSWORD": PASSWORD,
    }
    command = [sys.executable, "-m", "scanners.cli", "serve", "--host", "127.0.0.1"]
    proc = subprocess.Popen(
        [*command, "--port", str(port)], cwd=REPO, env=env, stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )  # fmt: skip
    try:
        _wait_until_up(base, proc)
        yield {"base": base}
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


def _wait_until_up(base: str, proc: subprocess.Popen) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"server exited: {proc.stderr.read().decode()[-2000:]}")
        try:
            if httpx.get(f"{base}/login", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    proc.kill()
    pytest.fail("the server did not answer in 60 s")


@pytest.fixture(scope="module")
def browser():
    with pw.sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        yield b
        b.close()


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

"""Real Chromium on the SSO stand-in's login page, through the selectors of the contract
(the login page as runbooks/session-refresh.md describes it, `inv auth`), as a person's browser would go: the page, a wrong password,
then the solved captcha, the submit and the landing on the API host. The stand-in's state shows
each step (no login on the wrong password; one login and one API session after)."""

from __future__ import annotations

import pytest

from conftest import chromium_path

pytestmark = pytest.mark.timeout(180)

SELECTORS = ("#dummyUser", "#password", "div.g-recaptcha[data-sitekey]", "textarea#g-recaptcha-response",
             "#submit-button")
ERRORS = ".error, .alert-danger, .login-error"


@pytest.fixture
def page():
    executable = chromium_path()
    if not executable:
        pytest.skip("no Chromium found (scripts/setup installs it with apt)")
    from playwright.sync_api import sync_playwright

    from mtn_runbook.mtn.browser import launch_args

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=executable, headless=True, args=launch_args())
        try:
            yield browser.new_page()
        finally:
            browser.close()


def log_in(page, sandbox, password: str) -> None:
    page.goto(sandbox.login_url)
    for selector in SELECTORS:
        assert page.locator(selector).count() == 1, selector
    assert page.locator("#submit-button").is_disabled()          # until the captcha is solved
    page.fill("#dummyUser", sandbox.options.username)
    page.fill("#password", password)
    page.wait_for_function("document.querySelector('#g-recaptcha-response').value !== ''", timeout=10_000)
    assert page.locator("#submit-button").is_enabled()
    page.click("#submit-button")
    page.wait_for_load_state()


def test_the_login_page_answers_to_the_contracts_selectors(sandbox, page):
    sandbox.options.captcha_delay = 3.0   # long enough to see the button disabled first
    log_in(page, sandbox, "not-the-password")
    assert "login" in page.url and page.locator(ERRORS).first.inner_text() == "Invalid credentials."
    assert sandbox.mtn.logins == 0

    log_in(page, sandbox, sandbox.options.password)
    page.wait_for_url(lambda url: "login" not in url, timeout=10_000)
    assert page.url.startswith(sandbox.urls["mtn_api"])
    names = {(c["name"], c["domain"]) for c in page.context.cookies()}
    assert {("JSESSIONID", "127.0.0.1"), ("CASTGC", "127.0.0.1"), ("JSESSIONID", "localhost")} <= names
    snap = sandbox.mtn.snapshot()
    assert snap["logins"] == 1 and snap["apiSessions"] == 1 and snap["sessions"][0]["live"]

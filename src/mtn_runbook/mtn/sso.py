"""The human-in-the-loop MTN login: the tool fills in what it may, the person solves the reCAPTCHA.

Never solves a real captcha (that breaks MTN's terms): it pre-fills #dummyUser/#password,
waits until #g-recaptcha-response holds a token (or the person submitted), clicks
#submit-button if still on the login page, waits until the URL no longer contains "login",
and captures every cookie. Only the sandbox's stand-in captcha solves itself.
"""

from __future__ import annotations

import contextlib
import os
import re
import sys
import time
from urllib.parse import urlsplit

from ..core.config import Settings, require
from ..core.console import Console
from ..core.errors import ConfigError, LoginTimeout, ServiceError
from ..core.session import Session
from .browser import HOW_TO, find_chromium, launch_args
from .link import Link

POLL_SECONDS = 0.25
# One look at the page: MTN's error text (visible only), the captcha token, the button state.
PAGE_STATE_JS = """() => {
  let error = "";
  for (const el of document.querySelectorAll(".error, .alert-danger, .login-error")) {
    const text = (el.innerText || "").trim();
    if (text && el.getClientRects().length) { error = text; break; }
  }
  const token = document.querySelector("#g-recaptcha-response");
  const button = document.querySelector("#submit-button");
  return {error, solved: !!(token && token.value), canSubmit: !!(button && !button.disabled)};
}"""
CREDENTIAL_WORDS = re.compile(r"credential|password|username|user name", re.I)


def on_login_page(url: str) -> bool:
    return "login" in url


def login(settings: Settings, *, console: Console, headless: bool = False, timeout: float = 300.0,
          link: Link | None = None) -> Session:
    """Open Chromium at the SSO page, let the person finish the login, return the captured session.
    With `link`, the browser is headless and the person drives it through the link's page."""
    require(settings, "MTN_USERNAME", "MTN_PASSWORD")
    if timeout <= 0:
        raise ConfigError("--timeout must be a positive number of seconds")
    headless = headless or link is not None
    executable = find_chromium(settings, headless=headless)
    if not headless and sys.platform.startswith("linux") and not (
            os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        raise ConfigError("no display for the browser window (DISPLAY is not set)",
                          "run `inv auth` on a machine with a desktop (or ssh -X); only the sandbox works --headless")

    from playwright.sync_api import Error as PlaywrightError
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        try:
            browser = p.chromium.launch(executable_path=executable, headless=headless, args=launch_args())
        except PlaywrightError as e:
            raise ConfigError(f"Chromium did not start: {_first_line(e)}", HOW_TO) from None
        try:
            context = browser.new_context(**(link.context_options if link else {}))
            page = context.new_page()
            if link:
                link.confine(page)
            _open_and_fill(page, settings, timeout, PlaywrightError)
            with link.serve(page, timeout) if link else contextlib.nullcontext():
                _wait_for_login(page, console, timeout, PlaywrightError)
            cookies = [dict(c) for c in context.cookies()]
        finally:
            try:
                browser.close()
            except PlaywrightError:
                pass  # the person closed it already
    sso_host = (urlsplit(settings.mtn_sso_login_url).hostname or "").lower()
    session_id = next((c["value"] for c in cookies if c.get("name") == "JSESSIONID"
                       and _domain_matches(sso_host, c.get("domain", ""))), None)
    if not session_id:
        raise ServiceError(f"the login finished but {sso_host} set no JSESSIONID cookie",
                           "run `inv auth` again; if it repeats, check MTN_SSO_LOGIN_URL")
    return Session.from_cookies(cookies, session_id)


def _open_and_fill(page, settings: Settings, timeout: float, PlaywrightError: type) -> None:
    host = urlsplit(settings.mtn_sso_login_url).hostname
    try:
        page.goto(settings.mtn_sso_login_url, wait_until="domcontentloaded", timeout=min(timeout, 60) * 1000)
    except PlaywrightError as e:
        raise ServiceError(f"the MTN SSO login page at {host} did not load ({_first_line(e)})",
                           "check the network and MTN_SSO_LOGIN_URL, then run `inv auth` again") from None
    try:
        page.wait_for_selector("#dummyUser", timeout=15_000)
        page.fill("#dummyUser", settings.mtn_username)
        page.fill("#password", settings.mtn_password)
    except PlaywrightError:
        raise ServiceError(f"the login page at {host} has no #dummyUser/#password fields",
                           "MTN may have changed the page: log in by hand and report it") from None


def _wait_for_login(page, console: Console, timeout: float, PlaywrightError: type) -> None:
    """Poll the page until it leaves the login URL; MTN's error text or the deadline end the wait."""
    deadline = time.monotonic() + timeout
    clicked = False
    label = "waiting for you to solve the reCAPTCHA in the browser window and submit"
    with console.waiting(f"{label} ({timeout:.0f}s)") as update:
        while True:
            if page.is_closed():
                raise LoginTimeout("the browser window was closed before the login finished",
                                   "run `inv auth` again and leave the window open until it closes itself")
            if not on_login_page(page.url):
                return
            try:
                state = page.evaluate(PAGE_STATE_JS)
            except PlaywrightError:
                state = None  # the page is navigating: look again
            if state and state["error"]:
                raise _refused(" ".join(state["error"].split())[:200])
            if state and state["solved"] and state["canSubmit"] and not clicked:
                try:
                    page.click("#submit-button", timeout=5_000)
                    clicked = True
                except PlaywrightError:
                    pass  # the person clicked first, or the page moved on
            left = deadline - time.monotonic()
            if left <= 0:
                raise LoginTimeout(f"the login did not finish within {timeout:.0f}s")
            update(f"{'submitted; waiting for MTN' if clicked else label} — {left:.0f}s left")
            try:
                page.wait_for_timeout(POLL_SECONDS * 1000)
            except PlaywrightError:
                pass


def _refused(text: str) -> Exception:
    # Wrong credentials are configuration (exit 2): retrying cannot help until they are fixed.
    if CREDENTIAL_WORDS.search(text):
        return ConfigError(f"MTN SSO refused the login: {text}", "check MTN_USERNAME and MTN_PASSWORD (environment or .env)")
    return ServiceError(f"MTN SSO showed an error: {text}",
                        "run `inv auth` again; if it repeats, log in by hand in a browser to see why")


def _domain_matches(host: str, domain: str) -> bool:
    domain = domain.lower()
    return host == domain.lstrip(".") or (domain.startswith(".") and host.endswith(domain))


def _first_line(error: Exception) -> str:
    text = str(error).strip().splitlines()
    return text[0][:200] if text else type(error).__name__

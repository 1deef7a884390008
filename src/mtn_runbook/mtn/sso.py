"""The human-in-the-loop MTN login: the tool fills in what it may, the person solves the reCAPTCHA.

Never solves a real captcha (that breaks MTN's terms): it pre-fills #dummyUser/#password,
waits until #g-recaptcha-response holds a token (or the person submitted), clicks
#submit-button if still on the login page, and waits until the browser lands on the MTN API
host with that host's JSESSIONID (a network error page is not a login). Only the sandbox's
stand-in captcha solves itself.

Entry points:
    login(settings, console=, headless=, timeout=, browser=, link=)
                                     start (or take) a Browser, log in, close it; returns the Session
    complete_login(page, settings, timeout=, console=, link=, waiting=)
                                     the flow on a page you opened (a fresh context): open, fill,
                                     wait (behind `link` when given), capture; returns the Session
    login_timeout(value)                                       a --timeout flag, checked
Every browser call is bounded: opening and filling the page by SETUP_SECONDS, the wait for the
person by `timeout` from when it starts; nothing is evaluated in the page (sso_page.py). The caller validates the session before saving it (adopt.py).
"""

from __future__ import annotations

import contextlib
import math
import re
import time
from urllib.parse import urlsplit

from ..core.config import Settings, require
from ..core.console import Console
from ..core.errors import ConfigError, Interrupted, LoginTimeout, RunbookError, ServiceError
from ..core.session import Session
from .browser import Browser, start
from .link import Link

POLL_SECONDS = 0.25
SETUP_SECONDS = 60.0      # start the browser, load the SSO page, fill it in
MAX_TIMEOUT = 24 * 3600  # Playwright's timers overflow near 24.8 days; a login never needs a day
CREDENTIAL_WORDS = re.compile(r"credential|password|username|user name", re.I)
WAITING = "waiting for you to solve the reCAPTCHA in the browser window and submit"
WAITING_LINK = "waiting for you to solve the reCAPTCHA through the login link"
WAITING_HEADLESS = "waiting for the login to finish in the headless browser (no window: only the sandbox's captcha solves itself)"


def login_timeout(value: object, flag: str = "--timeout") -> float:
    """A login timeout in seconds: finite, above 0, at most a day. Else ConfigError (exit 2)."""
    try:
        seconds = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise ConfigError(f"{flag} {value!r} is not a number of seconds", "e.g. --timeout 300") from None
    if not math.isfinite(seconds) or not 0 < seconds <= MAX_TIMEOUT:
        raise ConfigError(f"{flag} must be a positive number of seconds, at most {MAX_TIMEOUT} (a day), not {value}",
                          "e.g. --timeout 300")
    return seconds


class Deadline:
    """A deadline for one phase of the login; every browser call in it gets at most what is left."""

    def __init__(self, seconds: float, late: str = "the login did not finish within {seconds:.0f}s"):
        self.seconds = seconds
        self.at = time.monotonic() + seconds
        self.late = late

    def left(self) -> float:
        return self.at - time.monotonic()

    def ms(self, cap: float | None = None) -> float:
        """Milliseconds left (at least 1: Playwright reads 0 as "no timeout"), at most `cap` ms."""
        left = max(1.0, self.left() * 1000)
        return min(left, cap) if cap is not None else left

    @property
    def passed(self) -> bool:
        return self.left() <= 0

    def error(self) -> LoginTimeout:
        return LoginTimeout(self.late.format(seconds=self.seconds))


def login(settings: Settings, *, console: Console, headless: bool = False, timeout: float = 300.0,
          browser: Browser | None = None, link: Link | None = None) -> Session:
    """Open Chromium at the SSO page, let the person finish the login, return the captured session.
    `browser`: one already started, which stays the caller's: only the login's window (its
    context) is closed here, so the caller can close Chromium once production is back. A browser
    started here is closed here. With `link`, the browser is headless and the person drives it
    through the link's page. Not saved: see adopt.py."""
    require(settings, "MTN_USERNAME", "MTN_PASSWORD")
    timeout = login_timeout(timeout)
    headless = headless or link is not None
    own = None  # a browser this call started, and so closes
    page = None
    try:
        if browser is None or browser.closed or browser.headless != headless:
            browser = own = start(settings, headless=headless, timeout=SETUP_SECONDS)
        page = browser.open_page(link.context_options if link else None)
        if link:
            link.confine(page)
        return complete_login(page, settings, timeout=timeout, console=console, link=link,
                              waiting=WAITING_LINK if link else WAITING_HEADLESS if headless else WAITING)
    except KeyboardInterrupt:
        raise Interrupted("interrupted during the login; nothing was saved",
                          "run the command again when you are ready to log in") from None
    finally:
        if own is not None:
            own.close()
        elif page is not None:
            _close_window(page)


def _close_window(page) -> None:
    """Close the login's context (its window goes away); Chromium itself stays for its owner."""
    from playwright.sync_api import Error as PlaywrightError

    try:
        page.context.close()
    except PlaywrightError:
        pass  # the person closed the window, or the browser is gone


def complete_login(page, settings: Settings, *, timeout: float, console: Console,
                   link: Link | None = None, waiting: str = WAITING) -> Session:
    """The login on `page` (a fresh browser context): open the SSO page, fill it in, wait for the
    person, click submit once the captcha is solved, and capture the session once the browser
    lands on the MTN API host with its JSESSIONID. Opening and filling get SETUP_SECONDS, the wait
    `timeout` seconds from when it starts. Raises LoginTimeout at a deadline, and a
    ServiceError/ConfigError (one line) for whatever waiting cannot fix."""
    from .sso_page import PageWatch

    watch = PageWatch.attach(page.context, page)
    if link:
        watch.refused = link.refused
    sso_host, api_host = _host(settings.mtn_sso_login_url), _host(settings.mtn_api_base_url)
    setup = Deadline(SETUP_SECONDS, "the SSO login page did not open and fill in within {seconds:.0f}s")
    _open_and_fill(page, settings, watch, setup, api_host)
    with link.serve(page, timeout) if link else contextlib.nullcontext():
        _wait_for_login(page, watch, console, Deadline(timeout), api_host, waiting)
    cookies = [dict(c) for c in page.context.cookies()]
    session_id = next((c["value"] for c in cookies if c.get("name") == "JSESSIONID"
                       and _domain_matches(sso_host, c.get("domain", ""))), None)
    if not session_id:
        raise ServiceError(f"the login finished but {sso_host} set no JSESSIONID cookie",
                           "run `inv auth` again; if it repeats, check MTN_SSO_LOGIN_URL")
    return Session.from_cookies(cookies, session_id)


def _open_and_fill(page, settings: Settings, watch, deadline: Deadline, api_host: str) -> None:
    from playwright.sync_api import Error as PlaywrightError

    host = _host(settings.mtn_sso_login_url)
    try:
        page.goto(settings.mtn_sso_login_url, wait_until="domcontentloaded", timeout=deadline.ms())
    except PlaywrightError as e:
        raise _why(watch, deadline, api_host) or ServiceError(
            f"the MTN SSO login page at {host} did not load ({_first_line(e)})",
            "check the network and MTN_SSO_LOGIN_URL, then run `inv auth` again") from None
    try:
        problem = watch.problem(api_host)
        if problem:
            raise problem
        page.wait_for_selector("#dummyUser", timeout=deadline.ms(cap=15_000))
        page.fill("#dummyUser", settings.mtn_username, timeout=deadline.ms())
        page.fill("#password", settings.mtn_password, timeout=deadline.ms())
    except PlaywrightError:
        raise _why(watch, deadline, api_host) or ServiceError(
            f"the login page at {host} has no #dummyUser/#password fields",
            "MTN may have changed the page: log in by hand and report it") from None


def _wait_for_login(page, watch, console: Console, deadline: Deadline, api_host: str,
                    waiting: str = WAITING) -> None:
    """Poll until the browser lands on the API host with its session cookie; a failure that
    waiting cannot fix, MTN's error text, or the deadline end the wait."""
    from playwright.sync_api import Error as PlaywrightError

    clicked = False
    with console.waiting(f"{waiting} ({deadline.seconds:.0f}s)") as update:
        while True:
            if page.is_closed():
                raise LoginTimeout("the browser window was closed before the login finished",
                                   "run `inv auth` again and leave the window open until it closes itself")
            problem = watch.problem(api_host)
            if problem:
                raise problem
            if _landed(page, api_host):
                return
            state = watch.current_state()
            if state.get("error"):
                raise _refused(" ".join(str(state["error"]).split())[:200])
            if state.get("solved") and state.get("canSubmit") and not clicked:
                try:
                    page.click("#submit-button", timeout=deadline.ms(cap=5_000))
                    clicked = True
                except PlaywrightError:
                    pass  # the person clicked first, or the page moved on
            if deadline.passed:
                raise deadline.error()
            update(f"{'submitted; waiting for MTN' if clicked else waiting} — {deadline.left():.0f}s left")
            try:
                page.wait_for_timeout(deadline.ms(cap=POLL_SECONDS * 1000))
            except PlaywrightError:
                pass  # the page closed: the next turn says so


def _landed(page, api_host: str) -> bool:
    """On the API host, holding that host's JSESSIONID: the ticket was redeemed. (Not "the URL
    has no `login` in it": Chromium's chrome-error://chromewebdata/ passed that.)"""
    if _host(page.url) != api_host:
        return False
    return any(c.get("name") == "JSESSIONID" and _domain_matches(api_host, c.get("domain", ""))
               for c in page.context.cookies(page.url))


def _why(watch, deadline: Deadline, api_host: str) -> RunbookError | None:
    """Why a browser wait failed, when it is known: the page's problem, MTN's error, or the deadline."""
    problem = watch.problem(api_host)
    if problem:
        return problem
    error = watch.current_state().get("error")
    if error:
        return _refused(" ".join(str(error).split())[:200])
    return deadline.error() if deadline.passed else None


def _refused(text: str) -> RunbookError:
    # Wrong credentials are configuration (exit 2): retrying cannot help until they are fixed.
    if CREDENTIAL_WORDS.search(text):
        return ConfigError(f"MTN SSO refused the login: {text}", "check MTN_USERNAME and MTN_PASSWORD (environment or .env)")
    return ServiceError(f"MTN SSO showed an error: {text}",
                        "run `inv auth` again; if it repeats, log in by hand in a browser to see why")


def _host(url: str) -> str:
    return (urlsplit(url).hostname or "").lower()


def _domain_matches(host: str, domain: str) -> bool:
    domain = domain.lower()
    return host == domain.lstrip(".") or (domain.startswith(".") and host.endswith(domain))


def _first_line(error: Exception) -> str:
    text = str(error).strip().splitlines()
    return text[0][:200] if text else type(error).__name__

"""Start Playwright and Chromium while the run's network work before the login goes on.

The browser's start (Playwright's driver, then Chromium) was about 40 % of a recover's machine
time. When a login is likely, worker threads do what comes before the login anyway (reading what
the targets hold, the login's preflight checks) while the first validation runs, and this thread
starts the browser meanwhile (Playwright's sync API belongs to the thread that starts it) and,
headless (--link, the sandbox), opens the login's page. The start is called off the moment the
validation says the session is live or extendable: it waits a moment (GRACE) for an answer
first, asks again once the driver is up (no Chromium then) and once Chromium is up (closed and
reaped at once, before the push). The login borrows the started browser (`lend`) and closes only
its window; Chromium itself is closed when the run ends, after production is verified, so its
shutdown is not part of the time to recover.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Callable, TypeVar

from ..core.session import Session
from ..core.errors import RunbookError
from ..core.times import now, parse_time
from .engine import Run

if TYPE_CHECKING:
    from ..mtn.browser import Browser

T = TypeVar("T")
RECENTLY_VALID = 30 * 60  # seconds: a session the API accepted this recently will likely not need a login
GRACE = 1.0   # seconds the browser's start waits for the first validation's answer (loaded machines included)
ASK_BY = 1.0  # seconds at most it waits for that question to go out (the validation's imports)


def login_likely(run: Run, session: Session | None) -> bool:
    """recover runs because something is wrong: a login is likely unless this very session was
    seen valid in the last half hour (the journal's last validation of its fingerprint)."""
    if session is None:
        return True
    last = run.journal.last("validation", fingerprint=session.fingerprint) if run.journal else None
    if not last or not str(last.get("verdict", "")).startswith("valid"):
        return True
    try:
        age = (now() - parse_time(last.get("ts"), "ts")).total_seconds()
    except RunbookError:
        return True
    return not 0 <= age <= RECENTLY_VALID


def overlapped(run: Run, work: Callable[[], T], answer: "Verdict | None" = None) -> T:
    """`work()` on a worker thread while this thread starts the browser into the run and, headless,
    opens the login's page; returns what `work` returns. With `answer`, the start is called off
    (or what started is closed) as soon as it says no login is needed. A browser that cannot
    start is left to the login to report, if one is needed. What is started is closed when the run
    ends at the latest."""
    if run.check or run.facts.browser is not None:
        return work()
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="before-login") as pool:
        future = pool.submit(work)
        try:
            wanted: Callable[[], bool] = (lambda: True) if answer is None else answer.maybe_needed
            if answer is None or answer.maybe_needed(wait=GRACE):
                _start(run, wanted)
            if not wanted():
                close(run)  # started before the answer came: reaped now, long before the push
            return future.result()
        except BaseException:
            close(run)
            raise


def _start(run: Run, wanted: Callable[[], bool]) -> None:
    from ..mtn.browser import start

    link = bool(run.facts.link)
    try:
        browser = start(run.settings, headless=bool(run.facts.headless or link), wanted=wanted)
        if browser is None:
            return   # the driver came up after the answer: stopped, Chromium never launched
        run.facts.browser = browser
        run.closers.append(lambda: close(run))
        if browser.headless and wanted():  # a headed page is a window: none opens before the login needs it
            _open_ahead(browser, link)
    except RunbookError:
        pass  # no Chromium, no display: the login step starts it again and says why


class Verdict:
    """The first validation's answer, for `overlapped`: set once, read by the thread that starts
    the browser."""

    def __init__(self) -> None:
        import threading

        self._known = threading.Event()
        self._asked = threading.Event()
        self._login = False

    def asked(self) -> None:
        """The question is on the wire (its imports done): `wait` counts from here."""
        self._asked.set()

    def set(self, login: bool) -> None:
        self._login = login
        self._asked.set()
        self._known.set()

    def maybe_needed(self, wait: float = 0.0) -> bool:
        """False once the answer says no login is needed; True while it is unknown `wait` s after
        the question was asked (a cold start's imports do not count against an API's answer)."""
        if wait:
            self._asked.wait(ASK_BY)
        return not self._known.wait(wait) or self._login


def alongside(first: Callable[[], T], *others: Callable[[], object]) -> T:
    """Run `first` and `others` at once (threads); return what `first` returns. `others` note
    their results in the run's facts and raise nothing."""
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=len(others), thread_name_prefix="alongside") as pool:
        started = [pool.submit(other) for other in others]
        result = first()
        for future in started:
            future.result()
    return result


def _open_ahead(browser: Browser, link: bool) -> None:
    from playwright.sync_api import Error as PlaywrightError

    from ..mtn.link import Link

    try:
        browser.open_ahead(Link.context_options if link else None)
    except PlaywrightError:
        pass  # the login opens its page itself, and reports what goes wrong then


def lend(run: Run) -> Browser | None:
    """The started browser for the login, or None. It stays the run's: the login closes only its
    window, and the browser is closed when the run ends, after production is verified."""
    browser = run.facts.browser
    if browser is not None:
        run.facts.browser_lent = True
    return browser


def close_unused(run: Run) -> None:
    """Close a browser started early that no login took (the session was still valid)."""
    if not run.facts.browser_lent:
        close(run)


def close(run: Run) -> None:
    browser, run.facts.browser = run.facts.browser, None
    if browser is not None:
        browser.close()

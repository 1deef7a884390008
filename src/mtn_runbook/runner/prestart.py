"""Start Playwright and Chromium while the run's network work before the login goes on.

The browser's start (Playwright's driver, then Chromium) was about 40 % of a recover's machine
time, and it began only after the first validation. When a login is likely, the run now starts
the browser on its own thread (Playwright's sync API belongs to the thread that starts it) while
a worker thread does what comes before the login anyway: reading what the targets hold,
validating the session, the preflight checks. The login takes the started browser (`take`); a
step that ends the need for one closes it (`close`). No window opens until the login's page does.
"""

from __future__ import annotations

from typing import Any, Callable, TypeVar

from ..core import session as sessions
from ..core.errors import RunbookError
from .engine import Run

T = TypeVar("T")
RECENTLY_VALID = 30 * 60  # seconds: a session the API accepted this recently will likely not need a login


def login_likely(run: Run, session: sessions.Session | None) -> bool:
    """recover runs because something is wrong: a login is likely unless this very session was
    seen valid in the last half hour (the journal's last validation of its fingerprint)."""
    if session is None:
        return True
    last = run.journal.last("validation", fingerprint=session.fingerprint)
    if not last or not str(last.get("verdict", "")).startswith("valid"):
        return True
    try:
        age = (sessions.now() - sessions.parse_time(last.get("ts"), "ts")).total_seconds()
    except RunbookError:
        return True
    return not 0 <= age <= RECENTLY_VALID


def overlapped(run: Run, work: Callable[[], T]) -> T:
    """`work()` on a worker thread while this thread starts the browser into the run; returns what
    `work` returns. A browser that cannot start is left to the login to report, if one is needed."""
    if run.check or not run.facts.get("prestart", True) or run.facts.get("browser") is not None:
        return work()
    from concurrent.futures import ThreadPoolExecutor

    from ..mtn.browser import start

    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="before-login") as pool:
        future = pool.submit(work)
        try:
            run.facts["browser"] = start(run.settings, headless=bool(run.facts.get("headless") or run.facts.get("link")))
        except RunbookError:
            pass  # no Chromium, no display: the login step starts it again and says why
        try:
            return future.result()
        except BaseException:
            close(run)
            raise


def take(run: Run) -> Any:
    """The started browser, now the caller's to close (sso.login closes it), or None."""
    return run.facts.pop("browser", None)


def close(run: Run) -> None:
    browser = take(run)
    if browser is not None:
        browser.close()

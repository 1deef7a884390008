"""recover starts Playwright and Chromium the moment the first validation says a login is needed,
while the preflight's reads still run, when a login is likely; and never for a live session. In-process, against the sandbox,
with real Chromium: the MTN API stand-in is slowed (a far-away API) so the overlap is visible in
the recorded spans, not in a timing threshold."""

from __future__ import annotations

import os
import time

import pytest

from mtn_runbook.core import session as sessions
from mtn_runbook.core.config import Settings
from mtn_runbook.core.console import Console
from mtn_runbook.core.journal import Journal
from mtn_runbook.mtn import browser as browser_module
from mtn_runbook.runner.engine import Run, execute
from mtn_runbook.runner.state import Facts
from mtn_runbook.runner.recovery import RECOVER


@pytest.fixture
def run_recover(sandbox, tmp_path, monkeypatch):
    from conftest import chromium_path

    starts: list[tuple[float, float]] = []
    calls: list[float] = []
    real = browser_module.start

    def recorded(*args, **kwargs):
        import time

        began = time.time()
        calls.append(began)
        browser = real(*args, **kwargs)
        if browser is not None:   # Chromium launched (None: the driver was stopped before it)
            starts.append((began, time.time()))
        return browser

    monkeypatch.setattr(browser_module, "start", recorded)
    env = dict(sandbox.env(), MTN_SESSION_FILE=str(tmp_path / "mtn-session.json"),
               PLAYWRIGHT_CHROMIUM_EXECUTABLE_PATH=chromium_path())
    settings = Settings.load({}, environ=env, use_dotenv=False)

    def go(session, **facts):
        sessions.save(settings.session_file, session)
        run = Run("recover", settings, Console(stderr=True))
        run.facts = Facts(headless=True, timeout=60.0, **facts)
        return execute(run, RECOVER), starts

    go.calls = calls
    return go, settings


def calls_of(run_recover) -> list[float]:
    """When the browser's start was asked for (whether or not Chromium came of it)."""
    return run_recover[0].calls


def test_the_browser_starts_while_a_dead_session_is_validated(sandbox, run_recover):
    go, _ = run_recover
    dead = sessions.Session.from_dict(sandbox.mtn.mint_session(), "minted")
    sandbox.mtn.expire(dead.session_id)
    sandbox.faults.add(service="mtn_api", method="GET", path="/api/v1/.*", delay=3.0)  # the first validation
    run, starts = go(dead)
    assert run.succeeded, run.error
    first_check = next(r for r in sandbox.history.requests("mtn_api") if r["path"].startswith("/api/v1/"))
    [(began, _)] = starts  # one browser: started early, then used by the login
    assert began < first_check["t"] + first_check["seconds"]  # started before the API answered
    assert [r.name for r in run.records if r.outcome == "changed"][:1] == ["renew"]


def live_session(sandbox):
    from mtn_runbook.core.pushed import for_push

    minted = sessions.Session.from_dict(sandbox.mtn.mint_session(), "minted").extended(24)
    return for_push(minted, sandbox.urls["mtn_api"], 48, renew=True).session


def test_a_live_session_starts_no_browser_when_the_api_answers_within_the_grace(sandbox, run_recover, monkeypatch):
    """Never seen valid on this machine (so a login looks likely), but the API accepts it before
    the browser's start begins: neither the driver nor Chromium start (they used to start during
    the validation and be closed unused at the renew step: about 1 s and 0.9 GiB)."""
    from mtn_runbook.runner import prestart

    monkeypatch.setattr(prestart, "GRACE", 10.0)   # a loaded machine must not make the API look far
    go, _ = run_recover
    run, starts = go(live_session(sandbox))
    assert run.succeeded, run.error
    assert calls_of(run_recover) == [] and starts == []      # old: one start, during the validation
    assert "checks passed before the login" in run.facts.preflight  # the preflight still ran alongside
    assert [r.name for r in run.records if r.outcome == "changed"] == ["push", "deploy"]


def test_a_live_session_slow_to_validate_has_its_browser_called_off_before_the_push(
        sandbox, run_recover, monkeypatch):
    """The API answers after the browser's start began: the start is called off at the next
    checkpoint (driver up: no Chromium; Chromium up: closed) during the validate step."""
    closes = []
    real_close = browser_module.Browser.close

    def close(self):
        closes.append(time.time())
        real_close(self)

    monkeypatch.setattr(browser_module.Browser, "close", close)
    from mtn_runbook.runner import prestart

    go, _ = run_recover
    # the first validation answers after the grace the browser's start gives it
    sandbox.faults.add(service="mtn_api", method="GET", path="/api/v1/.*", delay=prestart.GRACE + 1.5)
    run, starts = go(live_session(sandbox))
    assert run.succeeded, run.error
    assert calls_of(run_recover)                               # the start began during the validation
    validated = next(r for r in sandbox.history.requests("mtn_api") if r["path"].startswith("/api/v1/"))
    renew_began = min(r["t"] for r in sandbox.history.requests("mtn_api") if r["path"].startswith("/api/v1/")
                      and r["t"] > validated["t"])           # validate-new's: after the validate step
    assert len(closes) == len(starts) and all(c < renew_began for c in closes)  # reaped in the validate step
    assert run.facts.browser is None


def test_no_browser_for_a_session_just_seen_valid(sandbox, run_recover):
    go, settings = run_recover
    live = sessions.Session.from_dict(sandbox.mtn.mint_session(), "minted")
    Journal(settings.journal_file).write("validation", verdict="valid", fingerprint=live.fingerprint)
    run, starts = go(live)
    assert starts == []
    renew = next(r for r in run.records if r.name == "renew")
    assert renew.outcome in ("skipped", "changed") and "logged in" not in renew.detail  # no login: extended at most


def _first(requests, prefix):
    return next(r for r in requests if r["path"].startswith(prefix))


def test_the_preflight_runs_alongside_the_first_validation(sandbox, run_recover):
    """The login's read-only checks (tokens, project, production URL) go out while the dead
    session is still being validated, not after: the person waits for the slower of the two."""
    go, _ = run_recover
    dead = sessions.Session.from_dict(sandbox.mtn.mint_session(), "minted")
    sandbox.mtn.expire(dead.session_id)
    sandbox.faults.add(service="mtn_api", method="GET", path="/api/v1/.*", delay=2.0)
    run, _ = go(dead)
    assert run.succeeded, run.error
    check = _first(sandbox.history.requests("mtn_api"), "/api/v1/")
    answered = check["t"] + check["seconds"]
    for service, path in (("vercel", "/v2/user"), ("app", "/api/mtn-wholesale/auth")):
        assert _first(sandbox.history.requests(service), path)["t"] < answered, (service, path)
    assert "checks passed before the login" in run.facts.preflight


def test_the_preflight_checks_run_at_once(sandbox, tmp_path):
    """Each check is a round trip; one after another they added up before the browser opened."""
    from mtn_runbook.runner.preflight import require_ready

    settings = Settings.load({}, environ=dict(sandbox.env(), MTN_SESSION_FILE=str(tmp_path / "s.json")),
                             use_dotenv=False)
    sandbox.faults.add(service="vercel", method="GET", path="/v2/user", delay=1.0)
    sandbox.faults.add(service="app", method="GET", path="/api/mtn-wholesale/auth", delay=1.0)
    require_ready(settings)
    user = _first(sandbox.history.requests("vercel"), "/v2/user")
    app = _first(sandbox.history.requests("app"), "/api/mtn-wholesale/auth")
    assert app["t"] < user["t"] + user["seconds"] and user["t"] < app["t"] + app["seconds"]  # overlapping


def test_chromium_is_closed_after_production_is_verified(sandbox, run_recover, monkeypatch):
    """The login's window closes as soon as the session is captured; Chromium itself (its
    shutdown took a tenth of a second or more) is closed after verify, before the run returns."""
    from mtn_runbook.mtn import sso

    closes, windows = [], []
    real_close, real_window = browser_module.Browser.close, sso._close_window

    def close(self):
        closes.append((time.time(), self.closed))
        real_close(self)

    def window(page):
        windows.append(time.time())
        real_window(page)

    monkeypatch.setattr(browser_module.Browser, "close", close)
    monkeypatch.setattr(sso, "_close_window", window)
    go, _ = run_recover
    dead = sessions.Session.from_dict(sandbox.mtn.mint_session(), "minted")
    sandbox.mtn.expire(dead.session_id)
    run, _ = go(dead)
    assert run.succeeded, run.error
    verify = [r for r in sandbox.history.requests("app") if r["path"].startswith("/api/mtn-wholesale/")][-1]
    assert len(windows) == 1 and windows[0] < min(e["t"] for e in sandbox.history.events("vercel", "env.change"))
    assert [c for c in closes if not c[1]] and min(t for t, done in closes if not done) > verify["t"]
    assert run.facts.browser is None  # nothing left open


@pytest.mark.e2e
def test_a_page_opened_ahead_is_the_one_the_login_gets(tmp_path):
    from conftest import chromium_path

    settings = Settings.load({}, environ={"PLAYWRIGHT_CHROMIUM_EXECUTABLE_PATH": chromium_path(),
                                          "MTN_SESSION_FILE": str(tmp_path / "s.json")}, use_dotenv=False)
    browser = browser_module.start(settings, headless=True)
    try:
        browser.open_ahead({"viewport": {"width": 400, "height": 700}})
        ahead = browser.ahead[1]
        assert browser.open_page({"viewport": {"width": 400, "height": 700}}) is ahead
        browser.open_ahead(None)
        other = browser.ahead[1]
        page = browser.open_page({"viewport": {"width": 400, "height": 700}})  # other options: a new page
        assert page is not other and other.is_closed() and page.viewport_size == {"width": 400, "height": 700}
    finally:
        browser.close()


@pytest.mark.e2e
def test_the_driver_keeps_its_compiled_code_between_runs(tmp_path, monkeypatch):
    """NODE_COMPILE_CACHE (Node 22.1+) under the user's cache: the driver's second start skips
    compiling Playwright's bundle. The folder fills on a real start; a value already set stays."""
    from conftest import chromium_path

    monkeypatch.delenv("NODE_COMPILE_CACHE", raising=False)
    monkeypatch.delenv("NODE_DISABLE_COMPILE_CACHE", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    settings = Settings.load({}, environ={"PLAYWRIGHT_CHROMIUM_EXECUTABLE_PATH": chromium_path(),
                                          "MTN_SESSION_FILE": str(tmp_path / "s.json")}, use_dotenv=False)
    browser_module.start(settings, headless=True).close()
    folder = tmp_path / "cache" / "mtn-runbook" / "node-compile-cache"
    assert os.environ["NODE_COMPILE_CACHE"] == str(folder)
    assert any(p.is_file() for p in folder.rglob("*"))  # the driver wrote its cache there
    monkeypatch.setenv("NODE_COMPILE_CACHE", str(tmp_path / "mine"))
    browser_module._node_compile_cache()
    assert os.environ["NODE_COMPILE_CACHE"] == str(tmp_path / "mine")

"""recover starts Playwright and Chromium while the first validation is still running, when a
login is likely; and not when the session was just seen valid. In-process, against the sandbox,
with real Chromium: the MTN API stand-in is slowed (a far-away API) so the overlap is visible in
the recorded spans, not in a timing threshold."""

from __future__ import annotations

import pytest

from mtn_runbook.core import session as sessions
from mtn_runbook.core.config import Settings
from mtn_runbook.core.console import Console
from mtn_runbook.core.journal import Journal
from mtn_runbook.mtn import browser as browser_module
from mtn_runbook.runner.engine import Run, execute
from mtn_runbook.runner.recovery import RECOVER


@pytest.fixture
def run_recover(sandbox, tmp_path, monkeypatch):
    from conftest import chromium_path

    starts: list[tuple[float, float]] = []
    real = browser_module.start

    def recorded(*args, **kwargs):
        import time

        began = time.time()
        try:
            return real(*args, **kwargs)
        finally:
            starts.append((began, time.time()))

    monkeypatch.setattr(browser_module, "start", recorded)
    env = dict(sandbox.env(), MTN_SESSION_FILE=str(tmp_path / "mtn-session.json"),
               PLAYWRIGHT_CHROMIUM_EXECUTABLE_PATH=chromium_path())
    settings = Settings.load({}, environ=env, use_dotenv=False)

    def go(session, **facts):
        sessions.save(settings.session_file, session)
        run = Run("recover", settings, Console(stderr=True))
        run.facts.update(headless=True, timeout=60.0, **facts)
        return execute(run, RECOVER), starts

    return go, settings


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


def test_no_browser_for_a_session_just_seen_valid(sandbox, run_recover):
    go, settings = run_recover
    live = sessions.Session.from_dict(sandbox.mtn.mint_session(), "minted")
    Journal(settings.journal_file).write("validation", verdict="valid", fingerprint=live.fingerprint)
    run, starts = go(live)
    assert starts == []
    renew = next(r for r in run.records if r.name == "renew")
    assert renew.outcome in ("skipped", "changed") and "logged in" not in renew.detail  # no login: extended at most

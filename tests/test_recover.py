"""End to end: `inv recover` and `inv refresh` against the sandbox, with real Chromium."""

from __future__ import annotations

import threading
import time

import httpx
import pytest

from conftest import secrets_known
from mtn_runbook.core import session as sessions
from mtn_runbook.core.pushed import app_value
from mtn_runbook.runner.recovery import RECOVER
from mtn_runbook.core.journal import Journal


def save_minted(sandbox, workdir, *, tracked_expired=False) -> sessions.Session:
    minted = sessions.Session.from_dict(sandbox.mtn.mint_session(), "minted")
    if tracked_expired:
        minted = minted.extended(-2)  # expiresAt two hours ago, as an old export would have
    sessions.save(workdir / ".cache" / "mtn-session.json", minted)
    return minted


def saved(workdir) -> sessions.Session:
    return sessions.load(workdir / ".cache" / "mtn-session.json")[0]


def production(sandbox, path):
    return httpx.get(f"{sandbox.urls['app']}/api/mtn-wholesale/{path}", timeout=10)


def pushed(sandbox, session) -> sessions.Session:
    """What the targets get for `session`: the API host's cookies, expiresAt = the app's gate."""
    return app_value(session, sandbox.urls["mtn_api"])[0]


def assert_everywhere(sandbox, session):
    value = pushed(sandbox, session).encode()
    assert sandbox.vercel.env_value("MTN_SESSION", "production") == value
    assert sandbox.github.secret_value("MTN_SESSION") == value
    auth = production(sandbox, "auth").json()
    assert auth["authenticated"] and auth["sessionId"] == session.session_id
    products = production(sandbox, "products")
    assert products.status_code == 200 and products.json()["error_code"] == "200"


def test_recover_from_expired_session_logs_in_and_restores_production(sandbox, workdir, inv):
    save_minted(sandbox, workdir)
    sandbox.mtn.expire()
    assert production(sandbox, "products").status_code == 401  # the outage
    logins = sandbox.mtn.logins

    result = inv("recover", "--headless", "--timeout", "60")

    assert result.code == 0, result.output
    assert sandbox.mtn.logins == logins + 1
    new = saved(workdir)
    assert_everywhere(sandbox, new)
    for step in ("validate", "renew", "validate-new", "export", "push", "deploy", "verify"):
        assert f"✔ {step}" in result.stdout or f"– {step}" in result.stdout, step
    assert "Time to recover:" in result.stdout
    assert f"Production now runs session {new.short_id} (value fingerprint {pushed(sandbox, new).fingerprint}" \
        in result.stdout


def test_one_session_one_name_right_after_recover(sandbox, workdir, inv):
    """Walked: right after `inv recover`, `inv status` said the session had not been validated and
    that the last validation was of 'another session' (the pushed value's fingerprint); the ledger
    and validate --json used other ids again."""
    import json

    sandbox.mtn.expire()
    recovered = inv("recover", "--headless", "--timeout", "60")
    assert recovered.code == 0, recovered.output
    sid = saved(workdir).short_id
    assert f"session {sid}" in recovered.output   # the login line

    status = inv("status")
    checked = inv("validate", "--json")
    ledger = inv("ledger", "--json")   # validate put it in the ledger

    assert "not been validated" not in status.output and "another session" not in status.output, status.output
    assert f"Session {sid}" in status.output and "of this session" in status.output
    assert json.loads(ledger.stdout)["current"]["sessionId"] == sid
    assert [r.get("sid") for r in json.loads(ledger.stdout)["sessions"]][-1] == sid
    assert json.loads(checked.stdout)["sessionId"] == sid


def test_recover_extends_a_tracked_expired_session_without_the_browser(sandbox, workdir, inv):
    old = save_minted(sandbox, workdir, tracked_expired=True)
    logins = sandbox.mtn.logins

    # No --headless: had it tried to log in, a headed browser with no display would fail.
    result = inv("recover", env={"PLAYWRIGHT_CHROMIUM_EXECUTABLE_PATH": "/nonexistent/chromium"})

    assert result.code == 0, result.output
    assert sandbox.mtn.logins == logins
    new = saved(workdir)
    assert new.session_id == old.session_id
    assert new.minutes_left() > 23 * 60
    assert "extended" in result.stdout
    assert_everywhere(sandbox, new)


def test_refresh_logs_in_again_even_when_the_session_is_valid(sandbox, workdir, inv):
    old = save_minted(sandbox, workdir)
    logins = sandbox.mtn.logins

    result = inv("refresh", "--headless", "--timeout", "60")

    assert result.code == 0, result.output
    assert sandbox.mtn.logins == logins + 1
    new = saved(workdir)
    assert new.session_id != old.session_id
    assert_everywhere(sandbox, new)
    prev = sessions.load(workdir / ".cache" / "mtn-session.json.prev")[0]
    assert prev.session_id == old.session_id
    # walked: a refresh of a working production said "Time to recover"; nothing was down
    assert "Time to refresh:" in result.stdout and "Time to recover" not in result.stdout


def mutating_requests(sandbox):
    return [r for r in sandbox.history.requests() if r["method"] in ("POST", "PUT", "PATCH", "DELETE")
            and r["service"] in ("vercel", "github")]


def test_check_mode_changes_nothing_anywhere(sandbox, workdir, inv):
    save_minted(sandbox, workdir)
    sandbox.mtn.expire()
    before_file = (workdir / ".cache" / "mtn-session.json").read_bytes()
    before = httpx.get(f"{sandbox.urls['admin']}/admin/state").json()
    logins = sandbox.mtn.logins

    result = inv("recover", "--check")

    assert result.code == 0, result.output
    assert "CHECK MODE" in result.stdout
    assert "would open the browser" in result.stdout
    after = httpx.get(f"{sandbox.urls['admin']}/admin/state").json()
    for service in ("vercel", "github"):
        assert after[service] == before[service], service
    assert mutating_requests(sandbox) == []
    assert sandbox.mtn.logins == logins
    assert (workdir / ".cache" / "mtn-session.json").read_bytes() == before_file
    assert not (workdir / "session.txt").exists()


def test_a_failed_deploy_is_resumed_without_a_second_login(sandbox, workdir, inv):
    save_minted(sandbox, workdir)
    sandbox.mtn.expire()
    sandbox.options.next_deploy_state = "ERROR"

    first = inv("recover", "--headless", "--timeout", "60")

    assert first.code == 1, first.output
    assert "✘ deploy" in first.stdout
    assert sandbox.vercel.deployments()[-1]["inspectorUrl"] in first.output
    assert "--resume" in first.output
    logins = sandbox.mtn.logins
    sandbox.options.next_deploy_state = "READY"

    second = inv("recover", "--resume")

    assert second.code == 0, second.output
    assert "Resuming recover at step deploy" in second.stdout
    renewed = saved(workdir).short_id  # the name the first run's renew line gave the session
    assert f"session {renewed}" in first.stdout and f"with session {renewed} (still valid" in second.stdout
    assert sandbox.mtn.logins == logins
    assert_everywhere(sandbox, saved(workdir))


def test_a_second_recover_exits_5_at_once_while_one_runs(sandbox, workdir, inv):
    save_minted(sandbox, workdir)
    sandbox.mtn.expire()
    sandbox.options.captcha_delay = 6.0  # keeps the first run at the login while the second starts
    first: dict = {}
    runner = threading.Thread(target=lambda: first.update(r=inv("recover", "--headless", "--timeout", "60")))
    runner.start()
    try:
        deadline = time.monotonic() + 60
        while not sandbox.history.requests("mtn_sso"):   # the first run is now at the login, holding the lock
            assert runner.is_alive() and time.monotonic() < deadline, first
            time.sleep(0.05)
        second = inv("recover", "--headless")
        first_still_running = runner.is_alive()
    finally:
        runner.join(timeout=120)
    assert second.code == 5, second.output
    assert "another run" in second.stderr
    assert first_still_running  # "at once": it did not wait for the first run to end
    assert first["r"].code == 0, first["r"].output


def test_the_journal_holds_every_step_and_no_secret(sandbox, workdir, inv):
    save_minted(sandbox, workdir)
    sandbox.mtn.expire()
    assert inv("recover", "--headless", "--timeout", "60").code == 0
    assert inv("recover").code == 0  # a second run: nothing to do

    journal = Journal(workdir / ".cache" / "journal.jsonl")
    runs = {e["run"] for e in journal.entries("run")}
    assert len(runs) == 2
    for run_id in runs:
        steps = [e["step"] for e in journal.entries("step", run=run_id)]
        assert steps == [s.name for s in RECOVER]
    text = (workdir / ".cache" / "journal.jsonl").read_text()
    leaked = [s for s in secrets_known(sandbox, workdir) if s in text]
    assert not leaked, f"{len(leaked)} secret value(s) in the journal"


def test_a_second_recover_has_nothing_to_do(sandbox, workdir, inv):
    save_minted(sandbox, workdir)
    sandbox.mtn.expire()
    assert inv("recover", "--headless", "--timeout", "60").code == 0
    deployments = len(sandbox.vercel.deployments())

    again = inv("recover")

    assert again.code == 0, again.output
    assert "every target already holds it" in again.stdout or "already" in again.stdout
    assert "production already serves this session" in again.stdout
    assert len(sandbox.vercel.deployments()) == deployments


def test_recover_sandbox_rehearses_the_whole_path(workdir, inv):
    result = inv("recover", "--sandbox", timeout=180)
    assert result.code == 0, result.output
    assert "Rehearsal" in result.stdout
    assert "Time to recover:" in result.stdout
    assert not (workdir / ".cache" / "mtn-session.json").exists()  # the real session is untouched
    assert (workdir / ".cache" / "rehearsal" / "mtn-session.json").exists()
    assert not (workdir / ".cache" / "sandbox").exists()   # a sandbox shell's folder: not a --sandbox run's


@pytest.mark.parametrize("args, message", [
    (("--resume", "--from", "push"), "--resume and --from"),
    (("--from", "nowhere"), "no step named 'nowhere'"),
    (("--timeout", "0"), "--timeout must be"),
])
def test_recover_rejects_bad_flags_with_exit_2(inv, args, message):
    result = inv("recover", *args)
    assert result.code == 2, result.output
    assert message in result.stderr


def test_status_after_a_recover_shows_each_targets_last_push(sandbox, workdir, inv):
    save_minted(sandbox, workdir)
    sandbox.mtn.expire()
    assert inv("recover", "--headless", "--timeout", "60").code == 0

    result = inv("status")

    assert result.code == 0, result.output
    assert "Push vercel prj_sandbox (production): changed" in result.stdout
    assert "Push github acme/mtn-app (repository secret): changed" in result.stdout
    assert result.stdout.count("holds this session") == 2
    assert "Lifespans: " in result.stdout
    data = __import__("json").loads(inv("status", "--json").stdout)
    assert {t["target"] for t in data["targets"]} == {"vercel prj_sandbox (production)",
                                                      "github acme/mtn-app (repository secret)"}
    # the lifespan ledger's one estimate (no curve from so little), and the new session alive in it
    assert data["lifespan"]["estimate"]["method"] == "exponential-bound"
    assert data["lifespan"]["current"]["died"] is None and data["lifespan"]["current"]["decision"] == "quiet"


def test_from_a_later_step_refuses_a_session_the_api_rejects(sandbox, workdir, inv):
    save_minted(sandbox, workdir)
    sandbox.mtn.expire()

    result = inv("recover", "--from", "push")

    assert result.code == 3, result.output
    assert "does not validate" in result.stderr
    assert mutating_requests(sandbox) == []


def test_from_push_with_a_valid_session_pushes_deploys_and_verifies(sandbox, workdir, inv):
    minted = save_minted(sandbox, workdir)

    result = inv("recover", "--from", "push")

    assert result.code == 0, result.output
    assert "✔ push" in result.stdout and "✔ verify" in result.stdout
    assert saved(workdir).session_id == minted.session_id
    assert_everywhere(sandbox, saved(workdir))


def test_recover_json_puts_only_the_recap_on_stdout(sandbox, workdir, inv):
    import json

    minted = save_minted(sandbox, workdir, tracked_expired=True)

    result = inv("recover", "--json")

    assert result.code == 0, result.output
    recap = json.loads(result.stdout)
    assert recap["outcome"] == "done" and recap["exitCode"] == 0
    assert [s["step"] for s in recap["steps"]] == [s.name for s in RECOVER]
    assert recap["secondsToRecover"] > 0
    assert {t["holds"] for t in recap["targets"]} == {pushed(sandbox, saved(workdir)).fingerprint} \
        != {pushed(sandbox, minted).fingerprint}
    assert "✔ verify" in result.stderr

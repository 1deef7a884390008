"""`inv validate`, `inv extend`, `inv export` and `inv status` on sessions minted by the sandbox
(no browser: test_auth.py covers the login itself)."""

from __future__ import annotations

import json
import stat
from datetime import timedelta

import pytest

from mtn_runbook.core import session as sessions
from mtn_runbook.core.journal import Journal
from mtn_runbook.core.pushed import app_value, for_push
from mtn_runbook.core.session import Session


@pytest.fixture
def minted(sandbox) -> Session:
    return Session.from_dict(sandbox.mtn.mint_session(), "minted")


def save(workdir, session: Session):
    path = workdir / ".cache" / "mtn-session.json"
    sessions.save(path, session)
    return path


def journal(workdir) -> Journal:
    return Journal(workdir / ".cache" / "journal.jsonl")


def test_validate_json_and_journal(inv, sandbox, workdir, minted):
    save(workdir, minted)
    result = inv("validate", "--json")
    assert result.code == 0, result.output
    data = json.loads(result.stdout)
    assert data["valid"] is True and data["verdict"] == "valid" and data["apiStatus"] == 200
    assert data["sessionId"] == minted.short_id
    assert 59 <= data["minutesUntilTrackedExpiry"] <= 60
    assert set(data) >= {"valid", "sessionId", "trackedExpiry", "minutesUntilTrackedExpiry", "apiStatus",
                         "verdict", "message"}
    # right after a login: the tracked expiry is an estimate, not a reason to act
    assert "only an estimate" in result.stderr and "⚠" not in result.stderr  # human lines: stderr in --json mode
    assert "inv extend" not in result.stderr and "inv refresh" not in result.stderr
    [entry] = journal(workdir).entries("validation")
    assert entry["verdict"] == "valid" and entry["fingerprint"] == minted.fingerprint
    assert entry["apiStatus"] == 200 and entry["createdAt"] == minted.extra["createdAt"]


def test_validate_sends_each_host_only_its_cookies(inv, sandbox, workdir, minted):
    save(workdir, minted)
    sandbox.history.clear()
    assert inv("validate").code == 0
    [request] = sandbox.history.requests("mtn_api")
    assert request["path"] == "/api/v1/feasibility/product/wholesale/mns" and request["status"] == 200
    assert sandbox.history.requests("mtn_sso") == []  # the redirect is not followed


def test_expired_is_exit_3_in_json_too(inv, sandbox, workdir, minted):
    save(workdir, minted)
    sandbox.mtn.expire(minted.session_id)
    result = inv("validate", "--json")
    assert result.code == 3
    data = json.loads(result.stdout)
    assert data["valid"] is False and data["verdict"] == "expired" and data["apiStatus"] == 302
    assert journal(workdir).last("validation")["verdict"] == "expired"


def test_an_api_error_is_exit_1_with_the_status(inv, sandbox, workdir, minted):
    save(workdir, minted)
    sandbox.faults.add(service="mtn_api", status=500, count=-1)
    result = inv("validate")
    assert result.code == 1
    assert "✘ error — MTN API answered 500" in result.stdout


def test_env_is_used_when_there_is_no_file_and_forced_with_env(inv, sandbox, workdir, minted):
    result = inv("validate", env={"MTN_SESSION": minted.encode()})
    assert result.code == 0 and "from MTN_SESSION" in result.stdout
    dead = Session.from_dict(sandbox.mtn.mint_session(), "minted")
    sandbox.mtn.expire(dead.session_id)
    save(workdir, dead)
    assert inv("validate", env={"MTN_SESSION": minted.encode()}).code == 3  # the file wins
    forced = inv("validate", "--env", env={"MTN_SESSION": minted.encode()})
    assert forced.code == 0, forced.output


def test_api_key_is_sent_when_configured(inv, sandbox, workdir, minted):
    save(workdir, minted)
    sandbox.options.mtn_api_key = "sandbox-api-key-1"
    assert inv("validate", env={"MTN_API_KEY": "sandbox-api-key-1"}).code == 0
    wrong = inv("validate", env={"MTN_API_KEY": "other-api-key"})
    assert wrong.code == 3 and "MTN_API_KEY is wrong" in wrong.stdout


def test_valid_but_tracked_expired_suggests_extend_and_extend_moves_it(inv, sandbox, workdir, minted):
    old = Session(minted.cookies, minted.session_id, sessions.now() - timedelta(hours=2), dict(minted.extra))
    path = save(workdir, old)
    result = inv("validate")
    assert result.code == 0
    assert "valid_tracked_expired" in result.stdout and "`inv extend`" in result.stdout

    checked = inv("extend", "--check")
    assert checked.code == 0 and "would move" in checked.stdout
    assert sessions.load(path)[0] == old

    extended = inv("extend", "--hours", "48")
    assert extended.code == 0, extended.output
    now_saved, _ = sessions.load(path)
    assert 47.9 * 60 < now_saved.minutes_left() <= 48 * 60
    assert now_saved.cookies == old.cookies and now_saved.session_id == old.session_id
    assert sessions.load(sessions.prev_path(path))[0] == old
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert inv("validate", "--json").code == 0


def test_extend_refuses_a_dead_session_and_an_unconfirmed_one(inv, sandbox, workdir, minted):
    path = save(workdir, minted)
    sandbox.faults.add(service="mtn_api", status=503, count=-1)
    unsure = inv("extend")
    assert unsure.code == 1 and "could not confirm" in unsure.stderr
    sandbox.faults.clear()
    sandbox.mtn.expire()
    refused = inv("extend")
    assert refused.code == 3 and "not extending" in refused.stderr
    assert sessions.load(path)[0] == minted
    assert not sessions.prev_path(path).exists()


def test_export_to_a_private_file_without_newline(inv, sandbox, workdir, minted):
    path = save(workdir, minted)
    result = inv("export")
    assert result.code == 0, result.output
    target = workdir / "session.txt"
    value = app_value(sessions.load(path)[0], sandbox.urls["mtn_api"])[0].encode()   # what production gets
    assert target.read_text() == value
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    (workdir / "out").mkdir()   # a missing folder is bad input (test_bad_input.py), not created
    other = inv("export", "--output", "out/s.b64")
    assert other.code == 0 and (workdir / "out" / "s.b64").read_text() == value
    assert inv("export", "--stdout", "--output", "x").code == 2


def test_export_stdout_prints_nothing_but_the_value(inv, sandbox, workdir, minted):
    pushed = for_push(minted, sandbox.urls["mtn_api"], 48)
    save(workdir, pushed.session)
    result = inv("export", "--stdout", allow=(pushed.value,))
    assert result.code == 0
    assert result.stdout == pushed.value


def test_status_shows_age_expiry_and_the_last_validation(inv, sandbox, workdir, minted):
    empty = inv("status")
    assert empty.code == 2 and "✘ no usable session" in empty.stdout  # as `inv validate` would exit
    save(workdir, minted)
    before = inv("status")
    assert f"Session {minted.short_id}" in before.stdout and "none recorded" in before.stdout
    inv("validate")
    after = inv("status", "--json")
    data = json.loads(after.stdout)
    assert data["session"]["fingerprint"] == minted.fingerprint
    assert data["lastValidation"]["verdict"] == "valid" and data["lastValidation"]["sameSession"] is True
    assert "Last validation: valid (API 200)" in inv("status").stdout

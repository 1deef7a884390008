"""Bad input: one clear line each, exit 2, no traceback (the `inv` fixture checks tracebacks and
leaks). A too-open session file and a pasted value with whitespace are fixed, with a warning."""

from __future__ import annotations

import base64
import json
import stat

import pytest

from mtn_runbook.core.session import Session


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


GOOD_COOKIE = {"name": "JSESSIONID", "value": "X" * 32, "domain": "localhost", "path": "/"}
ENV_CASES = [
    ("not base64!!", "MTN_SESSION is not valid base64"),
    (b64("hello, not json"), "MTN_SESSION is not JSON"),
    (b64("[1, 2]"), "MTN_SESSION is JSON but not an object"),
    (b64(json.dumps({"sessionId": "x", "expiresAt": "2030-01-01T00:00:00Z"})), "MTN_SESSION has no `cookies` field"),
    (b64(json.dumps({"cookies": [GOOD_COOKIE], "expiresAt": "2030-01-01T00:00:00Z"})),
     "MTN_SESSION has no `sessionId` field"),
    (b64(json.dumps({"cookies": [GOOD_COOKIE], "sessionId": "x"})), "MTN_SESSION has no `expiresAt` field"),
    (b64(json.dumps({"cookies": [GOOD_COOKIE], "sessionId": "x", "expiresAt": "next tuesday"})),
     "MTN_SESSION: expiresAt 'next tuesday' is not an ISO 8601 date"),
    ("   ", "MTN_SESSION is empty"),
]


CASES = [("validate", *case) for case in ENV_CASES] + [
    (task, *case) for task in ("export", "extend", "status") for case in ENV_CASES[:2]]


@pytest.mark.parametrize("task, value, message", CASES)
def test_a_bad_mtn_session_is_one_line_and_exit_2(inv, sandbox, workdir, task, value, message):
    args = (task,) if task == "status" else (task, "--env")
    result = inv(*args, env={"MTN_SESSION": value})
    if task == "status":  # status reports the problem instead of failing
        assert result.code == 0 and message in result.stdout
        return
    assert result.code == 2, result.output
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert sandbox.history.requests("mtn_api") == []


def test_an_unset_mtn_session_with_env(inv, sandbox, workdir):
    result = inv("validate", "--env", env={"MTN_SESSION": None})
    assert result.code == 2 and "MTN_SESSION is not set" in result.stderr


@pytest.mark.parametrize("content, message", [
    ("", "is empty"),
    ("  \n", "is empty"),
    ("{not json", "is not JSON"),
    ('{"cookies": []}', "has no `sessionId` field"),
], ids=["empty", "blank", "not-json", "missing-fields"])
def test_a_bad_session_file_is_one_line_and_exit_2(inv, sandbox, workdir, content, message):
    path = workdir / ".cache" / "mtn-session.json"
    path.parent.mkdir()
    path.write_text(content)
    path.chmod(0o600)
    result = inv("validate")
    assert result.code == 2, result.output
    assert f"session file .cache/mtn-session.json {message}" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_a_missing_file_says_how_to_make_one(inv, sandbox, workdir):
    result = inv("validate", env={"MTN_SESSION": None})
    assert result.code == 2
    assert "session file .cache/mtn-session.json does not exist — run `inv auth`" in result.stderr
    other = inv("export", "--file", "nowhere.json")
    assert other.code == 2 and "session file nowhere.json does not exist" in other.stderr


def test_an_open_file_mode_is_fixed_with_a_warning(inv, sandbox, workdir):
    minted = Session.from_dict(sandbox.mtn.mint_session(), "minted")
    path = workdir / ".cache" / "mtn-session.json"
    path.parent.mkdir()
    path.write_text(json.dumps(minted.to_dict()))
    path.chmod(0o644)
    result = inv("validate")
    assert result.code == 0, result.output
    assert "⚠ session file .cache/mtn-session.json had mode 0644; set it to 0600" in result.stdout
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_whitespace_around_a_pasted_session_is_stripped_with_a_warning(inv, sandbox, workdir):
    minted = Session.from_dict(sandbox.mtn.mint_session(), "minted")
    result = inv("validate", "--env", env={"MTN_SESSION": f"  {minted.encode()}\n"})
    assert result.code == 0, result.output
    assert "⚠ MTN_SESSION had whitespace around it; stripped it" in result.stdout


@pytest.mark.parametrize("args, message", [
    (("auth", "--timeout", "0"), "--timeout must be a positive number"),
    (("extend", "--hours", "-1"), "--hours must be a positive number"),
    (("validate", "--env", "--file", "x.json"), "--file and --env choose different sessions"),
])
def test_bad_flags(inv, sandbox, workdir, args, message):
    minted = Session.from_dict(sandbox.mtn.mint_session(), "minted")
    result = inv(*args, env={"MTN_SESSION": minted.encode()})
    assert result.code == 2, result.output
    assert message in result.stderr

"""The login under faults, with real headless Chromium against the sandbox: a dropped POST /login
or /login/cas, the SSO answering 5xx/429, a page stuck in a JavaScript loop, a session the API
refuses, bad --timeout values, and Ctrl-C sent to the whole process group as a terminal does.
In every case the saved session stays exactly as it was."""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import time

import pytest

from conftest import BIN, chromium_path
from mtn_runbook.core import session as sessions

TIMEOUT_FLAGS = ("inf", "nan", "-inf", "0", "-5", "1e12")
# A login page that locks its own main thread once the tool has had time to fill it in (4 s).
BUSY_PAGE = """<!doctype html><title>MTN Business | Login</title>
<input id="dummyUser"><input id="password" type="password">
<textarea id="g-recaptcha-response"></textarea><button id="submit-button" disabled>Login</button>
<script>setTimeout(function () { for (;;) {} }, 4000);</script>"""


@pytest.fixture
def saved(sandbox, workdir):
    """A live session already saved, as before an incident or a proactive refresh."""
    path = workdir / ".cache" / "mtn-session.json"
    sessions.save(path, sessions.Session.from_dict(sandbox.mtn.mint_session(), "minted"))
    return path, path.read_bytes()


def assert_untouched(path, before):
    assert path.read_bytes() == before
    assert not sessions.prev_path(path).exists()


def one_line(stderr: str) -> str:
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1, stderr
    return lines[0]


@pytest.mark.parametrize("service, method, path, where", [
    ("mtn_sso", "POST", "/login", "POST 127.0.0.1/login"),
    ("mtn_api", "GET", "/login/cas", "GET localhost/login/cas"),
])
def test_a_dropped_login_request_is_a_failure_and_saves_nothing(inv, sandbox, saved, service, method, path, where):
    sandbox.faults.add(service=service, method=method, path=path, drop=True)
    result = inv("auth", "--headless", "--timeout", "30")
    assert result.code == 1, result.output
    line = one_line(result.stderr)
    assert where in line and "dropped" in line and "nothing was saved" in line
    assert "logged in" not in result.stdout
    assert_untouched(*saved)


@pytest.mark.parametrize("method, status, retry_after, said", [
    ("POST", 503, None, "MTN SSO answered 503 to POST 127.0.0.1/login: it is failing"),
    ("POST", 429, 30, "MTN SSO answered 429 to POST 127.0.0.1/login, Retry-After 30 s: it is rate-limiting"),
    ("GET", 502, None, "MTN SSO answered 502 to GET 127.0.0.1/login"),
])
def test_the_sso_failing_is_reported_as_such_not_as_a_captcha_timeout(inv, sandbox, saved, method, status,
                                                                      retry_after, said):
    sandbox.faults.add(service="mtn_sso", method=method, path="/login", status=status, retry_after=retry_after)
    result = inv("auth", "--headless", "--timeout", "30")
    assert result.code == 1, result.output  # not 4: nobody was too slow
    assert said in one_line(result.stderr)
    assert_untouched(*saved)


def test_a_page_in_a_busy_loop_cannot_outlast_the_timeout(inv, sandbox, saved):
    sandbox.faults.add(service="mtn_sso", method="GET", path="/login", status=200, html=BUSY_PAGE)
    began = time.monotonic()
    result = inv("auth", "--headless", "--timeout", "10", timeout=100)  # it used to hang for good
    assert result.code == 4, result.output
    assert "the login did not finish within 10s" in one_line(result.stderr)
    assert time.monotonic() - began < 100
    assert_untouched(*saved)


@pytest.mark.parametrize("task", ["auth", "recover", "refresh"])
def test_a_timeout_that_is_not_a_finite_positive_number_is_refused(inv, sandbox, workdir, task):
    for value in TIMEOUT_FLAGS:
        result = inv(task, "--headless", "--timeout", value, timeout=30)
        assert result.code == 2, (value, result.output)
        line = one_line(result.stderr)
        assert "--timeout" in line, line
    assert sandbox.history.requests("mtn_sso") == []
    assert not (workdir / ".cache").exists()


def test_a_session_the_api_refuses_never_replaces_the_saved_one(inv, sandbox, saved):
    path, before = saved
    # the new session's validation is refused once, as MTN does with a ticket it never redeemed
    sandbox.faults.add(service="mtn_api", method="GET", path="/api/v1/.*", status=401)
    result = inv("auth", "--headless", "--timeout", "30")
    assert result.code == 1, result.output
    line = one_line(result.stderr)
    rejected = path.with_name(path.name + ".rejected")
    assert "set aside as .cache/mtn-session.json.rejected" in line and "the MTN API did not accept it" in line
    assert "the saved session" in line and "is unchanged and still validates" in line
    assert_untouched(path, before)
    assert stat.S_IMODE(rejected.stat().st_mode) == 0o600
    assert json.loads(rejected.read_text())["sessionId"] != json.loads(before)["sessionId"]
    assert inv("validate").code == 0  # the saved one still works


def test_refresh_never_swaps_a_good_session_for_a_junk_one(inv, sandbox, saved):
    path, before = saved
    sandbox.faults.add(service="mtn_api", method="GET", path="/login/cas", drop=True)
    result = inv("refresh", "--headless", "--timeout", "30")
    assert result.code == 1, result.output
    assert "GET localhost/login/cas failed" in result.stderr
    assert_untouched(path, before)
    assert sandbox.history.events("vercel", "env.change") == []
    sandbox.faults.add(service="mtn_api", method="GET", path="/api/v1/.*", status=401)
    result = inv("refresh", "--headless", "--timeout", "30")
    assert result.code == 1, result.output
    assert ".rejected" in result.stderr and "still validates" in result.stderr
    assert_untouched(path, before)
    assert sandbox.history.events("vercel", "env.change") == []


def test_ctrl_c_to_the_process_group_during_the_captcha_wait_is_one_line_and_130(sandbox, workdir, tasks_root, home):
    sandbox.options.captcha_delay = None  # nobody solves it: the tool waits for the person
    env = {"PATH": f"{BIN}:{os.environ.get('PATH', '/usr/bin:/bin')}", "HOME": str(home),
           "LANG": "C.UTF-8", "PYTHONUNBUFFERED": "1", "PLAYWRIGHT_CHROMIUM_EXECUTABLE_PATH": chromium_path(),
           **sandbox.env()}
    # its own process group, so killpg reaches inv and everything it started, as a terminal's Ctrl-C does
    proc = subprocess.Popen([str(BIN / "inv"), "--search-root", str(tasks_root), "auth", "--headless", "--timeout", "120"],
                            cwd=workdir, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)
    try:
        seen = []
        for line in proc.stdout:   # unbuffered: each line as the tool prints it
            seen.append(line)
            if line.startswith("… waiting for the login to finish"):   # filled in, and waiting for the person
                break
        assert sandbox.history.requests("mtn_sso"), "".join(seen)   # the login page opened
        os.killpg(proc.pid, signal.SIGINT)
        stdout, stderr = proc.communicate(timeout=30)
        stdout = "".join(seen) + stdout
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    assert proc.returncode == 130, stdout + stderr
    assert one_line(stderr).startswith("✘ interrupted during the login; nothing was saved")
    assert "Future exception" not in stdout + stderr and "Traceback" not in stdout + stderr
    assert not (workdir / ".cache" / "mtn-session.json").exists()

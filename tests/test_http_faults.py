"""Issue 12 items 6 (HTTP) and 7, issue 11 item 11: total deadlines, Ctrl-C, safe retries, TLS,
and a retry line in the output whether or not it is a terminal.

Real HTTP on loopback: the sandbox's faults (drip, delay, status, `after`), and a TLS server
with a self-made certificate the client does not trust.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import threading
import time

import httpx
import pytest

from mtn_runbook.core import deadline
from mtn_runbook.core.errors import Interrupted, ServiceError
from mtn_runbook.core.http import Api, RetryTransport
from mtn_runbook.core.session import Session

from conftest import BIN, ROOT, chromium_path
from tls_server import untrusted_tls_server


def save_session(sandbox, workdir) -> Session:
    minted = Session.from_dict(sandbox.mtn.mint_session(), "minted").extended(24)
    path = workdir / ".cache" / "mtn-session.json"
    path.parent.mkdir(exist_ok=True)
    path.write_text(json.dumps(minted.to_dict()))
    path.chmod(0o600)
    return minted


# -- retries: what is repeated, and what is said -------------------------------------------
class Script:
    def __init__(self, *statuses):
        self.statuses, self.calls, self.sleeps, self.lines = list(statuses), [], [], []

    def handler(self, request):
        self.calls.append(request.method)
        return httpx.Response(self.statuses.pop(0) if len(self.statuses) > 1 else self.statuses[0], json={})

    def client(self):
        transport = RetryTransport(httpx.MockTransport(self.handler), sleep=self.sleeps.append,
                                   report=self.lines.append)
        return httpx.Client(base_url="http://api.test", transport=transport)


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_a_post_that_may_have_been_done_is_not_repeated(status):
    post = Script(status, 201)
    assert post.client().post("/v13/deployments").status_code == status
    assert post.calls == ["POST"] and post.lines == []
    upsert = Script(status, 201)    # Vercel's ?upsert=true: the caller vouches it is safe
    assert upsert.client().post("/env", extensions={"idempotent": True}).status_code == 201
    rate_limited = Script(429, 201)  # a 429 was not processed: safe for any method
    assert rate_limited.client().post("/issues").status_code == 201


def test_each_retry_is_announced():
    script = Script(503, 503, 200)
    assert script.client().get("/x", extensions={"what": "vercel: GET /x"}).status_code == 200
    assert script.lines == ["vercel: GET /x answered 503; retrying in 0.5 s, 4 left",
                            "vercel: GET /x answered 503; retrying in 1 s, 3 left"]


def test_a_retry_line_reaches_output_that_is_not_a_terminal(sandbox, inv, workdir):
    save_session(sandbox, workdir)
    sandbox.faults.add(service="mtn_api", method="GET", path="/api/v1/feasibility/.*", status=503, count=2)
    result = inv("validate")      # stdout is a pipe here, as in CI or `| tee`
    assert result.code == 0, result.output
    assert "… MTN API: the products check answered 503; retrying in 0.5 s, 2 left" in result.stdout
    assert "retrying in 1 s, 1 left" in result.stdout


# -- TLS: a certificate error fails at once, naming the host -------------------------------
@pytest.fixture
def untrusted_tls():
    """A TLS server on loopback with a self-made certificate; counts the connections it gets."""
    with untrusted_tls_server() as server:
        yield server


@pytest.mark.e2e
def test_a_tls_certificate_error_fails_at_once_naming_the_host(untrusted_tls):
    url, accepted = untrusted_tls
    with Api("production", url) as api, pytest.raises(ServiceError) as failed:
        api.get("/api/mtn-wholesale/auth")
    assert failed.value.message.startswith("production: the TLS certificate of localhost is not trusted")
    assert "not retried" in failed.value.hint
    assert len(accepted) == 1      # old behaviour: 5 connections over 7.5 s


def test_verify_against_an_untrusted_certificate_is_one_clean_failure(inv, sandbox, workdir, untrusted_tls):
    url, accepted = untrusted_tls
    result = inv("verify", env={"PRODUCTION_URL": url})
    assert result.code == 1, result.output
    assert "the TLS certificate of localhost is not trusted" in result.output
    assert "retrying" not in result.output
    assert len(accepted) == 2      # /auth and /products, once each


# -- total deadline ------------------------------------------------------------------------
def test_a_dripping_server_cannot_hold_a_call_past_its_deadline(sandbox):
    sandbox.faults.add(service="app", method="GET", path="/api/mtn-wholesale/auth", drip=0.4, count=-1)
    with Api("production", sandbox.urls["app"], deadline=1.5) as api, pytest.raises(ServiceError) as failed:
        api.get("/api/mtn-wholesale/auth")
    assert failed.value.message == "production: GET /api/mtn-wholesale/auth gave no complete answer within 2 s"
    # old behaviour: ~60 s (one byte per 0.4 s never trips the 20 s read timeout)


def test_verify_ends_at_the_deadline_of_a_dripping_production(sandbox, inv, workdir):
    save_session(sandbox, workdir)
    sandbox.faults.add(service="app", method="GET", path="/api/mtn-wholesale/auth", drip=5, count=-1)
    result = inv("verify", env={"CHECK_DEADLINE_SECONDS": "3"}, timeout=120)   # old behaviour: ~12 min, one byte every 5 s
    assert result.code == 1, result.output
    assert "gave no complete answer within 3 s" in result.output


def test_outer_deadline_bounds_inner_calls():
    with deadline.within(10):
        with deadline.within(100):
            assert deadline.remaining() <= 10
        with deadline.within(1):
            assert deadline.remaining() <= 1
    assert deadline.remaining() is None


def test_cancel_stops_a_blocked_call_in_another_thread(sandbox):
    sandbox.faults.add(service="vercel", method="GET", path="/v2/user", delay=30, count=-1)
    errors = []

    def call():
        o = sandbox.options
        try:
            with Api("vercel", sandbox.urls["vercel"], token=o.vercel_token) as api:
                api.get("/v2/user")
        except Exception as e:
            errors.append(e)

    worker = threading.Thread(target=call)
    worker.start()
    time.sleep(0.5)
    try:
        deadline.cancel()
        worker.join(5)
    finally:
        deadline.reset()
    assert not worker.is_alive()
    assert isinstance(errors[0], Interrupted) and errors[0].exit_code == 130


# -- Ctrl-C --------------------------------------------------------------------------------
def test_ctrl_c_during_a_hanging_vercel_patch_ends_the_run_and_leaves_it_resumable(sandbox, workdir):
    session = save_session(sandbox, workdir)
    before = sandbox.vercel.env_value("MTN_SESSION")
    sandbox.faults.add(service="vercel", method="PATCH", path="/v9/projects/.*/env/.*", delay=60, count=-1)
    env = {"PATH": f"{BIN}:{os.environ.get('PATH', '/usr/bin:/bin')}", "HOME": os.environ.get("HOME", "/root"),
           "LANG": "C.UTF-8", "PYTHONUNBUFFERED": "1", "PLAYWRIGHT_CHROMIUM_EXECUTABLE_PATH": chromium_path(),
           **sandbox.env()}
    proc = subprocess.Popen([str(BIN / "inv"), "--search-root", str(ROOT), "recover", "--from", "push"], cwd=workdir,
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        for _ in range(300):   # bounded: until the PATCH hangs at the stand-in
            if any(r["method"] == "PATCH" for r in sandbox.history.requests("vercel")):
                break
            time.sleep(0.1)
        else:
            raise AssertionError("the PATCH never started")
        time.sleep(0.3)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=15)   # old behaviour: ~100 s of retried PATCHes
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, out + err
    assert "Traceback" not in out + err
    patches = [r for r in sandbox.history.requests("vercel") if r["method"] == "PATCH"]
    assert len(patches) == 1                           # no worker went on retrying
    assert sandbox.vercel.env_value("MTN_SESSION") == before   # the old value is still in place
    journal = [json.loads(line) for line in (workdir / ".cache" / "journal.jsonl").read_text().splitlines()]
    assert [e for e in journal if e["kind"] == "run"][-1]["outcome"] == "failed"   # `--resume` continues
    assert session.encode() not in out + err


# -- a POST that creates something: checked, never blindly repeated ------------------------
def test_a_deployment_created_behind_a_504_is_adopted_not_repeated(sandbox, inv, workdir):
    save_session(sandbox, workdir)
    assert inv("push.vercel").code == 0
    sandbox.faults.add(service="vercel", method="POST", path="/v13/deployments", status=504, after=True)
    result = inv("deploy")
    assert result.code == 0, result.output
    assert "creating the deployment answered 504, but it was created" in result.output
    assert len(sandbox.history.events("vercel", "deployment.create")) == 1   # old: 2 deployments


def test_a_deployment_refused_by_a_503_is_retried_after_checking(sandbox, inv, workdir):
    save_session(sandbox, workdir)
    assert inv("push.vercel").code == 0
    sandbox.faults.add(service="vercel", method="POST", path="/v13/deployments", status=503)
    result = inv("deploy")
    assert result.code == 0, result.output
    assert "creating the deployment answered 503 and created none; retrying in 0.5 s, 2 left" in result.output
    assert len(sandbox.history.events("vercel", "deployment.create")) == 1


def test_an_alert_issue_opened_behind_a_502_is_not_opened_twice(sandbox, inv):
    from test_monitor import mtn_issues, new_secret

    _, value = new_secret(sandbox)
    before = len(mtn_issues(sandbox))
    sandbox.faults.add(service="github", method="POST", path="/repos/.*/issues", status=502, after=True)
    result = inv("monitor", env={"MTN_SESSION": value})
    assert result.code == 3, result.output
    assert "opening the issue answered 502, but it was opened" in result.output
    assert len(mtn_issues(sandbox)) == before + 1                      # old: two alert issues
    assert "github-issue: open #" in result.output

"""push.coolify, deploy and doctor against the Coolify stand-in (production runs on Coolify)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import httpx
import pytest
import yaml

from mtn_runbook.core.pushed import for_push
from mtn_runbook.core.session import Session, save
from mtn_runbook.sandbox import Sandbox

ENVS = r"/api/v1/applications/[^/]+/envs"


@pytest.fixture
def sandbox():
    """Overrides conftest's: the app runs on Coolify; env() has COOLIFY_* and GITHUB_*, no VERCEL_*."""
    sb = Sandbox(captcha_delay=0.3, deploy_seconds=0.4, production="coolify")
    sb.start()
    yield sb
    sb.stop()


def live_session(sandbox, workdir: Path) -> Session:
    pushed = for_push(Session.from_dict(sandbox.mtn.mint_session(), "sandbox"), sandbox.urls["mtn_api"], 48)
    save(workdir / ".cache" / "mtn-session.json", pushed.session)
    return pushed.app


def var(sandbox, key="MTN_SESSION", preview=False) -> dict | None:
    return next((e for e in sandbox.coolify.variables() if e["key"] == key and e["is_preview"] == preview), None)


def writes(sandbox) -> list[dict]:
    return [r for r in sandbox.history.requests("coolify") if r["method"] in ("POST", "PATCH", "DELETE", "PUT")]


def production_auth(sandbox) -> dict:
    return httpx.get(f"{sandbox.urls['app']}/api/mtn-wholesale/auth", timeout=10).json()


def one_line_error(output: str, needle: str) -> None:
    lines = [line for line in output.splitlines() if needle in line]
    assert lines, output
    assert "Traceback" not in output


def test_push_updates_in_place_keeping_type_and_flags_and_never_deletes(inv, sandbox, workdir):
    session = live_session(sandbox, workdir)
    sandbox.coolify.set_env("MTN_SESSION", sandbox.coolify.seed_value, is_literal=True, is_multiline=True,
                            is_buildtime=False)
    before = var(sandbox)

    result = inv("push.coolify")

    assert result.code == 0, result.output
    after = var(sandbox)
    assert after["value"] == session.encode() and after["uuid"] == before["uuid"]
    for flag in ("is_literal", "is_multiline", "is_shown_once", "is_runtime", "is_buildtime"):
        assert after[flag] == before[flag], flag
    assert [(w["method"], w["status"]) for w in writes(sandbox)] == [("PATCH", 201)]   # no POST, no DELETE
    assert not [c for c in sandbox.history.events("coolify", "env.change") if c["action"] == "delete"]
    assert f"✔ coolify {sandbox.options.coolify_app_uuid}" in result.output
    assert "stored and read back; literal, multiline, runtime kept; live after `inv deploy`" in result.output
    assert "next: `inv deploy`" in result.output
    # the container still runs the environment it was started with: not live before a deployment
    assert production_auth(sandbox).get("sessionId") != session.session_id


def test_second_push_says_it_already_holds_it(inv, sandbox, workdir):
    live_session(sandbox, workdir)
    assert inv("push.coolify").code == 0
    again = inv("push.coolify")
    assert again.code == 0 and "already holds it" in again.output
    assert [w["method"] for w in writes(sandbox)] == ["PATCH"]


def test_push_creates_the_variable_when_missing(inv, sandbox, workdir):
    session = live_session(sandbox, workdir)
    for e in sandbox.coolify.variables():
        if e["key"] == "MTN_SESSION":
            with sandbox.coolify._lock:
                sandbox.coolify.delete_env(e["uuid"])

    result = inv("push.coolify")

    assert result.code == 0, result.output
    created = var(sandbox)
    assert created["value"] == session.encode()
    assert (created["is_literal"], created["is_runtime"], created["is_buildtime"]) == (True, True, False)
    assert var(sandbox, preview=True) is not None     # Coolify's own preview copy
    assert [(w["method"], w["status"]) for w in writes(sandbox)] == [("POST", 201)]


def test_a_shown_once_variable_is_pushed_and_said_unreadable(inv, sandbox, workdir):
    session = live_session(sandbox, workdir)
    sandbox.coolify.set_env("MTN_SESSION", "old", is_shown_once=True, is_literal=True)

    result = inv("push.coolify")

    assert result.code == 0, result.output
    assert var(sandbox)["value"] == session.encode() and var(sandbox)["is_shown_once"] is True
    assert "value not readable: is_shown_once" in result.output


def test_wrong_token_is_one_line_and_exit_2(inv, sandbox, workdir):
    live_session(sandbox, workdir)
    result = inv("push.coolify", env={"COOLIFY_TOKEN": "9|wrongToken"})
    assert result.code == 2, result.output
    one_line_error(result.output, "answered 401 Unauthenticated.")
    assert "check COOLIFY_TOKEN" in result.output and "wrongToken" not in result.output


def test_wrong_uuid_is_one_line_and_exit_2(inv, sandbox, workdir):
    live_session(sandbox, workdir)
    result = inv("push.coolify", env={"COOLIFY_APP_UUID": "nosuchapp"})
    assert result.code == 2, result.output
    one_line_error(result.output, "answered 404 Application not found")
    assert "COOLIFY_APP_UUID" in result.output


def test_a_key_coolify_would_refuse_is_stopped_before_any_request(inv, sandbox, workdir):
    live_session(sandbox, workdir)
    config = workdir / "invoke.yaml"
    config.write_text(yaml.safe_dump({"targets": [{"kind": "coolify", "key": "9MTN_SESSION"}]}))
    result = inv("-f", str(config), "push.coolify")
    assert result.code == 2, result.output
    one_line_error(result.output, "key '9MTN_SESSION' is not an environment variable name")
    assert writes(sandbox) == []


def test_a_422_names_the_field_and_exits_2(inv, sandbox, workdir):
    # Our own checks stop a bad key first, so the 422 (in Coolify's shape) comes from a fault.
    live_session(sandbox, workdir)
    sandbox.faults.add(service="coolify", method="PATCH", path=ENVS, status=422, count=-1,
                       body={"message": "Validation failed.",
                             "errors": {"value": ["The value field must be a string."]}})
    result = inv("push.coolify")
    assert result.code == 2, result.output
    one_line_error(result.output, "answered 422 Validation failed. (value: The value field must be a string.")


def test_a_5xx_is_one_line_and_exit_1(inv, sandbox, workdir):
    live_session(sandbox, workdir)
    sandbox.faults.add(service="coolify", method="PATCH", path=ENVS, status=503, count=-1)
    result = inv("push.coolify")
    assert result.code == 1, result.output
    one_line_error(result.output, "answered 503")
    assert var(sandbox)["value"] == sandbox.coolify.seed_value    # nothing deleted, the old value stays


def test_deploy_recreates_the_container_showing_each_state_then_verifies(inv, sandbox, workdir):
    session = live_session(sandbox, workdir)
    assert inv("push.coolify").code == 0
    sandbox.options.deploy_seconds = 3.0   # 1 s queued, 2 s in progress: each state is polled

    result = inv("deploy")

    assert result.code == 0, result.output
    assert "queued → in_progress" in result.output and "in_progress → finished" in result.output
    assert "is finished" in result.output and "✔ verify" in result.output
    assert production_auth(sandbox)["sessionId"] == session.session_id
    assert [r["method"] for r in sandbox.history.requests("coolify") if r["path"] == "/api/v1/deploy"] == ["POST"]


def test_a_failed_deployment_is_one_line_and_exit_1(inv, sandbox, workdir):
    live_session(sandbox, workdir)
    assert inv("push.coolify").code == 0
    sandbox.options.coolify_deploy_state = "failed"

    result = inv("deploy")

    assert result.code == 1, result.output
    one_line_error(result.output, "ended failed")
    assert "the previous container still runs" in result.output
    assert production_auth(sandbox).get("sessionId") == sandbox.coolify.seed_session["sessionId"]


def test_deploy_waits_for_a_deployment_already_running_then_deploys_again(inv, sandbox, workdir):
    import threading
    import time

    session = live_session(sandbox, workdir)
    sandbox.options.deploy_seconds = 1000
    with sandbox.coolify._lock:
        sandbox.coolify.queue()            # someone else's deployment, running: it runs until the test ends it
        other = sandbox.coolify._deployments[-1]
    sandbox.options.deploy_seconds = 0.4
    assert inv("push.coolify").code == 0
    done: dict = {}
    runner = threading.Thread(target=lambda: done.update(result=inv("deploy")))
    runner.start()
    deploys = lambda: [r for r in sandbox.history.requests("coolify") if r["path"] == "/api/v1/deploy"]
    for _ in range(600):                   # bounded: 30 s for `inv deploy` to ask
        if deploys():
            break
        time.sleep(0.05)
    time.sleep(0.3)                        # it polls the running deployment a while
    with sandbox.coolify._lock:            # the other deployment ends now
        other["duration"] = time.time() - other["created"]
    runner.join(timeout=120)
    result = done["result"]

    assert result.code == 0, result.output
    assert "is already queued; waiting for it, then deploying again" in result.output
    assert len(deploys()) == 2 and len(sandbox.history.events("coolify", "deploy")) == 2
    assert production_auth(sandbox)["sessionId"] == session.session_id


def test_deploy_check_sends_nothing(inv, sandbox, workdir):
    result = inv("deploy", "--check")
    assert result.code == 0, result.output
    assert f"would redeploy production on coolify {sandbox.options.coolify_app_uuid}" in result.output
    assert not sandbox.history.events("coolify", "deploy")


@pytest.fixture
def ready(sandbox, workdir):
    subprocess.run(["git", "init", "-q"], cwd=workdir, check=True)
    (workdir / ".gitignore").write_text(".cache/\nsession.txt\n.env\n")
    live_session(sandbox, workdir)
    return workdir


def test_doctor_checks_the_token_the_application_and_the_variable_reading_only(ready, inv, sandbox):
    result = inv("doctor", "--no-browser", env={"MTN_LINK_PORT": "0"})
    uuid = sandbox.options.coolify_app_uuid
    assert "✔ Coolify token — works (Coolify 4.3.11)" in result.stdout, result.output
    assert (f"✔ coolify {uuid} — application mtn-app (running:healthy) reachable; MTN_SESSION: literal, "
            "runtime; value readable") in result.stdout
    assert f"✔ deploy — redeploys Coolify application mtn-app ({uuid})" in result.stdout
    assert not writes(sandbox)


def test_doctor_names_a_wrong_coolify_token_and_uuid(ready, inv, sandbox):
    result = inv("doctor", "--no-browser", env={"MTN_LINK_PORT": "0", "COOLIFY_TOKEN": "9|wrongToken"})
    assert result.code == 2
    assert "✘ Coolify token" in result.stdout and "COOLIFY_TOKEN" in result.stdout
    result = inv("doctor", "--no-browser", env={"MTN_LINK_PORT": "0", "COOLIFY_APP_UUID": "nosuchapp"})
    assert result.code == 2
    assert "✘ coolify nosuchapp" in result.stdout and "Application not found" in result.stdout


def test_several_coolify_entries_in_invoke_yaml_are_each_pushed_and_deployed(inv, sandbox, workdir):
    session = live_session(sandbox, workdir)
    config = workdir / "invoke.yaml"
    config.write_text(yaml.safe_dump({"targets": [
        {"kind": "coolify", "name": "app-a"},
        {"kind": "coolify", "application": sandbox.options.coolify_app_uuid, "key": "MTN_SESSION_COPY",
         "name": "app-b"}]}))

    pushed = inv("-f", str(config), "push")
    deployed = inv("-f", str(config), "deploy")

    assert pushed.code == 0, pushed.output
    assert "✔ app-a" in pushed.output and "✔ app-b" in pushed.output
    assert var(sandbox)["value"] == var(sandbox, "MTN_SESSION_COPY")["value"] == session.encode()
    assert deployed.code == 0, deployed.output
    assert len(sandbox.history.events("coolify", "deploy")) == 2     # one deployment per entry
    assert production_auth(sandbox)["sessionId"] == session.session_id


def test_a_token_without_read_sensitive_pushes_and_says_it_cannot_read_back(inv, sandbox, workdir):
    session = live_session(sandbox, workdir)
    sandbox.options.coolify_abilities = "read,write,deploy"
    result = inv("push.coolify")
    assert result.code == 0, result.output
    assert "value not readable: the token lacks read:sensitive" in result.output
    assert var(sandbox)["value"] == session.encode()


def test_a_token_that_may_not_deploy_is_one_line_and_exit_2(inv, sandbox, workdir):
    live_session(sandbox, workdir)
    sandbox.options.coolify_abilities = "read,read:sensitive,write"
    assert inv("push.coolify").code == 0
    result = inv("deploy")
    assert result.code == 2, result.output
    one_line_error(result.output, "POST /deploy answered 403 Missing required permissions: deploy")


def test_push_check_sends_nothing_and_says_what_it_would_do(inv, sandbox, workdir):
    live_session(sandbox, workdir)
    result = inv("push.coolify", "--check")
    assert result.code == 0, result.output
    assert "would update MTN_SESSION in place (literal, runtime)" in result.output
    assert not writes(sandbox)

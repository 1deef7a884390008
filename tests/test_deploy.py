"""deploy (redeploy production, wait for READY, verify) and verify against the stand-ins."""

from __future__ import annotations

from pathlib import Path

import pytest

from mtn_runbook.core.config import Settings
from mtn_runbook.services.production import check_production
from mtn_runbook.core.pushed import for_push
from mtn_runbook.core.session import Session, save


def live_session(sandbox, workdir: Path) -> Session:
    """A live session saved to the session file; returns the value a push sends for it: the
    API host's cookies, expiresAt = the app's gate (core/pushed.py)."""
    pushed = for_push(Session.from_dict(sandbox.mtn.mint_session(), "sandbox"), sandbox.urls["mtn_api"], 48)
    save(workdir / ".cache" / "mtn-session.json", pushed.session)
    return pushed.app


def deployments_created(sandbox) -> list[dict]:
    return sandbox.history.events("vercel", "deployment.create")


def test_push_then_deploy_ends_ready_and_verify_passes(inv, sandbox, workdir):
    session = live_session(sandbox, workdir)
    assert inv("push.vercel").code == 0

    result = inv("deploy")

    assert result.code == 0, result.output
    assert sandbox.vercel.production_env()["MTN_SESSION"] == session.encode()
    assert "is READY" in result.output
    assert f"✔ verify — production runs session {session.short_id} (the pushed one)" in result.output
    (created,) = deployments_created(sandbox)
    assert created["target"] == "production" and created["fingerprint"] == session.fingerprint
    assert inv("verify").code == 0


@pytest.mark.parametrize("state, says", [("ERROR", "npm run build"), ("CANCELED", "Ignored Build Step")])
def test_a_failed_deployment_exits_1_with_its_inspector_url(inv, sandbox, workdir, state, says):
    live_session(sandbox, workdir)
    assert inv("push.vercel").code == 0
    sandbox.options.next_deploy_state = state
    before = sandbox.vercel.production_deployment()["id"]

    result = inv("deploy")

    assert result.code == 1, result.output
    assert f"ended {state}" in result.output and says in result.output
    assert "https://vercel.com/team_sandbox/mtn-app/" in result.output
    assert f"production still runs {before}" in result.output
    assert sandbox.vercel.production_deployment()["id"] == before


def test_check_sends_nothing(inv, sandbox, workdir):
    live_session(sandbox, workdir)
    current = sandbox.vercel.production_deployment()["id"]

    result = inv("deploy", "--check")

    assert result.code == 0, result.output
    assert f"would redeploy production deployment {current}" in result.output
    assert not deployments_created(sandbox)
    assert not [r for r in sandbox.history.requests("vercel") if r["method"] != "GET"]


def test_no_wait_returns_at_once(inv, sandbox, workdir):
    live_session(sandbox, workdir)
    sandbox.options.deploy_seconds = 30

    result = inv("deploy", "--no-wait")

    assert result.code == 0, result.output
    assert "started (QUEUED)" in result.output
    assert len(deployments_created(sandbox)) == 1


def test_verify_fails_while_production_runs_the_old_session(inv, sandbox, workdir):
    session = live_session(sandbox, workdir)

    result = inv("verify")

    assert result.code == 1, result.output
    assert f"not {session.short_id}" in result.output       # auth: another session is loaded
    assert "products: /api/mtn-wholesale/products answered 401 Authentication failed" in result.output


def test_verify_fails_when_mtn_stops_accepting_the_session(inv, sandbox, workdir):
    live_session(sandbox, workdir)
    assert inv("push.vercel").code == 0
    assert inv("deploy").code == 0
    sandbox.mtn.expire()

    result = inv("verify")

    assert result.code == 1, result.output
    assert "products:" in result.output and "401" in result.output
    assert "auth:" not in result.output  # the right session is loaded: only /products fails


def test_deploy_with_a_bad_token_names_the_variable(inv, sandbox, workdir):
    live_session(sandbox, workdir)

    result = inv("deploy", env={"VERCEL_TOKEN": "nope"})

    assert result.code == 2, result.output
    assert "VERCEL_TOKEN" in result.output
    assert not deployments_created(sandbox)


def test_verify_needs_production_url(inv, sandbox, workdir):
    live_session(sandbox, workdir)

    result = inv("verify", env={"PRODUCTION_URL": None})

    assert result.code == 2, result.output
    assert "PRODUCTION_URL" in result.output


def test_check_production_never_returns_a_session_id(sandbox, workdir):
    session = live_session(sandbox, workdir)
    settings = Settings.load({}, environ=sandbox.env(), dotenv_path=workdir / "no.env")

    health = check_production(settings, session)

    assert not health.ok and health.products_status == 401
    assert sandbox.vercel.seed_session["sessionId"] not in repr(health)
    assert health.auth["sessionId"].count("…") == 1


def test_deploy_prints_each_state_change_and_the_inspector_url_without_a_terminal(inv, sandbox, workdir):
    live_session(sandbox, workdir)
    assert inv("push.vercel").code == 0
    sandbox.options.deploy_seconds = 4.5  # QUEUED 1.5 s, BUILDING 3 s: long enough to be seen polling

    result = inv("deploy")  # output is a pipe, as in CI logs or `| tee`

    assert result.code == 0, result.output
    lines = result.stdout.splitlines()
    created = next(i for i, line in enumerate(lines) if "created (QUEUED)" in line)
    assert "https://vercel.com/" in lines[created]  # the inspector URL, as soon as it exists
    building = next(i for i, line in enumerate(lines) if "QUEUED → BUILDING" in line)
    ready = next(i for i, line in enumerate(lines) if "BUILDING → READY" in line)
    assert created < building < ready, result.stdout


def test_deploy_sees_ready_within_a_few_tenths_of_the_build_end(inv, sandbox, workdir):
    """The polls gather around the build time learnt from the project's last READY deployments
    (createdAt to ready): the first poll after the build ended came within 0.3 s of its end. Old:
    polls at 0.5, 1.25, 2.375 s…, so a 1.5 s build was seen READY at 2.375 s (0.9 s late)."""
    live_session(sandbox, workdir)
    assert inv("push.vercel").code == 0
    sandbox.options.deploy_seconds = 1.5  # the seed production deployment took 0.4 s (the fixture's builds)

    result = inv("deploy")

    assert result.code == 0, result.output
    (created,) = deployments_created(sandbox)
    dep = next(d for d in sandbox.vercel.deployments() if d["id"] == created["id"])
    ended = dep["ready"] / 1000
    polls = [r for r in sandbox.history.requests("vercel") if r["path"] == f"/v13/deployments/{created['id']}"]
    seen = min(r["t"] for r in polls if r["t"] >= ended)   # the first poll the stand-in answered READY
    assert seen - ended <= 0.3, (seen - ended, [round(r["t"] - created["t"], 2) for r in polls])
    assert len(polls) <= 30, len(polls)   # every 0.1 s at most

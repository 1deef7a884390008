"""Keeping the schedule alive: doctor's workflow checks, `inv monitor.enable`, `inv monitor.trigger`."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

from mtn_runbook.core.config import Settings
from mtn_runbook.services.workflow import workflow_checks

WF = "/repos/acme/mtn-app/actions/workflows/validate-mtn-session.yml"


def settings_for(sb) -> Settings:
    return Settings.load(environ=sb.env(), dotenv_path=Path("/nonexistent/.env"))


def by_name(checks) -> dict:
    return {c.name: c for c in checks}


def ago(hours: float) -> datetime:
    return datetime.now(timezone.utc) - timedelta(hours=hours)


def test_seeded_workflow_is_healthy(sandbox):
    checks = by_name(workflow_checks(settings_for(sandbox)))
    assert checks["monitor workflow"].ok and "active" in checks["monitor workflow"].detail
    assert checks["monitor schedule"].ok and "2.0 h ago" in checks["monitor schedule"].detail


def test_disabled_workflow_is_reported_with_the_fix(sandbox):
    for state in ("disabled_inactivity", "disabled_manually"):
        sandbox.github.set_workflow(state=state)
        check = by_name(workflow_checks(settings_for(sandbox)))["monitor workflow"]
        assert not check.ok and state in check.detail and "inv monitor.enable" in check.hint
        assert ("60 days" in check.detail) == (state == "disabled_inactivity")


def test_stale_and_failed_last_scheduled_run(sandbox):
    sandbox.github.set_workflow(last_run={"event": "schedule", "conclusion": "success", "created_at": ago(7)})
    check = by_name(workflow_checks(settings_for(sandbox)))["monitor schedule"]
    assert not check.ok and "7.0 h ago" in check.detail and "monitor.trigger" in check.hint

    sandbox.github.set_workflow(last_run={"event": "schedule", "conclusion": "failure", "created_at": ago(1)})
    check = by_name(workflow_checks(settings_for(sandbox)))["monitor schedule"]
    assert not check.ok and "ended failure" in check.detail

    # a manual run does not count as the schedule being alive
    sandbox.github.set_workflow(last_run={"event": "workflow_dispatch", "conclusion": "success", "created_at": ago(0.1)})
    check = by_name(workflow_checks(settings_for(sandbox)))["monitor schedule"]
    assert not check.ok and "ended failure" in check.detail


def test_bad_token_is_one_failed_check(sandbox):
    s = settings_for(sandbox).with_(github_token="wrong")
    (check,) = workflow_checks(s)
    assert not check.ok and "401" in check.detail and "GITHUB_TOKEN" in check.hint


def test_enable(sandbox, inv):
    sandbox.github.set_workflow(state="disabled_inactivity")
    r = inv("monitor.enable", "--check")
    assert r.code == 0 and "would enable validate-mtn-session.yml (now disabled_inactivity)" in r.output
    assert [q for q in sandbox.history.requests("github") if q["method"] != "GET"] == []
    assert sandbox.github.workflow()["state"] == "disabled_inactivity"

    r = inv("monitor.enable")
    assert r.code == 0 and "enabled validate-mtn-session.yml (was disabled_inactivity)" in r.output
    puts = [(q["method"], q["path"], q["status"]) for q in sandbox.history.requests("github") if q["method"] != "GET"]
    assert puts == [("PUT", f"{WF}/enable", 204)]
    assert sandbox.github.workflow()["state"] == "active"

    r = inv("monitor.enable")
    assert r.code == 0 and "already active: nothing to do" in r.output


def test_trigger(sandbox, inv):
    r = inv("monitor.trigger", "--check")
    assert r.code == 0 and "would start validate-mtn-session.yml on main" in r.output
    assert [q for q in sandbox.history.requests("github") if q["method"] != "GET"] == []
    sandbox.history.clear()

    r = inv("monitor.trigger")
    assert r.code == 0 and "started validate-mtn-session.yml on main" in r.output
    calls = [(q["method"], q["path"], q["status"]) for q in sandbox.history.requests("github")]
    assert calls == [("GET", "/repos/acme/mtn-app", 200), ("POST", f"{WF}/dispatches", 204)]
    assert sandbox.history.events("github", "workflow.dispatch")  # the stand-in accepted ref "main"
    newest = sandbox.github.runs()[0]
    assert newest["event"] == "workflow_dispatch" and newest["status"] in ("queued", "in_progress", "completed")

    r = inv("monitor.trigger", "--ref", "no-such-branch")
    assert r.code == 1 and "No ref found for: no-such-branch" in r.output

    sandbox.github.set_workflow(state="disabled_manually")
    r = inv("monitor.trigger")
    assert r.code == 1 and "disabled workflow" in r.output

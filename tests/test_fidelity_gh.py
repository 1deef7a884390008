"""The real `gh` against the GitHub stand-in (as a GitHub Enterprise host over HTTPS): every
command the guide and the runbooks use works, and the stand-in's state shows what it did."""

from __future__ import annotations

import json

import pytest

from clients import gh

pytestmark = [pytest.mark.timeout(300), pytest.mark.tls]


def test_secret_set_and_list_for_the_repository(sandbox, tmp_path):
    value = "c2Vzc2lvbi12YWx1ZQ=="   # any value: the stand-in opens the sealed box gh made
    done = gh(sandbox, tmp_path, "secret", "set", "MTN_SESSION", stdin=value)
    assert done.returncode == 0, done.stderr
    assert sandbox.github.secret_value("MTN_SESSION") == value
    put = sandbox.history.events("github", "secret.put")[-1]
    assert put["name"] == "MTN_SESSION" and put["environment"] is None and put["created"] is False
    listed = gh(sandbox, tmp_path, "secret", "list")
    assert listed.returncode == 0 and listed.stdout.split()[0] == "MTN_SESSION"


def test_secret_set_and_list_for_an_environment(sandbox, tmp_path):
    done = gh(sandbox, tmp_path, "secret", "set", "MTN_SESSION", "--env", "production", stdin="env-value")
    assert done.returncode == 0, done.stderr
    assert sandbox.github.secret_value("MTN_SESSION", "production") == "env-value"
    assert sandbox.github.secret_value("MTN_SESSION") == sandbox.vercel.seed_value   # the repo secret is untouched
    listed = gh(sandbox, tmp_path, "secret", "list", "--env", "production")
    assert listed.returncode == 0 and "MTN_SESSION" in listed.stdout
    missing = gh(sandbox, tmp_path, "secret", "set", "MTN_SESSION", "--env", "staging", stdin="x")
    assert missing.returncode != 0 and sandbox.github.secret_value("MTN_SESSION", "staging") is None


def test_issue_create_and_list(sandbox, tmp_path):
    made = gh(sandbox, tmp_path, "issue", "create", "--title", "MTN session expired", "--body", "from gh",
              "--label", "mtn-session")
    assert made.returncode == 0, made.stderr
    assert made.stdout.strip().endswith("/issues/3")
    stored = sandbox.github.issues()[-1]
    assert stored["title"] == "MTN session expired" and stored["body"] == "from gh"
    assert [label["name"] for label in stored["labels"]] == ["mtn-session"]
    listed = gh(sandbox, tmp_path, "issue", "list", "--label", "mtn-session", "--json", "number,title,state")
    assert listed.returncode == 0, listed.stderr
    assert json.loads(listed.stdout) == [{"number": 3, "title": "MTN session expired", "state": "OPEN"}]  # no PR #1
    every = gh(sandbox, tmp_path, "issue", "list", "--state", "all", "--json", "number")
    assert sorted(i["number"] for i in json.loads(every.stdout)) == [2, 3]


def test_workflow_enable_run_view_and_run_list(sandbox, tmp_path):
    sandbox.github.set_workflow(state="disabled_inactivity")
    sandbox.options.run_seconds = 60
    enabled = gh(sandbox, tmp_path, "workflow", "enable", "validate-mtn-session.yml")
    assert enabled.returncode == 0, enabled.stderr
    assert sandbox.github.workflow()["state"] == "active"
    started = gh(sandbox, tmp_path, "workflow", "run", "validate-mtn-session.yml")   # no --ref: GraphQL default branch
    assert started.returncode == 0, started.stderr
    newest = sandbox.github.runs()[0]
    assert newest["event"] == "workflow_dispatch" and newest["head_branch"] == "main"
    viewed = gh(sandbox, tmp_path, "workflow", "view", "validate-mtn-session.yml")
    assert viewed.returncode == 0 and "Validate MTN session" in viewed.stdout and "workflow_dispatch" in viewed.stdout
    runs = gh(sandbox, tmp_path, "run", "list", "--json", "event,headBranch,status")
    assert runs.returncode == 0, runs.stderr
    assert json.loads(runs.stdout)[0] == {"event": "workflow_dispatch", "headBranch": "main", "status": "queued"}


def test_workflow_run_with_undeclared_inputs_is_refused(sandbox, tmp_path):
    before = len(sandbox.github.runs())
    refused = gh(sandbox, tmp_path, "workflow", "run", "validate-mtn-session.yml", "--ref", "main", "-f", "force=true")
    assert refused.returncode != 0 and "Unexpected inputs provided" in refused.stderr
    assert len(sandbox.github.runs()) == before

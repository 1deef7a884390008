"""The real `vercel` CLI (pinned, from npm) against the Vercel stand-in: the guide's commands work,
and the stand-in's state shows what each one did."""

from __future__ import annotations

import time

import pytest

from clients import vercel

pytestmark = pytest.mark.timeout(300)


def mtn_vars(sandbox) -> list[dict]:
    return [e for e in sandbox.vercel.env_vars() if e["key"] == "MTN_SESSION"]


def test_env_ls_lists_the_var_without_its_value(sandbox, tmp_path):
    done = vercel(sandbox, tmp_path, "env", "ls")
    assert done.returncode == 0, done.stderr
    line = next(row for row in done.stdout.splitlines() if "MTN_SESSION" in row)
    assert "Production" in line and "Preview" in line
    assert sandbox.vercel.seed_value[:20] not in done.stdout + done.stderr


def test_env_rm_takes_production_off_and_env_add_reads_stdin(sandbox, tmp_path):
    """The guide's rm-then-add: production is without the var in between, preview keeps the old one."""
    seed = sandbox.vercel.seed_value
    removed = vercel(sandbox, tmp_path, "env", "rm", "MTN_SESSION", "production", "--yes")
    assert removed.returncode == 0, removed.stderr
    assert sandbox.vercel.env_value("MTN_SESSION", "production") is None
    assert sandbox.vercel.env_value("MTN_SESSION", "preview") == seed

    added = vercel(sandbox, tmp_path, "env", "add", "MTN_SESSION", "production", stdin="fresh-session-value")
    assert added.returncode == 0, added.stderr
    assert sandbox.vercel.env_value("MTN_SESSION", "production") == "fresh-session-value"
    assert sandbox.vercel.env_value("MTN_SESSION", "preview") == seed      # silently left on the old value
    assert len(mtn_vars(sandbox)) == 2
    changes = sandbox.history.events("vercel", "env.change")
    assert [(c["action"], c["production_has"]) for c in changes] == [("update", False), ("create", True)]


def test_env_add_over_an_existing_var_is_refused_and_changes_nothing(sandbox, tmp_path):
    before = mtn_vars(sandbox)
    refused = vercel(sandbox, tmp_path, "env", "add", "MTN_SESSION", "production", stdin="other")
    assert refused.returncode != 0 and "already exists" in refused.stderr
    assert mtn_vars(sandbox) == before


def test_env_add_with_an_empty_stdin_exits_0_and_stores_nothing(sandbox, tmp_path):
    """A hazard of the guide's procedure, seen with CLI 60.1.3: given nothing on stdin, `env add`
    asks for a type, gets no answer, and exits 0 without a request: success, and no var."""
    added = vercel(sandbox, tmp_path, "env", "add", "EMPTY_ONE", "production", stdin="")
    assert added.returncode == 0
    assert sandbox.vercel.env_value("EMPTY_ONE", "production") is None
    assert not [r for r in sandbox.history.requests("vercel") if r["method"] != "GET"]


def test_redeploy_to_production_serves_the_new_env(sandbox, tmp_path):
    sandbox.vercel.set_env("MTN_SESSION", "next-session")
    old = sandbox.vercel.production_deployment()
    done = vercel(sandbox, tmp_path, "redeploy", old["url"], "--target", "production")
    assert done.returncode == 0, done.stderr
    deadline = time.monotonic() + 15
    while sandbox.vercel.production_deployment()["id"] == old["id"] and time.monotonic() < deadline:
        time.sleep(0.05)
    new = sandbox.vercel.production_deployment()
    assert new["id"] != old["id"] and new["readyState"] == "READY" and new["target"] == "production"
    assert new["meta"]["action"] == "redeploy" and new["meta"]["redeployedFrom"] == old["id"]
    assert sandbox.vercel.production_env()["MTN_SESSION"] == "next-session"

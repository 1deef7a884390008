"""push.vercel against the Vercel stand-in: the stored value, in place, never without production."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from mtn_runbook.core.config import Settings
from mtn_runbook.core.console import Console
from mtn_runbook.core.errors import ConfigError
from mtn_runbook.core.pushed import for_push
from mtn_runbook.core.session import Session, save
from mtn_runbook.targets import Current, push
from mtn_runbook.targets.pushing import push_one
from mtn_runbook.targets.vercel import VercelTarget

ENV_PATH = r"/v9/projects/[^/]+/env/[^/]+"


def live_session(sandbox, workdir: Path) -> Session:
    """A live session saved to the session file; returns the value a push sends for it: the
    API host's cookies, expiresAt = the app's gate (core/pushed.py)."""
    pushed = for_push(Session.from_dict(sandbox.mtn.mint_session(), "sandbox"), sandbox.urls["mtn_api"], 48)
    save(workdir / ".cache" / "mtn-session.json", pushed.session)
    return pushed.app


def settings_for(sandbox, workdir: Path) -> Settings:
    return Settings.load({}, environ={**sandbox.env(), "MTN_SESSION_FILE": str(workdir / ".cache/mtn-session.json")},
                         dotenv_path=workdir / "no.env")


def mtn_vars(sandbox) -> list[dict]:
    return [v for v in sandbox.vercel.env_vars() if v["key"] == "MTN_SESSION"]


def writes(sandbox) -> list[dict]:
    return [r for r in sandbox.history.requests("vercel") if r["method"] in ("POST", "PATCH", "DELETE", "PUT")]


def test_push_stores_the_exported_value_in_place(inv, sandbox, workdir):
    session = live_session(sandbox, workdir)
    (seed,) = mtn_vars(sandbox)

    result = inv("push.vercel")

    assert result.code == 0, result.output
    assert sandbox.vercel.env_value("MTN_SESSION", "production") == session.encode()
    # the seed var also targets preview: edited in place, preview gets the new value too
    assert sandbox.vercel.env_value("MTN_SESSION", "preview") == session.encode()
    (after,) = mtn_vars(sandbox)
    assert (after["id"], after["type"], sorted(after["target"])) == (seed["id"], "encrypted", ["preview", "production"])
    assert "✔ vercel prj_sandbox (production)" in result.output and "read back" in result.output
    changes = sandbox.history.events("vercel", "env.change")
    assert changes and all(c["production_has"] for c in changes)
    assert not [c for c in changes if c["action"] == "delete"]


def test_second_push_says_it_already_holds_it(inv, sandbox, workdir):
    live_session(sandbox, workdir)
    assert inv("push.vercel").code == 0
    before = len(writes(sandbox))

    again = inv("push.vercel")

    assert again.code == 0, again.output
    assert "already holds it" in again.output
    assert len(writes(sandbox)) == before


def test_no_redeploy_is_asked_when_only_the_github_secret_changed(inv, sandbox, workdir):
    """Walked: `inv push` said "next: `inv deploy`" when Vercel already held the value and only the
    GitHub secret changed; a redeploy would change nothing production reads."""
    live_session(sandbox, workdir)
    first = inv("push.vercel")
    assert first.code == 0 and "next: `inv deploy`" in first.output, first.output

    both = inv("push")

    assert both.code == 0, both.output
    assert "1 of 2 target(s) updated, 1 already held it" in both.output
    assert "inv deploy" not in both.output


def test_sensitive_stays_sensitive(inv, sandbox, workdir):
    session = live_session(sandbox, workdir)
    sandbox.vercel.set_env("MTN_SESSION", sandbox.vercel.seed_value, type="sensitive", target=["production", "preview"])

    result = inv("push.vercel")

    assert result.code == 0, result.output
    (var,) = mtn_vars(sandbox)
    assert var["type"] == "sensitive"
    assert sandbox.vercel.env_value("MTN_SESSION") == session.encode()
    assert "updatedAt moved" in result.output
    # a sensitive value cannot be read back, so a second push puts it again (and still keeps the type)
    again = inv("push.vercel")
    assert again.code == 0 and "already holds it" not in again.output
    assert mtn_vars(sandbox)[0]["type"] == "sensitive"
    assert all(c["production_has"] for c in sandbox.history.events("vercel", "env.change"))


def test_configured_environments_create_what_is_missing(inv, sandbox, workdir):
    session = live_session(sandbox, workdir)
    config = workdir / "invoke.yaml"
    config.write_text(yaml.safe_dump({"targets": [
        {"kind": "vercel", "project": "prj_sandbox", "team": "team_sandbox",
         "environments": ["production", "development"]}]}))

    result = inv("-f", str(config), "push.vercel", env={"VERCEL_PROJECT_ID": None, "VERCEL_TEAM_ID": None})

    assert result.code == 0, result.output
    for env in ("production", "preview", "development"):
        assert sandbox.vercel.env_value("MTN_SESSION", env) == session.encode()
    created = [v for v in mtn_vars(sandbox) if v["target"] == ["development"]]
    assert created and created[0]["type"] == "encrypted"
    assert all(c["production_has"] for c in sandbox.history.events("vercel", "env.change"))


def test_check_sends_no_write(inv, sandbox, workdir):
    live_session(sandbox, workdir)

    result = inv("push.vercel", "--check")

    assert result.code == 0, result.output
    assert "would update MTN_SESSION in place" in result.output
    assert writes(sandbox) == []
    assert sandbox.vercel.env_value("MTN_SESSION") == sandbox.vercel.seed_value


def test_a_429_with_retry_after_is_survived(inv, sandbox, workdir):
    session = live_session(sandbox, workdir)
    sandbox.faults.add(service="vercel", method="PATCH", path=ENV_PATH, status=429, retry_after=1)

    result = inv("push.vercel")

    assert result.code == 0, result.output
    assert sandbox.vercel.env_value("MTN_SESSION") == session.encode()
    patches = [r for r in writes(sandbox) if r["method"] == "PATCH"]
    assert [p["status"] for p in patches] == [429, 200]


def test_a_429_on_create_is_survived(inv, sandbox, workdir):
    session = live_session(sandbox, workdir)
    config = workdir / "invoke.yaml"
    config.write_text(yaml.safe_dump({"targets": [{"kind": "vercel", "environments": ["development"]}]}))
    sandbox.faults.add(service="vercel", method="POST", path=r"/v10/projects/[^/]+/env", status=429, retry_after=1)

    result = inv("-f", str(config), "push.vercel")

    assert result.code == 0, result.output
    assert sandbox.vercel.env_value("MTN_SESSION", "development") == session.encode()
    assert [r["status"] for r in writes(sandbox)] == [429, 201]


def test_bad_token_fails_at_once_naming_the_variable(inv, sandbox, workdir):
    live_session(sandbox, workdir)

    result = inv("push.vercel", env={"VERCEL_TOKEN": "not-the-token"})

    assert result.code == 2, result.output
    assert "vercel prj_sandbox (production)" in result.output and "VERCEL_TOKEN" in result.output
    assert len(sandbox.history.requests("vercel")) == 1  # a 403 is not retried
    assert sandbox.vercel.env_value("MTN_SESSION") == sandbox.vercel.seed_value


def test_missing_team_names_project_and_team_variables(inv, sandbox, workdir):
    live_session(sandbox, workdir)

    result = inv("push.vercel", env={"VERCEL_TEAM_ID": None})

    assert result.code == 2, result.output
    assert "VERCEL_PROJECT_ID" in result.output and "VERCEL_TEAM_ID" in result.output


def test_an_expired_session_is_never_pushed(inv, sandbox, workdir):
    live_session(sandbox, workdir)
    sandbox.mtn.expire()

    result = inv("push")

    assert result.code == 3, result.output
    assert "not pushing" in result.output
    # the targets may be read while the session is validated (read-only); nothing is written anywhere
    assert writes(sandbox) == [] and not [r for r in sandbox.history.requests("github") if r["method"] != "GET"]


def test_stored_value_never_ends_in_whitespace(sandbox, workdir):
    session = live_session(sandbox, workdir)
    s = settings_for(sandbox, workdir)

    results = push(s, session.encode() + "\n", console=Console(), kind="vercel")

    assert [r.outcome for r in results] == ["changed"]
    assert sandbox.vercel.env_value("MTN_SESSION") == session.encode()
    with pytest.raises(ConfigError):
        push(s, " \n", console=Console(), kind="vercel")


def test_a_create_that_failed_is_reported_with_vercels_reason(sandbox, workdir):
    """Two vars already cover the environments being created: every item fails, and Vercel answers
    400 ENV_CONFLICT (a 201 carries `failed[]` only when some items were created)."""
    session = live_session(sandbox, workdir)
    sandbox.vercel.set_env("MTN_SESSION", "dev-value", target=["development"])

    class Racing(VercelTarget):
        def read(self, value: str) -> Current:  # as if both appeared after the look
            return Current(False, "create", {"edits": [], "missing": ["development", "preview"], "before": {}})

    result = push_one(Racing(settings_for(sandbox, workdir), project="prj_sandbox", team="team_sandbox"),
                      session.encode())

    assert result.outcome == "failed" and result.exit_code == 1
    assert "ENV_CONFLICT" in result.detail and "did not create MTN_SESSION" in result.detail

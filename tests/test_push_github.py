"""push.github against the GitHub stand-in, and push to every target at once."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import pytest
import yaml

from mtn_runbook.core.config import Settings
from mtn_runbook.core.errors import ServiceError
from mtn_runbook.core.journal import Journal
from mtn_runbook.core.pushed import for_push
from mtn_runbook.core.session import Session, save
from mtn_runbook.targets import Current
from mtn_runbook.targets.github import GithubTarget

SECRET_PUT = r"/repos/acme/mtn-app/.*secrets/MTN_SESSION"


def live_session(sandbox, workdir: Path) -> Session:
    """A live session saved to the session file; returns the value a push sends for it: the
    API host's cookies, expiresAt = the app's gate (core/pushed.py)."""
    pushed = for_push(Session.from_dict(sandbox.mtn.mint_session(), "sandbox"), sandbox.urls["mtn_api"], 48)
    save(workdir / ".cache" / "mtn-session.json", pushed.session)
    return pushed.app


def puts(sandbox) -> list[dict]:
    return [r for r in sandbox.history.requests("github") if r["method"] == "PUT"]


def test_push_stores_the_exported_value(inv, sandbox, workdir):
    session = live_session(sandbox, workdir)

    result = inv("push.github")

    assert result.code == 0, result.output
    assert sandbox.github.secret_value("MTN_SESSION") == session.encode()
    assert "✔ github acme/mtn-app (repository secret)" in result.output


def test_environment_secrets_when_configured(inv, sandbox, workdir):
    session = live_session(sandbox, workdir)
    config = workdir / "invoke.yaml"
    config.write_text(yaml.safe_dump({"targets": [
        {"kind": "github", "repository": "acme/mtn-app", "environments": ["production"]}]}))

    result = inv("-f", str(config), "push.github")

    assert result.code == 0, result.output
    assert sandbox.github.secret_value("MTN_SESSION") == session.encode()
    assert sandbox.github.secret_value("MTN_SESSION", environment="production") == session.encode()
    assert "(environment production)" in result.output


def test_second_push_puts_again_and_holds_the_same_value(inv, sandbox, workdir):
    session = live_session(sandbox, workdir)
    assert inv("push.github").code == 0

    again = inv("push.github")

    # GitHub never returns a secret's value, so "already holds it" cannot be known: it is put again
    assert again.code == 0, again.output
    assert len(puts(sandbox)) == 2
    assert sandbox.github.secret_value("MTN_SESSION") == session.encode()


def test_a_500_on_the_secret_put_is_survived(inv, sandbox, workdir):
    session = live_session(sandbox, workdir)
    sandbox.faults.add(service="github", method="PUT", path=SECRET_PUT, status=500)

    result = inv("push.github")

    assert result.code == 0, result.output
    assert [r["status"] for r in puts(sandbox)] == [500, 204]
    assert sandbox.github.secret_value("MTN_SESSION") == session.encode()


def test_bad_token_fails_at_once_naming_the_variable(inv, sandbox, workdir):
    live_session(sandbox, workdir)

    result = inv("push.github", env={"GITHUB_TOKEN": "ghp_wrong"})

    assert result.code == 2, result.output
    assert "github acme/mtn-app" in result.output and "GITHUB_TOKEN" in result.output
    # a 401 is not retried: the public key and the secret's metadata are asked for once each, at once
    paths = [r["path"] for r in sandbox.history.requests("github")]
    assert len(paths) == len(set(paths)) <= 2, paths


@pytest.mark.parametrize("entry, names", [
    ({"kind": "github", "repository": "acme/other"}, "GITHUB_REPOSITORY"),
    ({"kind": "github", "repository": "acme/mtn-app", "repository_secret": False, "environments": ["staging"]},
     "environment staging exists"),
])
def test_unknown_repository_or_environment_names_what_to_fix(inv, sandbox, workdir, entry, names):
    live_session(sandbox, workdir)
    config = workdir / "invoke.yaml"
    config.write_text(yaml.safe_dump({"targets": [entry]}))

    result = inv("-f", str(config), "push.github")

    assert result.code == 2, result.output
    assert names in result.output and not puts(sandbox)


def test_one_failure_does_not_stop_the_others(inv, sandbox, workdir):
    session = live_session(sandbox, workdir)
    sandbox.faults.add(service="github", method="PUT", path=SECRET_PUT, status=400)

    result = inv("push")

    assert result.code == 1, result.output
    assert sandbox.vercel.env_value("MTN_SESSION") == session.encode()
    assert "✘ github acme/mtn-app (repository secret)" in result.output
    assert "push failed for 1 of 2 target(s): github acme/mtn-app (repository secret)" in result.output
    journal = Journal(workdir / ".cache" / "journal.jsonl")
    outcomes = {e["target"]: (e["outcome"], e["fingerprint"]) for e in journal.entries("push")}
    assert outcomes == {"vercel prj_sandbox (production)": ("changed", session.fingerprint),
                        "github acme/mtn-app (repository secret)": ("failed", session.fingerprint)}


def test_only_configuration_failures_exit_2(inv, sandbox, workdir):
    live_session(sandbox, workdir)

    result = inv("push", env={"GITHUB_TOKEN": "ghp_wrong", "VERCEL_TOKEN": "wrong"})

    assert result.code == 2, result.output
    assert "push failed for 2 of 2" in result.output


def test_check_sends_no_put(inv, sandbox, workdir):
    live_session(sandbox, workdir)
    stored = sandbox.github.secret_value("MTN_SESSION")

    result = inv("push", "--check")

    assert result.code == 0, result.output
    assert "would update secret MTN_SESSION of acme/mtn-app" in result.output
    assert not puts(sandbox)
    assert sandbox.github.secret_value("MTN_SESSION") == stored


def _when(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=timezone.utc)


@pytest.mark.parametrize("before, read_at, after, ok", [
    (None, "2030-01-01T10:00:05", "2030-01-01T10:00:05", True),                    # created
    ("2030-01-01T09:00:00", "2030-01-01T10:00:05", "2030-01-01T10:00:05", True),   # moved
    ("2030-01-01T09:00:00", "2030-01-01T10:00:05", "2030-01-01T09:00:00", False),  # did not move
    ("2030-01-01T10:00:05", "2030-01-01T10:00:05", "2030-01-01T10:00:05", True),   # same second: >=
    ("2030-01-01T10:00:04", "2030-01-01T10:00:05", "2030-01-01T10:00:04", False),  # a second older: caught
])
def test_updated_at_has_second_precision(before, read_at, after, ok):
    target = GithubTarget(Settings(), repository="o/r")
    target._meta = lambda: ({"name": "MTN_SESSION", "updated_at": after + "Z"}, None)
    current = Current(None, "", {"before": before and _when(before), "read_at": _when(read_at).replace(microsecond=250000)})
    if ok:
        assert target.verify("v", current).startswith("stored")
    else:
        with pytest.raises(ServiceError, match="did not move"):
            target.verify("v", current)

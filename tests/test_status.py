"""`inv status`: a headline verdict with its exit code, and only the targets configured now."""

from __future__ import annotations

import json

from mtn_runbook.core import session as sessions
from mtn_runbook.core.journal import Journal

TYPO = "vercel prj_typo (production)"


def save_minted(sandbox, workdir) -> sessions.Session:
    minted = sessions.Session.from_dict(sandbox.mtn.mint_session(), "minted")
    sessions.save(workdir / ".cache" / "mtn-session.json", minted)
    return minted


def test_status_is_red_and_exits_3_when_the_last_validation_saw_the_session_expired(inv, sandbox, workdir):
    save_minted(sandbox, workdir)
    sandbox.mtn.expire()
    assert inv("validate").code == 3

    result = inv("status")

    assert result.code == 3, result.output
    assert result.stdout.splitlines()[0].startswith("✘ the last validation"), result.stdout
    assert "saw the session expired" in result.stdout
    data = json.loads(inv("status", "--json").stdout)
    assert data["verdict"]["state"] == "failed" and data["verdict"]["exitCode"] == 3


def test_status_warns_when_the_session_was_never_validated(inv, sandbox, workdir):
    save_minted(sandbox, workdir)

    result = inv("status")

    assert result.code == 0, result.output
    assert result.stdout.splitlines()[0].startswith("⚠ this session has not been validated yet"), result.stdout


def test_status_is_green_once_validated_and_pushed_everywhere(inv, sandbox, workdir):
    save_minted(sandbox, workdir)
    assert inv("push").code == 0
    assert inv("validate").code == 0

    result = inv("status")

    assert result.code == 0, result.output
    assert result.stdout.splitlines()[0].startswith("✔ session "), result.stdout
    assert "every configured target holds it" in result.stdout


def test_status_lists_only_the_targets_configured_now(inv, sandbox, workdir):
    save_minted(sandbox, workdir)
    assert inv("push").code == 0
    Journal(workdir / ".cache" / "journal.jsonl").write("push", target=TYPO, target_kind="vercel",
                                                         outcome="failed", detail="404", seconds=0.1)

    result = inv("status", "--json")

    data = json.loads(result.stdout)
    assert {t["target"] for t in data["targets"]} == {"vercel prj_sandbox (production)",
                                                      "github acme/mtn-app (repository secret)"}
    assert TYPO not in inv("status").stdout

"""Issue 12 item 12: the alert issue's follow-up steps work as written, and recover's verify
gives production the same 30 s that `inv deploy` does before saying "Not recovered"."""

from __future__ import annotations

import json
import re
import shlex

import httpx

from mtn_runbook.core import session as sessions
from mtn_runbook.core.session import Session

from test_monitor import mtn_issues, serve_in_production


def save(workdir, session: Session) -> None:
    sessions.save(workdir / ".cache" / "mtn-session.json", session)


def test_the_issues_step_2_works_locally_after_a_recover_despite_a_stale_env(sandbox, inv, workdir):
    old = Session.from_dict(sandbox.mtn.mint_session(), "minted").extended(24)
    serve_in_production(sandbox, old.encode())
    save(workdir, old)
    sandbox.mtn.expire(old.session_id)                       # the outage
    stale = {"MTN_SESSION": old.encode()}                    # what a local .env still holds
    alert = inv("monitor", env=stale, allow=(old.encode(),))
    assert alert.code == 3, alert.output
    issue = max(mtn_issues(sandbox), key=lambda i: i["number"])

    recovered = inv("recover", "--headless", "--timeout", "60", env=stale, allow=(old.encode(),))
    assert recovered.code == 0, recovered.output

    commands = re.findall(r"^\s+(inv [^\n`]+)$", issue["body"], re.MULTILINE)
    assert commands[0] == "inv recover" and commands[1].startswith("inv monitor --file ")
    step2 = inv(*shlex.split(commands[1])[1:], env=stale, allow=(old.encode(),))
    assert step2.code == 0, step2.output                      # old: exit 3 (or 2 without MTN_SESSION)
    issue = next(i for i in mtn_issues(sandbox) if i["number"] == issue["number"])
    assert issue["state"] == "closed"
    assert not any("Still unhealthy" in c["body"] for c in sandbox.github.comments(issue["number"]))


def test_recovers_verify_waits_out_one_stale_answer(sandbox, inv, workdir):
    # expiresAt 48 h ahead, as a push sets the app's gate: verify fails one under 24 h away
    session = Session.from_dict(sandbox.mtn.mint_session(), "minted").extended(48)
    save(workdir, session)
    serve_in_production(sandbox, session.encode())
    stale = {"success": True, "authenticated": True, "sessionId": "0" * 32, "expiresAt": "2030-01-01T00:00:00.000Z",
             "cookiesCount": 4, "error": None}                # the app answering from the old deployment
    reply = httpx.post(f"{sandbox.urls['admin']}/admin/faults", timeout=10, json={
        "service": "app", "method": "GET", "path": "/api/mtn-wholesale/auth", "body": stale})
    assert reply.status_code == 201
    result = inv("recover", "--from", "verify")
    assert result.code == 0, result.output                    # old: "Not recovered", exit 1
    assert "… not yet: auth: production runs session 0000…0000" in result.output
    assert "Time to recover:" in result.output
    runs = [json.loads(line) for line in (workdir / ".cache" / "journal.jsonl").read_text().splitlines()]
    assert [e for e in runs if e["kind"] == "run"][-1]["outcome"] == "done"

"""`inv validate` and the lifespan ledger (issue 11, start-up): the verdict is printed before the
ledger is touched, and validate makes only the GitHub calls its observation needs
(lifespan/observe.py). The ledger is the sandbox's GitHub issue; each test asserts on the calls the
stand-in received and on the issue's body afterwards."""

from __future__ import annotations

import json
import os
import subprocess
from datetime import timedelta

import pytest
from conftest import BIN

from mtn_runbook.core import apis
from mtn_runbook.core import session as sessions
from mtn_runbook.core.config import Settings
from mtn_runbook.core.session import Session
from mtn_runbook.core.times import now, parse_time
from mtn_runbook.lifespan import ledger_view
from mtn_runbook.lifespan.ledger_issue import IssueStore
from mtn_runbook.lifespan.ledger_lines import entry


@pytest.fixture
def minted(sandbox, workdir) -> Session:
    session = Session.from_dict(sandbox.mtn.mint_session(), "minted")
    sessions.save(workdir / ".cache" / "mtn-session.json", session)
    return session


REPO = "/repos/acme/mtn-app"


def github_calls(sandbox) -> list[tuple[str, str]]:
    return [(r["method"], r["path"].rsplit("/", 1)[-1] if "/comments/" in r["path"] else r["path"])
            for r in sandbox.history.requests("github")]


def ledger_issue(sandbox) -> dict:
    (issue,) = [i for i in sandbox.github.issues() if [x["name"] for x in i["labels"]] == ["mtn-ledger"]]
    return issue


def ledger_body(sandbox) -> list[dict]:
    return [json.loads(x) for x in ledger_issue(sandbox)["body"].split("```jsonl\n")[1].split("```")[0].splitlines()]


def reads(sandbox) -> list[tuple[str, str]]:
    """What reading the ledger takes: the issues list, then the issue's comments, then its body."""
    number = ledger_issue(sandbox)["number"]
    return [("GET", f"{REPO}/issues"), ("GET", f"{REPO}/issues/{number}/comments"), ("GET", f"{REPO}/issues/{number}")]


def seen_alive(sandbox, session: Session, hours_ago: float) -> None:
    """The ledger already holds `session`, last seen alive `hours_ago` (another runner saw it)."""
    settings = Settings.load(environ=sandbox.env(), use_dotenv=False)
    with apis.github(settings) as api:
        IssueStore(api, sandbox.options.github_repository, ledger_view).append(
            [entry("alive", session, by="ci@runner", every=60, at=now() - timedelta(hours=hours_ago))])
    sandbox.history.clear()


def test_a_new_session_is_commented_and_folded_into_the_ledger(inv, sandbox, minted):
    result = inv("validate")
    assert result.code == 0, result.output
    (record,) = ledger_body(sandbox)
    assert record["fps"] == [minted.fingerprint] and record["lastAlive"]
    assert sandbox.github.comments(ledger_issue(sandbox)["number"]) == []   # folded, then deleted


def test_a_session_seen_alive_within_the_hour_is_only_read(inv, sandbox, minted):
    seen_alive(sandbox, minted, hours_ago=0.5)
    before = ledger_body(sandbox)
    result = inv("validate")
    assert result.code == 0, result.output
    assert github_calls(sandbox) == reads(sandbox)   # before: the fold read both again and PATCHed the body
    assert ledger_body(sandbox) == before


def test_a_session_seen_alive_earlier_is_folded_from_the_read_just_made(inv, sandbox, minted):
    seen_alive(sandbox, minted, hours_ago=2)
    (before,) = ledger_body(sandbox)
    result = inv("validate")
    assert result.code == 0, result.output
    issue = f"{REPO}/issues/{ledger_issue(sandbox)['number']}"
    # the read is reused (before: comments and body read twice); only the body is read once more,
    # just before the write, so a concurrent fold's body is merged, not overwritten
    assert github_calls(sandbox) == [*reads(sandbox), ("GET", issue), ("PATCH", issue)]
    (after,) = ledger_body(sandbox)
    assert parse_time(after["lastAlive"], "t") - parse_time(before["lastAlive"], "t") > timedelta(hours=1.9)


def test_an_expired_session_is_recorded_dead(inv, sandbox, minted):
    seen_alive(sandbox, minted, hours_ago=2)
    sandbox.mtn.expire()
    result = inv("validate")
    assert result.code == 3, result.output
    (record,) = ledger_body(sandbox)
    assert record["firstDead"] and sandbox.github.comments(ledger_issue(sandbox)["number"]) == []


def test_an_api_error_leaves_the_ledger_unread(inv, sandbox, minted):
    """An API error says nothing about the session: nothing to record, no warning to weigh."""
    sandbox.faults.add(service="mtn_api", method="GET", path="/api/v1/feasibility/.*", status=503, count=-1)
    result = inv("validate")
    assert result.code == 1, result.output
    assert github_calls(sandbox) == []


def test_the_verdict_is_printed_before_the_ledger_answers(sandbox, minted, workdir, tasks_root, home):
    """The ledger's first call is held for 20 s: the verdict line arrives before GitHub has answered anything."""
    sandbox.faults.add(service="github", method="GET", path=f"{REPO}/issues", delay=20, count=1)
    env = {"PATH": f"{BIN}:{os.environ.get('PATH', '/usr/bin:/bin')}", "HOME": str(home), "LANG": "C.UTF-8",
           "PYTHONUNBUFFERED": "1", **sandbox.env()}
    proc = subprocess.Popen([str(BIN / "inv"), "--search-root", str(tasks_root), "validate"], cwd=workdir, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        first = proc.stdout.readline()
        answered = [r["path"] for r in sandbox.history.requests("github") if r["status"] is not None]
        assert first.startswith("✔ valid — MTN API accepts the session"), first
        assert answered == []   # before: no line until every ledger call had answered
    finally:
        proc.kill()
        proc.wait()
        proc.stdout.close()
        proc.stderr.close()


def test_the_ledger_entry_names_no_secret(inv, sandbox, minted):
    assert inv("validate").code == 0
    body = ledger_issue(sandbox)["body"]
    assert minted.encode() not in body and all(c["value"] not in body for c in minted.cookies)


def test_without_github_the_ledger_is_the_local_file(inv, sandbox, minted, workdir):
    """No GITHUB_TOKEN: `.cache/ledger.jsonl`, and no call to GitHub at all."""
    env = {"GITHUB_TOKEN": None, "GITHUB_REPOSITORY": None}
    for _ in range(2):
        result = inv("validate", env=env)
        assert result.code == 0, result.output
        assert "not recorded" not in result.output
    lines = [json.loads(x) for x in (workdir / ".cache" / "ledger.jsonl").read_text().splitlines()]
    assert [x["event"] for x in lines] == ["alive"] and lines[0]["fp"] == minted.fingerprint   # the second: within the hour
    assert github_calls(sandbox) == []


def test_past_its_tracked_expiry_a_session_the_ledger_holds_costs_no_call(inv, sandbox, workdir):
    """Its tracked expiry passed, so no warning weighs lifespans; this machine's journal says the
    ledger held it alive within the hour: the second validate calls GitHub not at all."""
    import dataclasses

    session = Session.from_dict(sandbox.mtn.mint_session(), "minted")
    session = dataclasses.replace(session, expires_at=now() - timedelta(minutes=5))
    sessions.save(workdir / ".cache" / "mtn-session.json", session)
    first = inv("validate")
    assert first.code == 0 and "✔ valid_tracked_expired" in first.output, first.output
    (record,) = ledger_body(sandbox)
    assert record["fps"] == [session.fingerprint]
    sandbox.history.clear()
    second = inv("validate")
    assert second.code == 0 and "✔ valid_tracked_expired" in second.output, second.output
    assert github_calls(sandbox) == []      # before: the issues list, the comments and the body
    noted = [json.loads(x) for x in (workdir / ".cache" / "journal.jsonl").read_text().splitlines()]
    assert [e["session"] for e in noted if e["kind"] == "ledger"] == [record["session"]]

"""The alert issue follows the incident state: alert_plan.plan, the pure decision (fast), then the
same walks end to end against the sandbox's GitHub issues.

Walked: refresh due, then unhealthy, commented `Still unhealthy` on the issue titled *refresh due*;
after `inv recover` the *unhealthy* issue stayed open, got a refresh-due comment and webhook, and
never a "recovered"; a prompt was marked as sent in the ledger when nothing had been sent."""

from __future__ import annotations

import pytest

from test_monitor import Hook, mtn_issues, open_issues
from test_refresh_due import TWELVE, aged, env_for, ledger_data, seed_deaths

from mtn_runbook.monitor.alert_plan import Op, plan


def ops(p) -> list[tuple[str, str]]:
    return [(o.action, o.about) for o in p.ops]


@pytest.mark.parametrize("state,issue,previous,prompts,expected,webhook", [
    ("unhealthy", None, None, False, [("open", "unhealthy")], True),
    ("unhealthy", "unhealthy", "unhealthy", False, [("comment", "still-unhealthy")], False),
    # the title follows the state: never "Still unhealthy" on an issue titled refresh due
    ("unhealthy", "refresh-due", "refresh-due", False, [("retitle", "unhealthy"), ("comment", "unhealthy")], True),
    # after a recovery the outage issue closes as recovered, whatever comes next; one webhook
    ("refresh-due", "unhealthy", "unhealthy", True, [("close", "recovered"), ("open", "refresh-due")], True),
    ("refresh-due", "unhealthy", "unhealthy", False, [("close", "recovered")], True),
    ("refresh-due", None, None, True, [("open", "refresh-due")], True),
    ("refresh-due", "refresh-due", "refresh-due", False, [], False),
    ("refresh-due", None, "healthy", False, [], False),
    ("healthy", "refresh-due", "refresh-due", False, [("close", "refreshed")], True),
    ("healthy", "unhealthy", "unhealthy", False, [("close", "recovered")], True),
    ("warning", "unhealthy", "unhealthy", False, [("close", "recovered")], True),
    ("healthy", None, "healthy", False, [], False),
    ("warning", None, "healthy", False, [], True),
])
def test_plan(state, issue, previous, prompts, expected, webhook):
    p = plan(state, issue=issue, previous=previous, prompts=prompts)
    assert ops(p) == expected and p.webhook is webhook


def test_a_prompt_counts_as_sent_only_when_the_plan_sends_it():
    assert plan("refresh-due", issue=None, previous=None, prompts=True).prompt_sent
    assert plan("refresh-due", issue="refresh-due", previous="refresh-due", prompts=True).prompt_sent
    assert Op("comment", "refresh-due") in plan("refresh-due", issue="refresh-due", previous="refresh-due",
                                                prompts=True).ops
    assert not plan("refresh-due", issue="refresh-due", previous="refresh-due", prompts=False).prompt_sent
    assert not plan("unhealthy", issue=None, previous=None, prompts=True).prompt_sent


UNHEALTHY = "MTN session unhealthy: production may be without MTN"
REFRESH = "MTN session refresh due: run inv refresh"


def test_refresh_due_then_unhealthy_retitles_the_issue_then_recovery_closes_it(sandbox, inv):
    hook = Hook()
    try:
        seed_deaths(sandbox, TWELVE)                  # sessions die at about 12 h
        session, value = aged(sandbox, 11.5)          # refresh-by in 30 minutes, inside working hours
        env = env_for(value, "Mon-Sun 00:00-23:59", hook)
        assert inv("monitor", env=env, allow=(value,)).code == 0
        (issue,) = open_issues(sandbox)
        assert issue["title"] == REFRESH and len(hook.messages) == 1

        sandbox.mtn.expire(session.session_id)        # nobody refreshed: it died
        r = inv("monitor", env=env, allow=(value,))

        assert r.code == 3, r.output
        (same,) = open_issues(sandbox)
        assert same["number"] == issue["number"] and same["title"] == UNHEALTHY
        comments = [c["body"] for c in sandbox.github.comments(issue["number"])]
        assert comments and not any(c.startswith("Still unhealthy") for c in comments)
        assert "inv recover" in comments[-1]
        assert len(hook.messages) == 2 and hook.texts()[1].startswith("MTN session UNHEALTHY")

        new, new_value = aged(sandbox, 0)             # `inv recover` pushed a new login
        r = inv("monitor", env={**env, "MTN_SESSION": new_value}, allow=(new_value,))

        assert r.code == 0, r.output
        assert open_issues(sandbox) == []
        assert sandbox.github.comments(issue["number"])[-1]["body"].startswith("Recovered at ")
        assert len(hook.messages) == 3 and "recovered" in hook.texts()[2]
    finally:
        hook.close()


def test_after_recover_the_outage_issue_closes_as_recovered_with_one_webhook(sandbox, inv, tmp_path):
    hook = Hook()
    try:
        seed_deaths(sandbox, TWELVE)                  # sessions die at about 12 h
        old, old_value = aged(sandbox, 20)
        env = env_for(old_value, "Mon-Sun 00:00-23:59", hook)
        sandbox.mtn.expire(old.session_id)
        assert inv("monitor", env=env, allow=(old_value,)).code == 3
        (outage,) = open_issues(sandbox)
        assert outage["title"] == UNHEALTHY and len(hook.messages) == 1

        new, value = aged(sandbox, 11.5)              # recovered, and this session's refresh is due already
        r = inv("monitor", env={**env, "MTN_SESSION": value}, allow=(value,))

        assert r.code == 0, r.output
        closed = [i for i in mtn_issues(sandbox) if i["number"] == outage["number"]][0]
        assert closed["state"] == "closed"
        assert sandbox.github.comments(outage["number"])[-1]["body"].startswith("Recovered at ")
        assert [i["title"] for i in open_issues(sandbox)] == [REFRESH]
        assert len(hook.messages) == 2, hook.texts()             # one webhook for the one run
        assert "recovered" in hook.texts()[1] and "refresh due" in hook.texts()[1]
        record = [r for r in ledger_data(sandbox) if new.fingerprint in r["fps"]][0]
        assert record["prompted"]                 # sent (the new issue, the webhook): marked as sent
    finally:
        hook.close()


def test_a_refresh_due_prompt_is_marked_as_sent_only_once_it_was_sent(sandbox, inv):
    """Walked: `– alerts: nothing to send (previous state: refresh-due)`, yet the ledger marked the
    prompt as sent, so no later run asked for the refresh of that session."""
    hook = Hook()
    try:
        seed_deaths(sandbox, TWELVE)                  # sessions die at about 12 h
        first, first_value = aged(sandbox, 11.5)
        env = env_for(first_value, "Mon-Sun 00:00-23:59", hook)
        assert inv("monitor", env=env, allow=(first_value,)).code == 0
        (issue,) = open_issues(sandbox)

        second, value = aged(sandbox, 11.6)       # another session, also due; the issue is still open
        r = inv("monitor", env={**env, "MTN_SESSION": value}, allow=(value,))

        assert r.code == 0, r.output
        assert "nothing to send" not in r.output
        comments = sandbox.github.comments(issue["number"])
        assert comments and "inv refresh" in comments[-1]["body"]
        assert len(hook.messages) == 2
        record = [r for r in ledger_data(sandbox) if second.fingerprint in r["fps"]][0]
        assert record["prompted"]
    finally:
        hook.close()

"""The lifespan ledger under attack (issue 20, items 6–10): anyone who can comment on the
`mtn-ledger` issue can post an entry comment. Malformed lines, wrong types, terminal escapes and
Markdown are skipped or neutralised; entries by someone who is not a ledger writer do not count;
the monitor stays green throughout, and a bad comment never blocks the next run."""

from __future__ import annotations

import json
import re
from datetime import timedelta

import httpx
from test_monitor import new_secret, serve_in_production

from mtn_runbook.core import apis
from mtn_runbook.core.config import Settings
from mtn_runbook.core.times import iso, now
from mtn_runbook.lifespan import ledger_view
from mtn_runbook.lifespan.ledger_issue import ENTRY, IssueStore

CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def ledger_issues(sb) -> list[dict]:
    return [i for i in sb.github.issues() if "mtn-ledger" in [x["name"] for x in i["labels"]]]


def comment(sb, number: int, lines: list, token: str | None = None) -> None:
    """An entry comment as the ledger writes one, posted with `token` (default: the owner's)."""
    text = "".join((x if isinstance(x, str) else json.dumps(x).replace("`", "\\u0060")) + "\n" for x in lines)
    r = httpx.post(f"{sb.urls['github']}/repos/{sb.options.github_repository}/issues/{number}/comments",
                   headers={"Authorization": f"Bearer {token or sb.options.github_token}"},
                   json={"body": f"Ledger entry.\n\n```jsonl\n{text}```\n{ENTRY}"})
    assert r.status_code == 201, r.text


def forged(n: int, event: str = "dead", minutes: float = 20, **fields) -> dict:
    start = now() - timedelta(hours=2, minutes=n)
    out = {"id": f"f{n:05d}", "at": iso(start + timedelta(minutes=minutes)), "event": event,
           "session": f"created:{iso(start)}", "fp": f"{n:012x}", "start": iso(start), "by": "ci@runner", "every": 60}
    return {**out, **fields}


def healthy(sandbox, inv) -> tuple[dict, str]:
    """A live secret that production serves, and a first monitor run that opens the ledger."""
    _, value = new_secret(sandbox)
    serve_in_production(sandbox, value)
    env = {"MTN_SESSION": value}
    r = inv("monitor", env=env, allow=(value,))
    assert r.code == 0, r.output
    (issue,) = ledger_issues(sandbox)
    return env, issue


def test_malformed_entries_are_skipped_and_the_next_run_is_green(sandbox, inv):
    """Items 6 and 7: a JSON line `5`, `"by": 5`, `"every": "x"` crashed every reader with exit 1,
    and the fold crashed before deleting the comment, so the scheduled monitor stayed broken."""
    env, issue = healthy(sandbox, inv)
    value = env["MTN_SESSION"]
    comment(sandbox, issue["number"], ["5", "not json", "[" * 3000 + "]" * 3000, forged(1, by=5),
                                       forged(2, every="x"), forged(3, start=7), forged(4, ping=[1]), forged(5)])
    for task in ("ledger", "status", "validate"):
        r = inv(task, env=env, allow=(value,))
        assert r.code == 0 and "skipped" in r.output and "malformed" in r.output, (task, r.output)
    r = inv("monitor", env=env, allow=(value,))
    assert r.code == 0, r.output
    assert r.output.count("malformed") == 1                                 # one warning, not one per line
    assert sandbox.github.comments(issue["number"]) == []                  # the fold removed the bad comment
    data = ledger_data(sandbox)
    assert f"{5:012x}" in {fp for d in data for fp in d["fps"]}           # the valid entry beside them counts
    assert not {f"{n:012x}" for n in range(1, 5)} & {fp for d in data for fp in d["fps"]}
    r = inv("monitor", env=env, allow=(value,))
    assert r.code == 0 and "malformed" not in r.output, r.output


def ledger_data(sb) -> list[dict]:
    (issue,) = [i for i in ledger_issues(sb) if i["state"] == "open"]
    return [json.loads(x) for x in issue["body"].split("```jsonl\n")[1].split("```")[0].splitlines()]


def test_escapes_and_markdown_from_a_commenter_reach_neither_terminal_nor_issue(sandbox, inv):
    """Items 8 and 9: an ANSI escape in a field was printed raw by `inv ledger` (clear screen,
    fake lines); @mentions, HTML, `|` and backticks were copied into the issue body as they were."""
    env, issue = healthy(sandbox, inv)
    value = env["MTN_SESSION"]
    evil = "@octocat <img src=x onerror=alert(1)> | ``` [click](https://evil.example) &amp;"
    comment(sandbox, issue["number"], [forged(1, fp="\x1b[2J\x1b[H0000000000aa"),
                                       forged(2, by="ops\x1b[31m@host\r\n✔ all good"),
                                       forged(3, by=evil)])
    r = inv("ledger", env=env, allow=(value,))
    assert r.code == 0, r.output
    assert not CONTROL.search(r.output), repr(r.output)
    r = inv("monitor", env=env, allow=(value,))
    assert r.code == 0 and not CONTROL.search(r.output), r.output
    body = ledger_issues(sandbox)[0]["body"]
    assert "\x1b" not in body and "@octocat" not in body and not re.search(r"(?<!\\)<img", body)
    assert body.count("```") == 4                  # the Mermaid chart's fence and the data's: none closed early
    row = next(line for line in body.splitlines() if "octocat" in line)
    assert row.count("|") - row.count("\\|") == 6, row        # five cells: the commenter's `|` does not make a sixth
    assert "@\u200boctocat" in row and "\\<img" in row and "\\[click\\]" in row
    assert any(evil in d["by"] for d in ledger_data(sandbox))  # the data keeps the text itself (JSON, fenced)
    r = inv("ledger", env=env, allow=(value,))
    assert r.code == 0 and not CONTROL.search(r.output), repr(r.output)


def test_only_ledger_writers_count(sandbox, inv):
    """Item 10: ten forged "dead" entries from any commenter moved the refresh-by time. Now they are
    ignored with one warning naming the author, and count once MONITOR_LEDGER_WRITERS lists them."""
    env, issue = healthy(sandbox, inv)
    value = env["MTN_SESSION"]
    mallory = sandbox.github.add_user("mallory")
    comment(sandbox, issue["number"], [forged(n) for n in range(10)], token=mallory)
    comment(sandbox, issue["number"], [forged(20, event="alive", minutes=1)], token=mallory)
    r = inv("ledger", "--json", env=env, allow=(value,))
    assert r.code == 0 and json.loads(r.stdout)["deaths"] == 0, r.output
    assert r.stderr.count("mallory") == 1 and "not a ledger writer" in r.stderr, r.stderr
    r = inv("monitor", env=env, allow=(value,))
    assert r.code == 0 and r.output.count("mallory") == 1, r.output
    assert "0 died" in ledger_issues(sandbox)[0]["body"]
    assert len(sandbox.github.comments(issue["number"])) == 2   # left alone: not ours to delete
    r = inv("ledger", "--json", env={**env, "MONITOR_LEDGER_WRITERS": "sandbox-ops, Mallory"}, allow=(value,))
    assert r.code == 0 and json.loads(r.stdout)["deaths"] == 10 and "mallory" not in r.stderr, r.output
    # the workflow's bot counts by default; the owner's token counts as itself (GET /user)
    r = inv("ledger", "--json", env={**env, "MONITOR_LEDGER_WRITERS": "github-actions[bot]"}, allow=(value,))
    assert r.code == 0 and "mallory" in r.stderr, r.output


def test_a_garbage_body_is_rebuilt_and_two_ledger_issues_merge_into_the_oldest(sandbox):
    settings = Settings.load(environ=sandbox.env(), use_dotenv=False)
    repo = sandbox.options.github_repository
    with apis.github(settings) as api:
        first = IssueStore(api, repo, ledger_view)
        first.append([forged(1)])
        number = ledger_issues(sandbox)[0]["number"]
        api.patch(f"/repos/{repo}/issues/{number}", json={"body": "lol ```jsonl\n5\n{\"session\": 5}\n```"})
        second = IssueStore(api, repo, ledger_view)
        second._issues = []                    # a second first writer, who saw no ledger issue yet
        second.append([forged(2)])
        assert len([i for i in ledger_issues(sandbox) if i["state"] == "open"]) == 2
        third = IssueStore(api, repo, ledger_view)
        third.append([forged(3)])
    open_, closed = ([i for i in ledger_issues(sandbox) if i["state"] == s] for s in ("open", "closed"))
    assert [i["number"] for i in open_] == [number] and len(closed) == 1
    assert {d["fps"][0] for d in ledger_data(sandbox)} == {f"{n:012x}" for n in (2, 3)}
    assert "Merged into" in closed[0]["body"] and sandbox.github.comments(closed[0]["number"]) == []


def test_entry_authors_are_recorded_like_github(sandbox):
    """The stand-in records who wrote a comment from the token used, and `GET /user` answers it."""
    token = sandbox.github.add_user("mallory")
    base, repo = sandbox.urls["github"], sandbox.options.github_repository
    me = httpx.get(f"{base}/user", headers={"Authorization": f"Bearer {token}"})
    assert me.json()["login"] == "mallory"
    secret = httpx.get(f"{base}/repos/{repo}/actions/secrets", headers={"Authorization": f"Bearer {token}"})
    assert secret.status_code == 404                      # a commenter sees no secret
    settings = Settings.load(environ=sandbox.env(), use_dotenv=False)
    with apis.github(settings) as api:
        IssueStore(api, repo, ledger_view).append([forged(1)])
    number = ledger_issues(sandbox)[0]["number"]
    comment(sandbox, number, [forged(2)], token=token)
    (c,) = sandbox.github.comments(number)
    assert c["user"]["login"] == "mallory"
    gone = httpx.delete(f"{base}/repos/{repo}/issues/comments/{c['id']}",
                        headers={"Authorization": f"Bearer {sandbox.github.add_user('eve')}"})
    assert gone.status_code == 403

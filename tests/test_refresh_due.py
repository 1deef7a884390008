"""`inv monitor` with the lifespan ledger: refresh due once per session, in working hours or at
the end of the window; quiet at night while alive, but a dead session pages; no tracked-expiry
warning after a fresh login once lifespans are known; the shadow probe; no secret in the ledger.

Time is real; the working hours are chosen around it: a fixed-offset zone (Etc/GMT±k) puts the
local time near 12:00, and a session's createdAt and the deaths seeded in the ledger place its risk.
"""

from __future__ import annotations

import dataclasses
import json
import threading
from datetime import datetime, timedelta, timezone

from test_monitor import Hook, mtn_issues, new_secret, open_issues, serve_in_production

from mtn_runbook.core import apis
from mtn_runbook.core.config import Settings
from mtn_runbook.core.session import Session, save
from mtn_runbook.core.times import iso
from mtn_runbook.lifespan import ledger_view
from mtn_runbook.lifespan.ledger_issue import IssueStore


def noon_zone() -> str:
    """A fixed-offset zone whose local time is 12:xx now (Etc/GMT-2 is UTC+2)."""
    k = 12 - datetime.now(timezone.utc).hour
    return "Etc/GMT" if k == 0 else f"Etc/GMT-{k}" if k > 0 else f"Etc/GMT+{-k}"


def env_for(value: str, hours: str, hook: Hook | None = None, **extra) -> dict:
    env = {"MTN_SESSION": value, "MONITOR_TIMEZONE": noon_zone(), "MONITOR_WORKING_HOURS": hours,
           **extra}
    if hook:
        env["ALERT_WEBHOOK_URL"] = hook.url
    return env


def aged(sb, hours_old: float) -> tuple[Session, str]:
    """A live session that logged in `hours_old` ago (its createdAt), served by production."""
    session, _ = new_secret(sb)
    created = datetime.now(timezone.utc) - timedelta(hours=hours_old)
    session = dataclasses.replace(session, extra={**session.extra, "createdAt": iso(created)})
    value = session.encode()
    serve_in_production(sb, value)
    return session, value


def seed_deaths(sb, hours: tuple[float, ...]) -> None:
    """Past sessions in the ledger that died `hours` after their login (enough for Kaplan–Meier)."""
    base = datetime.now(timezone.utc) - timedelta(days=30)          # 30 past sessions, 20 h apart
    lines = []
    for i, h in enumerate(hours):
        start = base + timedelta(hours=20 * i)
        e = {"session": f"created:past{i}", "fp": f"past{i:08d}", "start": iso(start), "by": "test", "every": 60}
        lines += [{**e, "id": f"a{i}", "at": iso(start + timedelta(hours=h - 0.25)), "event": "alive"},
                  {**e, "id": f"d{i}", "at": iso(start + timedelta(hours=h + 0.25)), "event": "dead"}]
    with apis.github(Settings.load(environ=sb.env(), use_dotenv=False)) as api:
        IssueStore(api, sb.options.github_repository, ledger_view).append(lines)


TWELVE = tuple(11 + i / 15 for i in range(30))        # thirty sessions died 11-13 h after their login
A_DAY = tuple(24 + i / 15 for i in range(30))


def ledger_issue(sb) -> dict:
    (issue,) = [i for i in sb.github.issues() if [x["name"] for x in i["labels"]] == ["mtn-ledger"]]
    return issue


def ledger_data(sb) -> list[dict]:
    body = ledger_issue(sb)["body"]
    return [json.loads(x) for x in body.split("```jsonl\n")[1].split("```")[0].splitlines()]


def fresh(tmp_path, n: int) -> dict:
    """A new, empty .cache, as on a fresh CI runner."""
    return {"MTN_SESSION_FILE": str(tmp_path / f"run{n}" / "mtn-session.json")}


def test_refresh_due_is_raised_once_per_session_inside_working_hours(sandbox, inv, tmp_path):
    hook = Hook()
    try:
        seed_deaths(sandbox, TWELVE)
        session, value = aged(sandbox, 11.5)          # sessions die at about 12 h: within the hour
        env = env_for(value, "Mon-Sun 08:00-20:00", hook)
        r = inv("monitor", env={**env, **fresh(tmp_path, 1)}, allow=(value,))
        assert r.code == 0, r.output
        assert "refresh-due: refresh due (" in r.output and "risk it dies before the next check (a new login: 0%)" in r.output
        assert "Kaplan–Meier of 30 sessions (30 died" in r.output
        assert "run `inv refresh`" in r.output
        (issue,) = open_issues(sandbox)
        assert issue["title"] == "MTN session refresh due: run inv refresh" and "inv refresh" in issue["body"]
        assert len(hook.messages) == 1 and hook.texts()[0].startswith("MTN session refresh due")
        assert "`inv refresh`" in hook.texts()[0] and issue["html_url"] in hook.texts()[0]
        record = next(x for x in ledger_data(sandbox) if x["fps"] == [session.fingerprint])
        assert record["prompted"]

        # the next hourly run, on a fresh runner: still due, but nobody is asked twice
        r = inv("monitor", env={**env, **fresh(tmp_path, 2)}, allow=(value,))
        assert r.code == 0 and "refresh-due: refresh due (raised earlier for this session)" in r.output
        assert len(hook.messages) == 1 and len(open_issues(sandbox)) == 1
        assert sandbox.github.comments(issue["number"]) == []

        # `inv refresh` happened: a new login, served by production; the issue closes
        new, new_value = aged(sandbox, 0)
        r = inv("monitor", env={**env, "MTN_SESSION": new_value, **fresh(tmp_path, 3)}, allow=(new_value,))
        assert r.code == 0 and "healthy: " in r.output, r.output
        assert open_issues(sandbox) == []
        last = sandbox.github.comments(issue["number"])[-1]["body"]
        assert last.startswith("Refreshed at ") and f"replacing {session.fingerprint}" in last
        assert len(hook.messages) == 2 and hook.texts()[1].startswith("MTN session refreshed (healthy)")
        assert len(ledger_data(sandbox)) == 2 + len(TWELVE)
    finally:
        hook.close()


def test_prompt_at_the_end_of_the_window_when_it_would_die_before_the_next(sandbox, inv):
    seed_deaths(sandbox, A_DAY)
    _, value = aged(sandbox, 8)                       # sessions die at about a day: tomorrow ~04:xx local
    r = inv("monitor", env=env_for(value, "Mon-Sun 08:00-20:00"), allow=(value,))
    assert r.code == 0 and "healthy: " in r.output    # midday of a long day: nothing yet
    assert open_issues(sandbox) == []
    r = inv("monitor", env=env_for(value, "Mon-Sun 10:00-13:00"), allow=(value,))   # the window closes within the hour
    assert r.code == 0
    assert "risk it dies before the next working window (a new login: 0%)" in r.output
    assert [i["title"] for i in open_issues(sandbox)] == ["MTN session refresh due: run inv refresh"]


def test_quiet_at_night_while_alive_but_a_dead_session_pages(sandbox, inv):
    hook = Hook()
    try:
        seed_deaths(sandbox, TWELVE)
        session, value = aged(sandbox, 11.5)          # likely to die within the hour, but it is night
        env = env_for(value, "Mon-Sun 00:00-06:00", hook)
        r = inv("monitor", env=env, allow=(value,))
        assert r.code == 0 and "healthy: " in r.output and hook.messages == [] and open_issues(sandbox) == []
        # issue 22: no refresh-by already passed without saying why it stays quiet
        (line,) = [x for x in r.output.splitlines() if "refresh-by" in x]
        assert "outside working hours" in line and "pages at any hour" in line, line
        assert "refresh-by — refresh-by" not in line, line    # walked: the check's name was said twice
        sandbox.mtn.expire(session.session_id)        # it dies at night
        r = inv("monitor", env=env, allow=(value,))
        assert r.code == 3 and "unhealthy: the MTN_SESSION secret is expired" in r.output
        assert len(hook.messages) == 1 and hook.texts()[0].startswith("MTN session UNHEALTHY")
        assert [i["title"] for i in open_issues(sandbox)] == ["MTN session unhealthy: production may be without MTN"]
        record = next(x for x in ledger_data(sandbox) if x["fps"] == [session.fingerprint])
        assert record["firstDead"] and record["lastAlive"]
        r = inv("ledger", env=env, allow=(value,))     # issue 22: a dead session needs inv recover
        (line,) = [x for x in r.output.splitlines() if x.startswith(f"Current session {session.short_id}")]
        assert "seen dead at" in line and "`inv recover`" in line and "inv refresh" not in line, line
    finally:
        hook.close()


def test_no_tracked_expiry_warning_after_a_fresh_login_once_lifespans_are_known(sandbox, inv):
    hours = "Mon-Sun 08:00-20:00"
    login, value = new_secret(sandbox, hours=None)    # as `inv auth` leaves it: tracked expiry in 60 min
    serve_in_production(sandbox, value)
    r = inv("monitor", env=env_for(value, hours), allow=(value,))
    assert r.code == 0 and "⚠ tracked expiry" in r.output and "`inv extend` moves it forward" in r.output  # the old warning
    r = inv("validate", "--env", env=env_for(value, hours), allow=(value,))
    assert r.code == 0 and "⚠" not in r.output and "inv extend" not in r.output   # an estimate: nothing to do

    _, older = aged(sandbox, 3)                       # a session seen alive 3 h after its login
    assert inv("monitor", env=env_for(older, hours), allow=(older,)).code == 0
    serve_in_production(sandbox, value)
    r = inv("monitor", env=env_for(value, hours), allow=(value,))
    # the tracked expiry is no longer a warning (production's own gate, a separate check, may still be)
    assert r.code == 0 and "✔ tracked expiry" in r.output, r.output
    assert "⚠ tracked expiry" not in r.output and "`inv extend` moves it forward" not in r.output
    r = inv("validate", "--env", env=env_for(value, hours), allow=(value,))
    assert r.code == 0 and "under 60 minutes" not in r.output


def test_two_monitors_at_once_both_reach_the_ledger(sandbox, inv, tmp_path):
    _, first = aged(sandbox, 2)
    _, second = aged(sandbox, 1)
    results = {}

    def run(n, value):
        results[n] = inv("monitor", "--no-alert", env={**env_for(value, "Mon-Sun 08:00-20:00"), **fresh(tmp_path, n)},
                         allow=(first, second))

    threads = [threading.Thread(target=run, args=(n, v)) for n, v in ((1, first), (2, second))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert all(r.code in (0, 3) for r in results.values()), [r.output for r in results.values()]
    ledgers = [i for i in sandbox.github.issues() if [x["name"] for x in i["labels"]] == ["mtn-ledger"]]
    seen = set()
    for issue in ledgers:   # two first writers may each open one; readers merge them
        seen |= {json.loads(x)["session"] for x in issue["body"].split("```jsonl\n")[1].split("```")[0].splitlines()}
        seen |= {json.loads(line)["session"] for c in sandbox.github.comments(issue["number"])
                 for line in c["body"].split("```jsonl\n")[1].split("```")[0].splitlines()}
    assert len(seen) == 2
    r = inv("ledger", env=env_for(first, "Mon-Sun 08:00-20:00"), allow=(first, second))
    assert r.code == 0 and "2 session(s)" in r.output, r.output


def test_shadow_probe_learns_when_the_retired_session_dies(sandbox, inv, workdir):
    retired, retired_value = aged(sandbox, 20)
    session_file = workdir / ".cache" / "mtn-session.json"
    save(session_file, retired)
    current, value = aged(sandbox, 1)
    save(session_file, current)                       # the refresh kept the old one as .prev
    env = env_for(value, "Mon-Sun 08:00-20:00")
    r = inv("monitor", env=env, allow=(value, retired_value))
    assert f"shadow probe of the retired session {retired.short_id} (.prev): valid" in r.output
    r = inv("monitor", env=env, allow=(value, retired_value))
    assert "shadow probe" not in r.output             # probed under 6 h ago: not yet
    data = {d["fps"][0]: d for d in ledger_data(sandbox)}
    assert data[retired.fingerprint]["lastAlive"] and data[retired.fingerprint]["firstDead"] is None


def test_shadow_probe_turns_a_censored_lifetime_into_a_death(sandbox, inv, workdir):
    retired, retired_value = aged(sandbox, 20)
    session_file = workdir / ".cache" / "mtn-session.json"
    save(session_file, retired)
    current, value = aged(sandbox, 1)
    save(session_file, current)                       # the refresh kept the old one as .prev
    sandbox.mtn.expire(retired.session_id)            # MTN ended the retired session
    env = env_for(value, "Mon-Sun 08:00-20:00")
    r = inv("monitor", env=env, allow=(value, retired_value))
    # walked: the line named it by its file's fingerprint while the ledger line beside it says
    # `dead 5CDC…ADDB`: one session, one name
    assert f"shadow probe of the retired session {retired.short_id} (.prev): expired" in r.output
    assert f"dead {retired.short_id}" in r.output
    data = {d["fps"][0]: d for d in ledger_data(sandbox)}
    assert data[retired.fingerprint]["firstDead"]     # a death, not "at least"
    r = inv("ledger", "--json", env=env, allow=(value, retired_value))
    assert json.loads(r.stdout)["deaths"] == 1
    assert "shadow probe" not in inv("monitor", env=env, allow=(value, retired_value)).output   # dead: done


def test_inv_ledger_shows_the_chart_and_holds_no_secret(sandbox, inv, workdir):
    session, value = aged(sandbox, 5)
    env = env_for(value, "Mon-Sun 08:00-20:00")
    assert inv("monitor", env=env, allow=(value,)).code == 0
    r = inv("ledger", env=env, allow=(value,))
    assert r.code == 0 and "Lifespan ledger: https://github.com/acme/mtn-app/issues/" in r.output
    assert "░" in r.output and "≥ 5.0 h" in r.output
    assert "Estimate: unpinged sessions: 0 death(s) in 5 h watched" in r.output
    assert f"Current session {session.short_id}: no login needed in the next 30 days" in r.output
    data = json.loads(inv("ledger", "--json", env=env, allow=(value,)).stdout)
    assert data["sessions"][0]["died"] is False and data["current"]["fingerprint"] == session.fingerprint
    issue = ledger_issue(sandbox)
    text = issue["body"] + "".join(c["body"] for c in sandbox.github.comments(issue["number"]))
    secrets = {value, session.session_id, *(c["value"] for c in session.cookies), *sandbox.mtn.secret_values(),
               sandbox.options.github_token, sandbox.options.password}
    assert not [s for s in secrets if s and s in text]


def test_bad_working_hours_are_one_line_and_exit_2(sandbox, inv):
    _, value = aged(sandbox, 1)
    r = inv("monitor", env=env_for(value, "Mon-Fri 08:00-18:00", MONITOR_TIMEZONE="Mars/Olympus"), allow=(value,))
    assert r.code == 2 and "MONITOR_TIMEZONE 'Mars/Olympus' is not a known time zone" in r.output
    r = inv("monitor", env=env_for(value, "Mon-Fri 08:00-18:00", MONITOR_REFRESH_RISK="10%"), allow=(value,))
    assert r.code == 2 and "MONITOR_REFRESH_RISK '10%' must be a number from 0.001 to 0.9" in r.output
    assert [i for i in sandbox.github.issues() if "mtn-ledger" in [x["name"] for x in i["labels"]]] == []
    assert mtn_issues(sandbox) == [i for i in mtn_issues(sandbox) if i["state"] == "closed" or "pull_request" in i]

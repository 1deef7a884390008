"""`inv keepalive` against the sandbox's MTN API, with sandbox time scaled down: a sliding (idle)
session is held far past its idle timeout; a hard-lifetime one dies on schedule and pages."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import time
from pathlib import Path

import pytest

from mtn_runbook.core.config import Settings
from mtn_runbook.core.session import Session, lock, save
from mtn_runbook.watch.keepalive import Keepalive, next_wait
from mtn_runbook.sandbox import Sandbox
from test_monitor import Hook

from conftest import BIN, chromium_path, secrets_known


def state(settings: Settings, session: dict) -> str:
    """What the MTN API says of the session now, asked through the real client (not journaled)."""
    from mtn_runbook.mtn.api import validate

    return validate(settings, Session.from_dict(session, "test"), record=False).state


def api_calls(sb) -> list[dict]:
    return [r for r in sb.history.requests("mtn_api")]


def settings_for(sb, work: Path) -> Settings:
    env = {k: v for k, v in sb.env().items()}
    return Settings(mtn_api_base_url=env["MTN_API_BASE_URL"], mtn_api_key=env.get("MTN_API_KEY", ""),
                    session_file=work / ".cache" / "mtn-session.json")


@pytest.mark.e2e
def test_keepalive_holds_a_sliding_session_past_ten_idle_timeouts(tmp_path):
    # idle timeout 30 sandbox min; 1 wall second = 30 sandbox minutes: idle after 1 s without a call
    with Sandbox(captcha_delay=None, session_idle_hours=0.5, time_scale=1800) as sb:
        kept, left = sb.mtn.mint_session(), sb.mtn.mint_session()
        settings = settings_for(sb, tmp_path)
        save(settings.session_file, Session.from_dict(kept, "test"))
        lines: list[str] = []
        start = time.monotonic()
        # every 4.5 sandbox minutes (0.15 s), 72 pings: over 5 sandbox hours, 10 idle timeouts
        run = Keepalive(settings, minutes=0.0025, count=72, say=lines.append, rng=random.Random(1)).start()
        hours = (time.monotonic() - start) / 2      # two wall seconds = one sandbox hour
        assert hours >= 10 * 0.5, f"only {hours:.2f} sandbox hours passed"
        assert run.pings == 72 and not run.refused and run.exit_code == 0
        assert state(settings, kept) == "valid", "keepalive did not hold the sliding session"
        assert state(settings, left) == "expired", "the unpinged session should have died of idleness"
        assert [e["reason"] for e in sb.history.events("mtn_sso", "expire")] == ["idle"]
        # only the validation request was sent, nothing else
        paths = {(r["method"], r["path"].split("?")[0]) for r in api_calls(sb) if r["path"] != "/login/cas"}
        assert paths == {("GET", "/api/v1/feasibility/product/wholesale/mns")}
        assert sb.history.requests("mtn_sso") == [] or all(r["method"] == "GET" and "login" not in r["path"]
                                                           for r in sb.history.requests("mtn_sso"))
        journal = [json.loads(x) for x in (tmp_path / ".cache" / "journal.jsonl").read_text().splitlines()]
        pings = [e for e in journal if e["kind"] == "keepalive"]
        assert len(pings) == 72 and {e["every"] for e in pings} == {0.0025}
        assert all(e["verdict"] == "valid" for e in pings)


def test_a_hard_lifetime_session_dies_on_schedule_and_pages(sandbox, inv, workdir):
    hook = Hook()
    try:
        # the stand-in's options are read per call: a 1-hour hard lifetime, 1 wall second = 5 sandbox min (12 s)
        sandbox.options.session_hours, sandbox.options.time_scale = 1.0, 300.0
        session = sandbox.mtn.mint_session()
        save(workdir / ".cache" / "mtn-session.json", Session.from_dict(session, "test"))
        r = inv("keepalive", "--every", "0.05", env={"ALERT_WEBHOOK_URL": hook.url})   # every 15 sandbox min
        assert r.code == 3, r.output
        assert "✘ keepalive stopped: the MTN API refused session" in r.output and "`inv recover`" in r.output
        named = Session.from_dict(session, "test").short_id   # as the opening line named it, not only a fingerprint
        assert f"validating {named} " in r.output and f"refused session {named} " in r.output and "(fingerprint" not in r.output
        assert [e["reason"] for e in sandbox.history.events("mtn_sso", "expire")] == ["lifetime"]
        # on schedule: the stand-in ended it for its hard lifetime (not idleness), after an hour of pings
        (age,) = [s["ageHours"] for s in sandbox.mtn.lifetimes.snapshot().values() if s["hardHours"] == 1.0]
        assert age >= 1.0
        assert "ping 1: valid" in r.output and "expired (API 302)" in r.output
        issues = [i for i in sandbox.github.issues() if "refused while kept alive" in (i.get("body") or "")]
        assert len(issues) == 1 and "mtn-session" in [x["name"] for x in issues[0]["labels"]]
        assert "state=unhealthy" in issues[0]["body"] and issues[0]["state"] == "open"
        assert "github-issue: opened #" in r.output and "webhook: posted to ALERT_WEBHOOK_URL" in r.output
        assert len(hook.texts()) == 1 and hook.texts()[0].startswith("MTN session UNHEALTHY (keepalive)")
        # the ledger has the death with the ping interval it had
        data = json.loads(inv("ledger", "--json").stdout)
        mine = [s for s in data["sessions"] if s["firstDead"]]
        assert len(mine) == 1 and mine[0]["ping"] == 0.05 and mine[0]["paged"]
        # run again on the dead session: no second page
        again = inv("keepalive", "--every", "0.05", env={"ALERT_WEBHOOK_URL": hook.url})
        assert again.code == 3 and "already paged for" in again.output
        assert len(hook.texts()) == 1
        assert len([i for i in sandbox.github.issues() if "refused while kept alive" in (i.get("body") or "")]) == 1
    finally:
        hook.close()


def test_ctrl_c_exits_130_and_one_keepalive_per_session(sandbox, inv, workdir, tasks_root, home):
    session = sandbox.mtn.mint_session()
    path = workdir / ".cache" / "mtn-session.json"
    save(path, Session.from_dict(session, "test"))
    with lock(path.with_name(path.name + ".keepalive")):
        held = inv("keepalive", "--count", "1")
    assert held.code == 5 and "another keepalive is already pinging" in held.output
    assert not [r for r in sandbox.history.requests("mtn_api")], "a second keepalive must not ping"

    env = {"PATH": f"{BIN}:{os.environ.get('PATH', '')}", "HOME": str(home), "LANG": "C.UTF-8",
           "PYTHONUNBUFFERED": "1", "PLAYWRIGHT_CHROMIUM_EXECUTABLE_PATH": chromium_path(), **sandbox.env()}
    proc = subprocess.Popen([str(BIN / "inv"), "--search-root", str(tasks_root), "keepalive", "--every", "1"],
                            cwd=workdir, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 30
    while not sandbox.history.requests("mtn_api") and time.monotonic() < deadline:
        time.sleep(0.1)
    time.sleep(0.3)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=20)
    assert proc.returncode == 130, out + err
    assert "keepalive stopped (interrupted) after 1 ping(s); last seen alive" in out + err
    assert "Traceback" not in out + err
    assert not [s for s in secrets_known(sandbox, workdir) if s in out + err]


@pytest.mark.parametrize("every", ["0", "-3", "abc", "5000"])
def test_a_bad_interval_is_one_line_exit_2(inv, sandbox, workdir, every):
    save(workdir / ".cache" / "mtn-session.json", Session.from_dict(sandbox.mtn.mint_session(), "test"))
    r = inv("keepalive", "--every", every)
    assert r.code == 2 and "--every" in r.output and len(r.output.strip().splitlines()) == 1, r.output
    assert not sandbox.history.requests("mtn_api")


def test_errors_back_off_and_jitter_stays_within_ten_percent():
    rng = random.Random(3)
    waits = [next_wait(10, 0, rng) for _ in range(200)]
    assert 540 <= min(waits) and max(waits) <= 660
    assert [round(next_wait(8, k, random.Random(0)) / 60 / 8 / (1 + random.Random(0).uniform(-0.1, 0.1)), 3)
            for k in range(1, 6)] == [0.125, 0.25, 0.5, 1.0, 1.0]


def test_a_timer_started_keepalive_writes_the_ledger_once_an_hour(sandbox, inv, workdir):
    """The watcher's timer starts a process per ping: the journal says when the ledger last heard."""
    save(workdir / ".cache" / "mtn-session.json", Session.from_dict(sandbox.mtn.mint_session(), "test"))
    for _ in range(2):
        r = inv("keepalive", "--count", "1", "--every", "10")
        assert r.code == 0 and "keepalive: 1 ping(s) done" in r.output, r.output
    journal = [json.loads(x) for x in (workdir / ".cache" / "journal.jsonl").read_text().splitlines()]
    assert [e["ledger"] for e in journal if e["kind"] == "keepalive"] == [True, False]
    (record,) = json.loads(inv("ledger", "--json").stdout)["sessions"]
    assert record["ping"] == 10 and record["lastAlive"] and record["every"] == 10


def test_an_api_error_brings_the_next_ping_sooner_and_a_refresh_is_followed(sandbox, tmp_path):
    settings = settings_for(sandbox, tmp_path)
    old, new = sandbox.mtn.mint_session(), sandbox.mtn.mint_session()
    save(settings.session_file, Session.from_dict(old, "test"))
    sandbox.faults.add(service="mtn_api", status=503, count=-1)
    lines: list[str] = []

    def say(line: str) -> None:
        lines.append(line)
        if "ping 1:" in line:
            sandbox.faults.clear()                                       # the API answers again
        if "ping 2:" in line:
            save(settings.session_file, Session.from_dict(new, "test"))  # `inv refresh` replaced it

    run = Keepalive(settings, minutes=0.02, count=3, say=say, rng=random.Random(2)).start()
    journal = [json.loads(x) for x in (tmp_path / ".cache" / "journal.jsonl").read_text().splitlines()]
    pings = [e for e in journal if e["kind"] == "keepalive"]
    assert [e["verdict"] for e in pings] == ["error", "valid", "valid"] and run.exit_code == 0
    waits = [float(x.split("next ping in ")[1].split()[0]) for x in lines if "next ping in" in x]
    assert waits[0] <= 0.02 / 8 * 1.1 and waits[1] >= 0.02 * 0.9          # backed off, then the full interval
    old_fp, new_fp = (Session.from_dict(s, "t").fingerprint for s in (old, new))
    assert [e["fingerprint"] for e in pings] == [old_fp, old_fp, new_fp]
    assert any("the session file now holds" in x and "leaving" in x for x in lines)

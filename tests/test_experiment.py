"""The keepalive experiment's verdict, from a synthetic lifespan ledger, in `inv status`."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

from mtn_runbook.lifespan.experiment import verdict
from mtn_runbook.lifespan.ledger_records import Record, fold

T0 = datetime(2026, 1, 5, 8, 0, tzinfo=timezone.utc)


def iso(t: datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%S.000Z")


def lives(name: str, ping, hours: list[float], died: bool = True, start: int = 0) -> list[dict]:
    """Ledger entry lines: each session seen alive every hour-ish, then dead (or last seen alive)."""
    out = []
    for i, h in enumerate(hours):
        begin = T0 + timedelta(days=start + 20 * i)
        key = f"created:{name}{i}"
        base = {"session": key, "fp": f"{name}{i:011d}", "start": iso(begin), "by": "test", "every": 10}
        if ping is not None:
            base["ping"] = ping
        out.append({**base, "id": f"{name}{i}a", "at": iso(begin + timedelta(hours=h - 0.1)), "event": "alive"})
        if died:
            out.append({**base, "id": f"{name}{i}d", "at": iso(begin + timedelta(hours=h + 0.1)), "event": "dead"})
    return out


def records(lines: list[dict]) -> list[Record]:
    return fold([], lines)


PINGED = [24 * d for d in (8.0, 8.7, 9.1, 9.5, 10.2, 11.0)]        # median 9.1 d
UNPINGED = [24 * d for d in (0.9, 1.0, 1.1, 1.2, 1.3, 1.5, 2.0)]   # median 1.2 d


def test_the_answer_once_each_group_has_five_deaths():
    v = verdict(records(lives("p", 10, PINGED) + lives("u", "none", UNPINGED)))
    assert v["answer"] == "helps"
    assert v["line"] == "pinged sessions lived a median 9.1 d (n=6), unpinged 1.2 d (n=7): keepalive helps"


def test_no_help_when_the_groups_live_alike():
    v = verdict(records(lives("p", 10, UNPINGED[:6]) + lives("u", "none", UNPINGED)))
    assert v["answer"] == "no-help" and v["line"].endswith(": keepalive does not help")


def test_until_then_it_says_how_many_deaths_each_group_needs():
    lines = lives("p", 10, PINGED[:2]) + lives("u", "none", UNPINGED[:4]) + lives("c", 10, PINGED[:3], died=False)
    lines += lives("m", None, UNPINGED)             # seen only by the hourly monitor: in neither group
    v = verdict(records(lines))
    assert v["answer"] == "waiting"
    assert v["line"] == ("needs 3 more deaths of pinged sessions (2 of 5) and 1 more death of unpinged sessions "
                         "(4 of 5)")
    assert v["pinged"]["sessions"] == 5 and v["pinged"]["deaths"] == 2


def test_a_session_belongs_to_the_interval_it_had_last():
    """Pinged every 10 min while current, then retired and left to the shadow probe: "none"."""
    base = {"session": "created:x", "fp": "x" * 12, "start": iso(T0), "by": "t", "every": 10}
    r = records([{**base, "id": "1", "at": iso(T0 + timedelta(hours=1)), "event": "alive", "ping": 10},
                 {**base, "id": "2", "at": iso(T0 + timedelta(hours=9)), "event": "alive", "ping": "none"},
                 {**base, "id": "3", "at": iso(T0 + timedelta(hours=5)), "event": "alive"}])[0]
    assert r.ping == "none"
    again = Record.from_json(json.loads(json.dumps(r.to_json())))
    assert again.ping == "none" and fold([again], [])[0].ping == "none"


def write_ledger(work: Path, lines: list[dict]) -> None:
    path = work / ".cache" / "ledger.jsonl"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(x) + "\n" for x in lines))


NO_GITHUB = {"GITHUB_TOKEN": None, "GITHUB_REPOSITORY": None}   # the ledger is the local file


def test_inv_status_prints_the_verdict_line(inv, workdir):
    write_ledger(workdir, lives("p", 10, PINGED) + lives("u", "none", UNPINGED))
    r = inv("status", env=NO_GITHUB)
    assert ("Keepalive experiment: pinged sessions lived a median 9.1 d (n=6), unpinged 1.2 d (n=7): "
            "keepalive helps") in r.output
    data = json.loads(inv("status", "--json", env=NO_GITHUB).stdout)
    assert data["experiment"]["answer"] == "helps" and data["experiment"]["unpinged"]["deaths"] == 7


def test_inv_status_says_what_is_still_needed(inv, workdir):
    write_ledger(workdir, lives("p", 10, PINGED[:1]))
    r = inv("status", env=NO_GITHUB)
    assert ("Keepalive experiment: needs 4 more deaths of pinged sessions (1 of 5) and 5 more deaths of "
            "unpinged sessions (0 of 5)") in r.output


def test_status_and_ledger_show_the_one_estimate(inv, workdir):
    """Issue 19: one estimator feeds status, the monitor's verdict, the ledger and the policy.
    20 sessions seen alive 10+ days, none dead: no login needed, in both."""
    from mtn_runbook.core.session import Session, save

    now = datetime.now(timezone.utc)
    lines = []
    for i in range(20):
        begin = now - timedelta(days=12 + i)
        base = {"session": f"created:old{i}", "fp": f"old{i:09d}", "start": iso(begin), "by": "test", "every": 60}
        lines.append({**base, "id": f"o{i}", "at": iso(begin + timedelta(days=10, hours=i)), "event": "alive"})
    write_ledger(workdir, lines)
    current = Session(({"name": "JSESSIONID", "value": "X" * 32, "domain": "localhost", "path": "/"},), "A" * 32,
                      now + timedelta(hours=1), {"createdAt": iso(now - timedelta(days=1))})
    save(workdir / ".cache" / "mtn-session.json", current)
    status = inv("status", env=NO_GITHUB)
    (lifespans,) = [x for x in status.output.splitlines() if x.startswith("Lifespans: ")]
    assert "no login needed in the next 30 days" in lifespans, status.output
    ledger = inv("ledger", env=NO_GITHUB)
    (estimate,) = [x for x in ledger.output.splitlines() if x.startswith("Estimate: ")]
    basis = estimate.removeprefix("Estimate: ")
    assert basis.startswith("unpinged sessions: 0 death(s) in 4,") and basis in lifespans
    assert f"Current session {current.short_id}: no login needed in the next 30 days" in ledger.output

"""The page / prompt / quiet decision that `inv monitor` and bench/availability.py share, with the
estimate it weighs (lifespan/estimator.py), the real check interval, and pinged sessions kept apart."""

from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone

from mtn_runbook.core.config import Settings
from mtn_runbook.core.session import Session
from mtn_runbook.core.times import iso
from mtn_runbook.lifespan.estimator import estimate
from mtn_runbook.lifespan.experiment import estimate_for, group
from mtn_runbook.lifespan.ledger_records import Record, fold
from mtn_runbook.lifespan.policy import decide, next_prompt
from mtn_runbook.lifespan.refresh_due import RefreshSettings, outlook
from mtn_runbook.lifespan.schedule import WorkingHours

JHB = WorkingHours.parse("Mon-Fri 08:00-18:00", "Africa/Johannesburg")   # UTC+2
HOUR = timedelta(hours=1)


def at(day: int, hour: int, minute: int = 17) -> datetime:
    """March 2026 in SAST: day 2 is a Monday, 6 a Friday, 7 a Saturday."""
    return datetime(2026, 3, day, hour, minute, tzinfo=timezone.utc) - timedelta(hours=2)


# About a day each (Normal(24 h, 3 h)), 200 deaths: the curve, not the bound
rng = random.Random(7)
DAILY = estimate([(max(2.0, rng.gauss(24, 3)), True) for _ in range(200)])
MONTHS = estimate([(240 + 24 * i, False) for i in range(20)])        # 20 sessions seen alive 10+ days, none dead


def choose(when, age_h, est=DAILY, *, alive=True, prompted=False, interval=HOUR):
    return decide(when, alive=alive, age=timedelta(hours=age_h), estimate=est, prompted=prompted,
                  hours=JHB, interval=interval, risk=0.10)


def test_twenty_sessions_alive_ten_days_and_no_deaths_ask_for_nothing():
    """Done-when: refresh-by beyond 10 days, no prompt for a 1-day-old session."""
    assert MONTHS.method == "exponential-bound"
    for day in (3, 6):                                                # a Tuesday and a Friday evening
        d = choose(at(day, 17), 24, MONTHS)
        assert d.action == "quiet" and d.risk < 0.10, d.reason
    start = at(3, 9)
    assert next_prompt(at(3, 9), start=start, estimate=MONTHS, hours=JHB, interval=HOUR) is None   # none in 30 days
    s = Session(({"name": "JSESSIONID", "value": "X" * 32, "domain": "localhost", "path": "/"},), "A" * 32,
                start + HOUR, {"createdAt": iso(start - timedelta(days=1))})
    lines = [{"id": str(i), "at": iso(start - timedelta(days=60 - 2 * i) + timedelta(hours=240 + 24 * i)),
              "event": "alive", "session": f"created:{i}", "fp": f"{i:012d}",
              "start": iso(start - timedelta(days=60 - 2 * i)), "by": "t", "every": 60} for i in range(20)]
    settings = Settings(monitor_working_hours="Mon-Fri 08:00-18:00", monitor_timezone="Africa/Johannesburg")
    view = outlook(s, fold([], lines), RefreshSettings.from_settings(settings), alive=True, at=at(3, 17))
    assert view.decision.action == "quiet" and view.refresh_by is None
    assert "no login needed in the next 30 days" in view.line(RefreshSettings.from_settings(settings))


def test_the_evening_decision_asks_only_when_a_new_login_helps():
    d = choose(at(3, 17), 10)                       # Tue 17:17, 10 h old: 15 h to Wed 08:00, past 24 h
    assert d.action == "prompt" and d.risk > 0.3 and d.fresh < 0.05, d.reason
    assert "before the next working window" in d.reason
    assert choose(at(3, 14), 10).action == "quiet"  # early afternoon: the next check is an hour away
    # Friday evening: 63 h to Monday, a fresh login would die over the weekend too: not asked
    assert choose(at(6, 17), 10).action == "quiet"


def test_two_deaths_among_seventeen_old_sessions_are_not_evidence_enough():
    """The evening question comes every day: a point estimate of 2/17 = 12 % over tonight, resting
    on two deaths, would ask some evening by chance. Its 95 % lower bound is 0: quiet."""
    est = estimate([(50, True), (80, True), (120, True), (300, True), (305, True)] + [(200, False)] * 5
                   + [(400, False)] * 15)
    d = choose(at(3, 17), 295, est)
    assert d.risk > 0.10 and d.fresh == 0.0 and est.risk_low(295, 15) == 0.0
    assert d.action == "quiet" and d.reason.endswith("too few deaths at this age to say it is over 10%")


def test_a_session_refreshed_an_hour_ago_is_never_prompted_that_evening():
    for minute in (2, 17, 32, 47):
        for interval in (HOUR, timedelta(minutes=15)):
            assert choose(at(3, 17, minute), 1, interval=interval).action == "quiet"
    # even when lifetimes are short enough that the night is a risk, a new login would be no safer
    short = estimate([(max(2.0, rng.gauss(14, 2)), True) for _ in range(30)])
    d = choose(at(3, 17), 1, short)
    assert d.action == "quiet" and d.risk > 0.10, d.reason
    assert d.reason.endswith("a new login would not lower it enough")


def test_the_watchers_fifteen_minutes_is_the_interval_the_policy_sees():
    """Mid-afternoon, 23 h old: over the hour to the next hourly check the risk is above 10 %,
    over the watcher's 15 minutes it is not (a death is seen, and pages, 15 minutes later)."""
    assert choose(at(3, 13), 23).action == "prompt"
    assert choose(at(3, 13), 23, interval=timedelta(minutes=15)).action == "quiet"
    from mtn_runbook.watch.watcher_units import units

    service = units("/home/w/.local/share/mtn-runbook", 10)["mtn-runbook-monitor.service"]
    assert "Environment=MONITOR_EVERY_MINUTES=15\n" in service      # the watcher's monitor says how often it runs
    settings = Settings(monitor_every_minutes="15")
    rs = RefreshSettings.from_settings(settings)
    assert rs.interval == timedelta(minutes=15) and rs.every == 15
    s = Session(({"name": "JSESSIONID", "value": "X" * 32, "domain": "localhost", "path": "/"},), "A" * 32,
                at(3, 13), {"createdAt": iso(at(3, 13) - 23 * HOUR)})
    assert outlook(s, [], rs, alive=True, at=at(3, 13)).interval == timedelta(minutes=15)
    pinged = Record(f"created:{iso(at(3, 13) - 23 * HOUR)}", at(3, 13) - 23 * HOUR, every=10)   # keepalive's 10 min
    assert outlook(s, [pinged], rs, alive=True, at=at(3, 13)).interval == timedelta(minutes=10)


def test_quiet_outside_working_hours_but_a_dead_session_pages_at_any_hour():
    d = choose(at(3, 23), 30)
    assert d.action == "quiet" and "outside working hours" in d.reason and "pages at any hour" in d.reason
    assert choose(at(7, 3), 30).action == "quiet"                  # Saturday night
    d = choose(at(7, 3), 30, alive=False, prompted=True)
    assert (d.action, d.reason) == ("page", "the session is dead: production is without MTN")
    assert choose(at(3, 17), 10, prompted=True).action == "quiet"  # raised once per session


T0 = at(2, 8)


def life(name: str, i: int, hours: float, ping, died: bool = True) -> list[dict]:
    start = T0 + timedelta(days=20 * i)
    base = {"session": f"created:{name}{i}", "fp": f"{name}{i:011d}", "start": iso(start), "by": "t", "every": 10,
            **({"ping": ping} if ping is not None else {})}
    out = [{**base, "id": f"{name}{i}a", "at": iso(start + timedelta(hours=hours - 0.1)), "event": "alive"}]
    if died:
        out.append({**base, "id": f"{name}{i}d", "at": iso(start + timedelta(hours=hours + 0.1)), "event": "dead"})
    return out


def test_pinged_and_unpinged_estimates_differ_when_their_lifetimes_do():
    lines = [x for i in range(10) for x in life("p", i, 200 + 10 * i, 10)]
    lines += [x for i in range(10) for x in life("u", i, 20 + 2 * i, None)]
    records = fold([], lines)
    pinged = estimate_for(records, next(r for r in records if r.session == "created:p0"))
    unpinged = estimate_for(records, next(r for r in records if r.session == "created:u0"))
    assert (pinged.group, pinged.sessions, unpinged.group, unpinged.sessions) == ("pinged", 10, "unpinged", 10)
    assert unpinged.risk(20, 14) > 0.5 and pinged.risk(20, 14) == 0.0
    assert pinged.basis.startswith("pinged sessions: Kaplan–Meier of 10 sessions (10 died")


def test_a_death_after_keepalive_stopped_is_not_a_pinged_death():
    """Issue 22 item 6: pinged every 10 min until hour 10, then keepalive stopped; the monitor saw
    the session dead at hour 30 (an idle death). Pinged, it lived at least 10 h; it did not die pinged."""
    base = {"session": "created:k", "fp": "k" * 12, "start": iso(T0), "by": "t", "every": 10}
    records = fold([], [{**base, "id": "1", "at": iso(T0 + 10 * HOUR), "event": "alive", "ping": 10},
                        {**base, "id": "2", "at": iso(T0 + 30 * HOUR), "event": "dead", "every": 60}])
    g = group("pinged", records)
    assert (g.sessions, g.deaths, g.longest_hours) == (1, 0, 10.0)
    seen = fold([], [{**base, "id": "1", "at": iso(T0 + 10 * HOUR), "event": "alive", "ping": 10},
                     {**base, "id": "2", "at": iso(T0 + 30 * HOUR), "event": "dead", "ping": 10}])
    assert group("pinged", seen).deaths == 1          # keepalive itself saw it die: a pinged death

"""How many hours a month production runs without MTN, how many logins and night pages that costs.

A month-by-month simulation (continuous time, 730.5-hour months) that drives the decision code
`inv monitor` uses (mtn_runbook.lifespan.policy.decide, estimator.estimate, schedule.WorkingHours,
ledger_records.Record for what the monitor learns): nothing here re-implements when to page, prompt or wait.

Lifetimes   (a) Normal(24 h, 6 h), cut at 2 h   (b) lognormal, median 3 days, sigma 1
            (c) lognormal, median 60 days, sigma 1
            (d) sliding expiry: alive while used at least every 30 min, at most 90 days. Used by the
                app's own traffic 07:00-22:00 every day (an assumption), by every check that ran
                (a validation is a use) and by keepalive's pings (every 10 min: never idle)
Setups      each adds to the one before
            issue            the hourly workflow (minute 17, starts late: lognormal median 10 min;
                             2 % of runs dropped) opens an issue, acted on in working hours
            webhook          + a page (the webhook) when the session dies, at any hour
            watcher          + checks every 15 min from the user's host (under 1 min late, 0.5 % dropped)
            watcher+link     + the phone login link: a night page is answered without a laptop
            watcher+keepalive  (d only) + keepalive pings every 10 min
Person      (assumptions) an issue or a refresh prompt is acted on in working hours after a lognormal
            delay (median 30 min, sigma 0.8). A page in working hours: median 10 min. Outside them
            (evenings, weekends): median 30 min, plus median 15 min to reach a laptop (not with the
            link); and a page between 22:00 and 07:00 is, 1 time in 5, not seen until 07:00 (asleep,
            phone silent), then answered after median 15 min. Recovery (login, push, redeploy): lognormal median 6 min (guide's manual steps 10 min),
            sigma 0.4; 5 % of logins fail once and take a second try. A refresh of a live session costs
            no outage unless the session dies first.
Policies    guide     the guide: cron every 4 h, an issue when the check finds it dead, no prompts
            default   this tool: decide() with MONITOR_REFRESH_RISK 0.10
            risk-5, risk-25   the same with 0.05, 0.25;  no-prompt: only pages, never asks
            point     the point estimate of the risk, not its 95 % lower bound
            (the others than default with the webhook, watcher+link and watcher+keepalive setups only)

Columns     outage h/month (mean, p95), % of the guide's mean, logins a month, night or weekend pages
            a month (what wakes someone: a webhook outside working hours; an issue wakes nobody),
            refresh prompts in working hours a month.

Usage: .venv/bin/python bench/availability.py [--months 150] [--seed 13] [--scenario a] [--json] [--png bench/availability.png]
       .venv/bin/python bench/availability.py --replay rows.jsonl     # the table and PNG from saved --json lines
"""

from __future__ import annotations

import argparse
import json
import math
import random
import sys
import time as clock
from dataclasses import dataclass
from datetime import datetime, time, timedelta, timezone
from pathlib import Path

from mtn_runbook.lifespan.estimator import DEFAULT_RISK, estimate
from mtn_runbook.lifespan.ledger_records import Record
from mtn_runbook.lifespan.policy import SURE, decide
from mtn_runbook.lifespan.schedule import CHECK_INTERVAL, WorkingHours

MONTH = timedelta(hours=730.5)
START = datetime(2026, 1, 5, tzinfo=timezone.utc)   # a Monday
HOURS = WorkingHours.parse("Mon-Fri 08:00-18:00", "Africa/Johannesburg")
LEDGER_SESSIONS = 100        # the ledger keeps the last 100 sessions (lifespan/ledger_records.py)
LONGER = {"c": 4}            # (c) dies ~30 times less often: 4x the months for as many deaths as it can afford
IDLE = timedelta(minutes=30)
CAP = timedelta(days=90)
TRAFFIC = (time(7), time(22))   # the app's own traffic, every day
AWAKE = (time(7), time(22))     # a page outside these hours may wait for the morning


def lognormal(rng: random.Random, median_min: float, sigma: float) -> timedelta:
    return timedelta(minutes=median_min * math.exp(rng.gauss(0, sigma)))


def _normal(rng: random.Random) -> timedelta:
    while True:
        h = rng.gauss(24, 6)
        if h >= 2:
            return timedelta(hours=h)


SCENARIOS = {
    "a": ("Normal(24 h, 6 h)", _normal),
    "b": ("lognormal, median 3 d", lambda rng: timedelta(hours=72 * math.exp(rng.gauss(0, 1.0)))),
    "c": ("lognormal, median 60 d", lambda rng: timedelta(hours=24 * 60 * math.exp(rng.gauss(0, 1.0)))),
    "d": ("sliding 30 min, cap 90 d", lambda rng: CAP),
}


@dataclass(frozen=True)
class Setup:
    name: str
    pages: bool = False
    watcher: bool = False
    link: bool = False
    keepalive: bool = False


SETUPS = [Setup("issue"), Setup("webhook", pages=True), Setup("watcher", pages=True, watcher=True),
          Setup("watcher+link", pages=True, watcher=True, link=True)]
KEEPALIVE = Setup("watcher+keepalive", pages=True, watcher=True, link=True, keepalive=True)


@dataclass(frozen=True)
class Policy:
    name: str
    prompts: bool = True
    risk: float = DEFAULT_RISK
    sure: float = SURE


GUIDE = Policy("guide", prompts=False)
POLICIES = [Policy("default"), Policy("risk-5", risk=0.05), Policy("risk-25", risk=0.25), Policy("point", sure=0.0),
            Policy("no-prompt", prompts=False)]


@dataclass
class Result:
    outage: list[float]
    logins: int = 0
    night_pages: int = 0
    day_prompts: int = 0


def idle_death(last_use: datetime, until: datetime) -> datetime | None:
    """When a sliding session last used at `last_use` dies of idleness before `until` (None: it does not)."""
    cursor = last_use
    while cursor + IDLE < until:
        local = cursor.astimezone(HOURS.tz)
        if TRAFFIC[0] <= local.time() < TRAFFIC[1]:        # in use until the traffic stops tonight
            cursor = datetime.combine(local.date(), TRAFFIC[1], HOURS.tz)
            continue
        day = local.date() + timedelta(days=local.time() >= TRAFFIC[1])
        traffic = datetime.combine(day, TRAFFIC[0], HOURS.tz)
        if traffic > cursor + IDLE:
            return cursor + IDLE
        cursor = traffic
    return None


def simulate(scenario: str, setup: Setup, policy: Policy, months: int, seed: int) -> Result:
    # Common random numbers: session k draws its lifetime and its person's delays from its own
    # generator, so rows differ by their policy and setup, not by where a shared stream stood.
    check_rng = random.Random(seed)
    rng = random.Random(f"{seed}:0")
    draw = SCENARIOS[scenario][1]
    guide = policy.name == "guide"
    sliding = scenario == "d"
    end = START + months * MONTH
    res = Result(outage=[0.0] * months)
    interval = timedelta(hours=4) if guide else timedelta(minutes=15) if setup.watcher else CHECK_INTERVAL
    lives: list[tuple[float, bool]] = []
    est = estimate(lives)

    start = last_alive = last_use = START
    death = start + draw(rng)
    idle_checked = not sliding or setup.keepalive
    dead_seen: datetime | None = None
    prompted = notified = False
    act_at: datetime | None = None
    check = START.replace(minute=0 if guide or setup.watcher else 17)

    def month_of(t: datetime) -> int:
        return min(months - 1, int((t - START) / MONTH))

    def recovery() -> timedelta:
        one = lambda: lognormal(rng, 10 if guide else 6, 0.4)   # noqa: E731
        return one() + (one() if rng.random() < 0.05 else timedelta(0))

    def answer(t: datetime, page: bool) -> datetime:
        if not page or HOURS.contains(t):       # an issue or a prompt waits for working hours
            start_at = t if HOURS.contains(t) else HOURS.next_start(t)
            return start_at + lognormal(rng, 10 if page else 30, 0.8)
        local = t.astimezone(HOURS.tz)
        if not AWAKE[0] <= local.time() < AWAKE[1] and rng.random() < 0.20:   # asleep: seen in the morning
            day = local.date() + timedelta(days=local.time() >= AWAKE[1])
            return datetime.combine(day, AWAKE[0], HOURS.tz) + lognormal(rng, 15, 0.8)
        return t + lognormal(rng, 30, 0.8) + (timedelta(0) if setup.link else lognormal(rng, 15, 0.5))

    def act(t: datetime) -> None:
        nonlocal act_at
        act_at = t if act_at is None else min(act_at, t)

    while check < end:
        ran = check_rng.random() >= (0.005 if setup.watcher and not guide else 0.02)
        at = check + (timedelta(seconds=check_rng.uniform(0, 60)) if setup.watcher and not guide
                      else lognormal(check_rng, 10, 0.6))
        check += interval
        if not idle_checked:                     # (d): did it go idle before this check (or a login)?
            died = idle_death(last_use, min(at, act_at) if act_at else at)
            if died is not None and died < death:
                death, idle_checked = died, True
        if act_at is not None and act_at <= at:   # the person logs in before this check runs
            done = act_at + recovery()
            if death < done:
                res.outage[month_of(death)] += (done - max(death, start)).total_seconds() / 3600
            if policy.prompts:                   # what the ledger learns, folded as ledger_records.Record does
                seen = Record("s", start, last_alive=last_alive if last_alive > start else None,
                              first_dead=(dead_seen or act_at) if death < done else None)
                lives.append(seen.lifetime() or (0.0, False))
                est = estimate(lives[-LEDGER_SESSIONS:], min_deaths=5)
            res.logins += 1
            rng = random.Random(f"{seed}:{res.logins}")
            start = last_alive = last_use = done
            death = start + draw(rng)
            idle_checked = not sliding or setup.keepalive
            dead_seen, prompted, notified, act_at = None, False, False, None
        if not ran or at >= end:
            continue
        alive = at < death
        if alive:
            last_alive = last_use = at
        elif dead_seen is None:
            dead_seen = at
        if not alive:
            if not notified:
                notified = True
                page = setup.pages and not guide
                res.night_pages += page and not HOURS.contains(at)
                act(answer(at, page))
            continue
        if policy.prompts and not prompted:
            d = decide(at, alive=True, age=at - start, estimate=est, prompted=False, hours=HOURS,
                       interval=interval, risk=policy.risk, sure=policy.sure)
            if d.action == "prompt":
                prompted = True
                res.day_prompts += 1
                act(answer(at, page=False))
    return res


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, math.ceil(0.95 * len(ordered)) - 1)]


def plot(rows: list[dict], path: Path) -> str:
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return "matplotlib not installed (pip install '.[bench]'): no plot"
    fig, axes = plt.subplots(1, len(SCENARIOS), figsize=(5 * len(SCENARIOS), 4.5), squeeze=False)
    for ax, scenario in zip(axes[0], SCENARIOS):
        mine = [r for r in rows if r["scenario"] == scenario and r["policy"] in ("guide", "default")]
        ax.scatter([r["logins"] for r in mine], [r["outage_h"] for r in mine])
        for r in mine:
            ax.annotate(r["setup"] if r["policy"] == "default" else "guide", (r["logins"], r["outage_h"]),
                        fontsize=8, xytext=(3, 3), textcoords="offset points")
        ax.set_yscale("symlog", linthresh=0.1)
        ax.set_title(f"({scenario}) {SCENARIOS[scenario][0]}")
        ax.set_xlabel("logins a month")
        ax.set_ylabel("production without MTN, h/month (mean)")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    return f"plot: {path}"


def rows_for(scenario: str, months: int, seed: int):
    """One dict a row, as each is simulated (the guide's first: the others are measured against it)."""
    setups = SETUPS + ([KEEPALIVE] if scenario == "d" else [])
    compared = {"webhook", "watcher+link", "watcher+keepalive"}    # the other policies: only where targets are set
    runs = [(Setup("issue"), GUIDE)] + [(s, p) for s in setups for p in POLICIES
                                         if p.name == "default" or s.name in compared]
    guide_mean = None
    for setup, policy in runs:
        r = simulate(scenario, setup, policy, months, seed)
        mean = sum(r.outage) / months
        guide_mean = mean if guide_mean is None else guide_mean
        yield {"scenario": scenario, "setup": setup.name, "policy": policy.name,
               "outage_h": round(mean, 3), "outage_p95_h": round(p95(r.outage), 2),
               "vs_guide": round(mean / guide_mean, 4) if guide_mean else None,
               "logins": round(r.logins / months, 2), "night_pages": round(r.night_pages / months, 2),
               "day_prompts": round(r.day_prompts / months, 2)}


def line(row: dict) -> str:
    return (f"({row['scenario']}) {SCENARIOS[row['scenario']][0]:24} {row['setup']:17} {row['policy']:9} "
            f"{row['outage_h']:11.2f} {row['outage_p95_h']:6.1f} {row['vs_guide']:8.1%} {row['logins']:9.1f} "
            f"{row['night_pages']:11.1f} {row['day_prompts']:11.1f}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--months", type=int, default=150)
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--scenario", choices=sorted(SCENARIOS), action="append", help="only these (repeatable)")
    parser.add_argument("--json", action="store_true", help="one JSON object a line, no table")
    parser.add_argument("--replay", metavar="FILE", help="no simulation: the table and PNG from a --json run's lines")
    parser.add_argument("--png", default="bench/availability.png")
    args = parser.parse_args(argv)
    t0 = clock.monotonic()
    if args.replay:
        rows = [json.loads(x) for x in Path(args.replay).read_text().splitlines() if x.startswith("{")]
    else:
        rows = []
        if not args.json:
            print(f"{args.months} simulated months per row ((c): {4 * args.months}); working hours {HOURS.describe()}\n")
    if not args.json:
        print(f"{'scenario':28} {'setup':17} {'policy':9} {'outage h/mo':>11} {'p95':>6} {'vs guide':>8} "
              f"{'logins/mo':>9} {'night pages':>11} {'day prompts':>11}")
        for row in rows:
            print(line(row))
    for scenario in [] if args.replay else args.scenario or SCENARIOS:
        for row in rows_for(scenario, args.months * LONGER.get(scenario, 1), args.seed):
            rows.append(row)
            print(json.dumps(row) if args.json else line(row), flush=True)
    if not args.json:
        print(plot(rows, Path(args.png)))
        print(f"took {clock.monotonic() - t0:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""How many hours a month production runs without MTN, under the guide's policy and ours.

A month-by-month simulation (continuous time, split into 730.5-hour months) that drives the same
decision code `inv monitor` uses (mtn_runbook.health.policy.decide, survival.refresh_by,
schedule.WorkingHours): nothing here re-implements when to page, prompt or stay quiet.

Lifetimes:  (a) Normal(24 h, 6 h) truncated at 2 h   (b) lognormal, median 3 days, sigma 1.0
Person:     an issue is acted on in working hours (Mon-Fri 08-18 Africa/Johannesburg) after a
            lognormal delay (median 20 min, sigma 0.8); a page after median 20 min in working
            hours, 60 min outside them; recovery takes 5 min (guide) or 3 min (tool, with the
            Vercel rebuild). A refresh of a live session costs no outage.
Cron:       each scheduled run starts late (lognormal, median 10 min, sigma 0.6: an assumption)
            and 2 % of runs are dropped.
Policies:   guide        cron 0 */4 * * *, an issue when the check finds the session dead
            tool-today   the same, recovering in 3 min (what `inv monitor` did before issue 13)
            default      cron 17 * * * *, a page (webhook + issue) when dead, "refresh due" from
                         policy.decide with refresh-by from the Kaplan-Meier ledger it builds

The ledger learns what the monitor would: alive/dead at each check it ran, folded by
health/ledger.Record (a death halfway between last seen alive and first seen dead).

Usage: .venv/bin/python bench/availability.py [--months 300] [--seed 13] [--png bench/availability.png]
"""

from __future__ import annotations

import argparse
import math
import random
import sys
import time as clock
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

from mtn_runbook.health.ledger import Record
from mtn_runbook.health.policy import decide
from mtn_runbook.health.schedule import CHECK_INTERVAL, WorkingHours
from mtn_runbook.health.survival import DEFAULT_RISK, refresh_by

MONTH = timedelta(hours=730.5)
START = datetime(2026, 1, 5, tzinfo=timezone.utc)   # a Monday
HOURS = WorkingHours.parse("Mon-Fri 08:00-18:00", "Africa/Johannesburg")
LEDGER_SESSIONS = 100        # the ledger keeps the last 100 sessions (health/ledger.py)


def lognormal_minutes(rng: random.Random, median: float, sigma: float) -> timedelta:
    return timedelta(minutes=median * math.exp(rng.gauss(0, sigma)))


SCENARIOS = {
    "a: Normal(24h, 6h)": lambda rng: _normal_truncated(rng),
    "b: lognormal(3d, 1.0)": lambda rng: timedelta(hours=72 * math.exp(rng.gauss(0, 1.0))),
}


def _normal_truncated(rng: random.Random) -> timedelta:
    while True:
        h = rng.gauss(24, 6)
        if h >= 2:
            return timedelta(hours=h)


@dataclass
class Policy:
    name: str
    interval: timedelta
    minute: int
    recovery: timedelta
    pages: bool            # webhook on death (else only the issue, acted on in working hours)
    prompts: bool          # refresh due from policy.decide


POLICIES = [
    Policy("guide", timedelta(hours=4), 0, timedelta(minutes=5), pages=False, prompts=False),
    Policy("tool-today", timedelta(hours=4), 0, timedelta(minutes=3), pages=False, prompts=False),
    Policy("default", CHECK_INTERVAL, 17, timedelta(minutes=3), pages=True, prompts=True),
]


@dataclass
class Result:
    outage: list[float] = field(default_factory=list)       # hours per month
    prompts: list[int] = field(default_factory=list)        # per month
    outside: int = 0
    total_prompts: int = 0
    deaths: int = 0
    sessions: int = 0


def person_acts(rng: random.Random, at: datetime, page: bool) -> datetime:
    inside = HOURS.contains(at)
    if page:
        return at + lognormal_minutes(rng, 20 if inside else 60, 0.8)
    start = at if inside else HOURS.next_start(at)
    return start + lognormal_minutes(rng, 20, 0.8)


def simulate(policy: Policy, draw, months: int, seed: int, risk: float = DEFAULT_RISK) -> Result:
    rng = random.Random(seed)
    end = START + months * MONTH
    res = Result(outage=[0.0] * months, prompts=[0] * months)
    ledger: list[tuple[float, bool]] = []
    estimate = refresh_by(ledger, risk=risk)

    start = START
    death = start + draw(rng)
    last_alive = start
    dead_seen: datetime | None = None
    prompted = notified_dead = False
    act_at: datetime | None = None     # when the person acts on what they were told
    check = START.replace(minute=policy.minute)
    res.sessions = 1

    def month_of(t: datetime) -> int:
        return min(months - 1, int((t - START) / MONTH))

    def notify(t: datetime, page: bool) -> None:
        nonlocal act_at
        i = month_of(t)
        res.prompts[i] += 1
        res.total_prompts += 1
        res.outside += not HOURS.contains(t)
        when = person_acts(rng, t, page)
        act_at = when if act_at is None else min(act_at, when)

    while check < end:
        ran = rng.random() >= 0.02
        at = check + lognormal_minutes(rng, 10, 0.6)
        check += policy.interval
        if act_at is not None and act_at <= at:   # the person acted before this check ran
            done = act_at + policy.recovery
            if death < done:                       # dead before the new session is live: outage
                res.outage[month_of(death)] += (done - max(death, start)).total_seconds() / 3600
                res.deaths += 1
            if policy.prompts:   # what the ledger learns: the monitor's own observations, folded as it does
                seen = Record("s", start, last_alive=last_alive if last_alive > start else None,
                              first_dead=(dead_seen or act_at) if death < done else None)
                ledger.append(seen.lifetime() or (0.0, False))
                estimate = refresh_by(ledger[-LEDGER_SESSIONS:], risk=risk)
            start, last_alive, dead_seen = done, done, None
            death = start + draw(rng)
            prompted = notified_dead = False
            act_at = None
            res.sessions += 1
        if not ran or at >= end:
            continue
        alive = at < death
        if alive:
            last_alive = at
        elif dead_seen is None:
            dead_seen = at
        if policy.prompts:
            d = decide(at, alive=alive, refresh_by=start + timedelta(hours=estimate.hours), prompted=prompted,
                       hours=HOURS, interval=policy.interval)
            if d.action == "page" and not notified_dead:
                notified_dead = True
                notify(at, page=True)
            elif d.action == "prompt":
                prompted = True
                notify(at, page=False)
        elif not alive and not notified_dead:
            notified_dead = True
            notify(at, page=policy.pages)
    return res


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, math.ceil(0.95 * len(ordered)) - 1)]


def plot(rows: list[tuple[str, str, Result]], path: Path) -> str:
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return "matplotlib not installed (pip install '.[bench]'): no plot"
    scenarios = list(dict.fromkeys(s for s, _, _ in rows))
    fig, axes = plt.subplots(1, len(scenarios), figsize=(5 * len(scenarios), 4), squeeze=False)
    for ax, scenario in zip(axes[0], scenarios):
        mine = [(p, r) for s, p, r in rows if s == scenario]
        ax.boxplot([r.outage for _, r in mine], showfliers=False, whis=(5, 95))
        ax.set_xticks(range(1, len(mine) + 1), [p for p, _ in mine])
        ax.scatter(range(1, len(mine) + 1), [sum(r.outage) / len(r.outage) for _, r in mine], marker="D",
                   label="mean")
        ax.set_title(f"scenario {scenario}")
        ax.set_ylabel("production without MTN, h/month")
        ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    return f"plot: {path}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--months", type=int, default=300)
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--risk", type=float, default=DEFAULT_RISK, help="MONITOR_REFRESH_RISK for default")
    parser.add_argument("--png", default="bench/availability.png")
    args = parser.parse_args(argv)
    t0 = clock.monotonic()
    rows = []
    print(f"{args.months} simulated months per scenario and policy; working hours {HOURS.describe()}\n")
    print(f"{'scenario':24} {'policy':11} {'outage h/mo mean':>16} {'p95':>7} {'vs guide':>8} "
          f"{'prompts/mo':>10} {'outside hours':>13} {'deaths/mo':>9}")
    for scenario, draw in SCENARIOS.items():
        guide_mean = None
        for policy in POLICIES:
            r = simulate(policy, draw, args.months, args.seed, args.risk)
            mean = sum(r.outage) / len(r.outage)
            guide_mean = mean if guide_mean is None else guide_mean
            share = r.outside / r.total_prompts if r.total_prompts else 0.0
            print(f"{scenario:24} {policy.name:11} {mean:16.1f} {p95(r.outage):7.1f} {mean / guide_mean:8.1%} "
                  f"{r.total_prompts / args.months:10.1f} {share:13.0%} {r.deaths / args.months:9.1f}")
            rows.append((scenario, policy.name, r))
    print("\ntarget: default <= 10 % of the guide's outage, <= 30 prompts/month, <= 25 % of them outside hours")
    print(plot(rows, Path(args.png)))
    print(f"took {clock.monotonic() - t0:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())

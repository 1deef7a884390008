"""How long MTN sessions live: the one estimate behind `inv status`, the monitor's verdict,
`inv ledger`, the refresh policy and bench/availability.py.

The data are one (hours, died) pair per session from the lifespan ledger. A session replaced while
still alive did not die: it lived *at least* that long (right-censored). Those sessions are
evidence too, and often the only evidence (a session that lives for months is always replaced
before it dies), so both regimes below learn from every hour a session was watched alive.

    d = deaths,  E = session-hours watched (dead and censored sessions alike)

Fewer than MIN_DEATHS (5) deaths: too few to see the curve's shape. A constant hazard
(exponential lifetimes) fitted with censoring has the estimate d / E; we take its one-sided 95 %
upper bound, the exact (Garwood) Poisson bound

    hazard <= lambda = chi2(0.95; 2d + 2) / (2E)        d = 0:  -ln 0.05 / E = 3.0 / E (the "rule of three")
    S(t) = exp(-lambda t)

so the bound falls as E grows, deaths or not. A constant hazard has no memory: a fresh login is
no safer than the running session, so in this regime the policy never asks for one (a death pages).

MIN_DEATHS or more: Kaplan–Meier, S(t) = product over death times t_i <= t of (1 - d_i / n_i)
(n_i sessions still watched just before t_i), trusted while at least twice MIN_DEATHS (10)
sessions are still watched: with fewer, one death moves a conditional risk by 1/n_i or more (a lone death
among 3 old sessions would read as a 33 % risk of dying tonight). Past that age, t_reach, the bound
continues the curve: S(t) = S(t_reach) exp(-lambda (t - t_reach)).

What the policy asks of either: risk(age, span) = 1 - S(age + span) / S(age), the chance that a
session alive at `age` hours dies within the next `span` hours; and, before it asks anyone for a
login, risk_low(age, span), a one-sided 95 % lower bound from the Nelson–Aalen cumulative hazard
over that span (H = sum d_i / n_i, Var H = sum d_i / n_i^2, H_low = H - 1.645 sd): the policy is
asked the same question every evening, and a point estimate resting on two deaths among fifteen
old sessions would, some evening, look like a 13 % risk by chance.

Worked example. 20 sessions, each seen alive 10 days (240 h) and then replaced, none dead:
    E = 20 x 240 = 4800 h, d = 0, lambda = 3.0 / 4800 = 0.00062 per hour
    a weekend's 62 h (Friday 18:00 to Monday 08:00): risk = 1 - exp(-0.00062 x 62) = 3.8 %
    under MONITOR_REFRESH_RISK (10 %), and a fresh login's risk is the same 3.8 %: no prompt.
The old rule (the 12 h prior until 5 deaths) asked for a new login twice a day, forever.
Checked against a published data set in tests/test_survival.py (Freireich's 6-MP remission
times: the Kaplan–Meier table, and the exponential fit 9 / 359 per week).

Why not lifelines: it pulls in numpy, pandas and scipy for the 40 lines below.
"""

from __future__ import annotations

import bisect
import math
from dataclasses import dataclass
from functools import cached_property, lru_cache
from typing import Iterable

from ..core.times import span

DEFAULT_RISK = 0.10
MIN_DEATHS = 5
CONFIDENCE = 0.95


def _death_times(lifetimes: Iterable[tuple[float, bool]]):
    """(t, deaths at t, sessions still watched just before t) at each distinct death time. A session
    censored at a death time counts as still under watch at it (the usual convention)."""
    data = sorted(lifetimes)
    at_risk, i = len(data), 0
    while i < len(data):
        t = data[i][0]
        deaths = leaving = 0
        while i < len(data) and data[i][0] == t:
            deaths += data[i][1]
            leaving += 1
            i += 1
        if deaths:
            yield t, deaths, at_risk
        at_risk -= leaving


def kaplan_meier(lifetimes: Iterable[tuple[float, bool]]) -> list[tuple[float, float]]:
    """[(t, S(t))] at each distinct death time, from (hours, died) pairs; died=False is censored."""
    curve, s = [], 1.0
    for t, deaths, at_risk in _death_times(lifetimes):
        s *= 1 - deaths / at_risk
        curve.append((t, s))
    return curve


def nelson_aalen(lifetimes: Iterable[tuple[float, bool]]) -> list[tuple[float, float, float]]:
    """[(t, d/n, d/n^2)] at each death time: the cumulative hazard's steps and their variances."""
    return [(t, d / n, d / n ** 2) for t, d, n in _death_times(lifetimes)]


@lru_cache(maxsize=None)
def poisson_upper(deaths: int, confidence: float = CONFIDENCE) -> float:
    """The mean m with P(Poisson(m) <= deaths) = 1 - confidence: chi2(confidence; 2d + 2) / 2."""
    def cdf(m: float) -> float:
        term = total = math.exp(-m)
        for k in range(1, deaths + 1):
            term *= m / k
            total += term
        return total
    low, high = 0.0, 10.0 + 10 * deaths
    for _ in range(60):
        mid = (low + high) / 2
        low, high = (mid, high) if cdf(mid) > 1 - confidence else (low, mid)
    return (low + high) / 2


@dataclass(frozen=True)
class Estimate:
    deaths: int
    sessions: int
    exposure: float                           # session-hours watched
    hazard: float                             # the upper bound lambda, per hour (inf: nothing watched)
    curve: tuple[tuple[float, float], ...]    # Kaplan–Meier up to `reach`; empty while deaths < MIN_DEATHS
    reach: float                              # the age up to which 2 x min_deaths sessions were watched, hours
    group: str = "all"                        # whose lifetimes: pinged, unpinged or all
    min_deaths: int = MIN_DEATHS
    kaplan: bool = False                      # enough deaths and sessions for the curve
    hazard_steps: tuple[tuple[float, float, float], ...] = ()   # (t, d/n, d/n^2) at each death time <= reach

    @property
    def method(self) -> str:
        return "kaplan-meier" if self.kaplan else "exponential-bound"

    def survival(self, t: float) -> float:
        if not self.kaplan:
            return 1.0 if t <= 0 else math.exp(-self.hazard * t) if self.hazard < math.inf else 0.0
        if t > self.reach:
            return self.survival(self.reach) * math.exp(-self.hazard * (t - self.reach))
        i = bisect.bisect_right(self._times, t)
        return self.curve[i - 1][1] if i else 1.0

    @cached_property
    def _times(self) -> list[float]:
        return [t for t, _ in self.curve]

    def risk(self, age: float, span: float) -> float:
        """P(dies within `span` hours | alive at `age` hours)."""
        alive = self.survival(max(age, 0.0))
        return 1.0 if alive <= 0 else 1 - self.survival(max(age, 0.0) + span) / alive

    def risk_low(self, age: float, span: float, z: float = 1.645) -> float:
        """A one-sided lower bound on risk(age, span) (0 where the curve has no deaths: the bound
        regime, and past `reach`, say nothing about age)."""
        steps = [(h, v) for t, h, v in self.hazard_steps if age < t <= age + span]
        cumulative, variance = sum(h for h, _ in steps), sum(v for _, v in steps)
        return 1 - math.exp(-max(0.0, cumulative - z * math.sqrt(variance)))

    @property
    def basis(self) -> str:
        who = "" if self.group == "all" else f"{self.group} sessions: "
        if self.kaplan:
            return (f"{who}Kaplan–Meier of {self.sessions} sessions ({self.deaths} died, "
                    f"{self.sessions - self.deaths} replaced alive) to {span(self.reach)}, the 95 % bound past it")
        if self.exposure <= 0:
            return f"{who}no session watched yet: every hour is a risk, and a new login no safer"
        return (f"{who}{self.deaths} death(s) in {span(self.exposure, ',.0f')} watched: at most 1 death "
                f"per {span(1 / self.hazard, ',.0f')} of a session's life (95 % bound; a lifetime curve from "
                f"{self.min_deaths} deaths)")

    def to_json(self) -> dict:
        return {"method": self.method, "group": self.group, "deaths": self.deaths, "sessions": self.sessions,
                "exposureHours": round(self.exposure, 2), "hazardPerHour": self.hazard if self.hazard < math.inf else None,
                "basis": self.basis}


def estimate(lifetimes: Iterable[tuple[float, bool]], group: str = "all", min_deaths: int = MIN_DEATHS) -> Estimate:
    data = list(lifetimes)
    deaths = sum(1 for _, died in data if died)
    exposure = sum(t for t, _ in data)
    hazard = poisson_upper(deaths) / exposure if exposure > 0 else math.inf
    times, at_risk = sorted(t for t, _ in data), 2 * min_deaths
    reach = times[-at_risk] if len(times) >= at_risk else 0.0
    kaplan = deaths >= min_deaths and len(times) >= at_risk
    curve = tuple(c for c in kaplan_meier(data) if c[0] <= reach) if kaplan else ()
    steps = tuple(x for x in nelson_aalen(data) if x[0] <= reach) if kaplan else ()
    return Estimate(deaths, len(data), exposure, hazard, curve, reach, group, min_deaths, kaplan, steps)


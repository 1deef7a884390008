"""How long sessions live, as a survival curve, and when to refresh the current one.

A session replaced while still alive did not die: we only know it lived *at least* that long
(right-censored). Taking the median of the deaths alone drifts short (the long-lived sessions are
the ones refreshed before they die), so this is the Kaplan–Meier estimator:

    S(t) = product over death times t_i <= t of (1 - d_i / n_i)
           d_i deaths at t_i, n_i sessions still under watch just before t_i (dead or censored later)

refresh-by = the first time t at which 1 - S(t), the share of sessions already dead, reaches the
risk (MONITOR_REFRESH_RISK, default 10 %). With fewer than MONITOR_MIN_DEATHS deaths (default 5)
the curve says too little: the conservative prior (MONITOR_PRIOR_HOURS, default 12 h after the
login; the guide saw "24+ hours") stands in, or the curve if it is already earlier.

Why not lifelines: it pulls in numpy, pandas and scipy (tens of MB, seconds of import) for the
20 lines below; tests/test_survival.py checks them against a textbook table.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

from .ledger_view import span

DEFAULT_RISK = 0.10
DEFAULT_MIN_DEATHS = 5
DEFAULT_PRIOR_HOURS = 12.0


def kaplan_meier(lifetimes: Iterable[tuple[float, bool]]) -> list[tuple[float, float]]:
    """[(t, S(t))] at each distinct death time, from (hours, died) pairs; died=False is censored.
    A session censored at a death time counts as still under watch at it (the usual convention)."""
    data = sorted(lifetimes)
    at_risk, curve, s, i = len(data), [], 1.0, 0
    while i < len(data):
        t = data[i][0]
        deaths = leaving = 0
        while i < len(data) and data[i][0] == t:
            deaths += data[i][1]
            leaving += 1
            i += 1
        if deaths:
            s *= 1 - deaths / at_risk
            curve.append((t, s))
        at_risk -= leaving
    return curve


def time_at_risk(curve: list[tuple[float, float]], risk: float) -> float | None:
    """The first death time at which the share already dead reaches `risk` (None: never, so far)."""
    return next((t for t, s in curve if 1 - s >= risk - 1e-12), None)


@dataclass(frozen=True)
class RefreshBy:
    hours: float                  # after the session's start
    deaths: int                   # observed deaths behind the estimate
    sessions: int                 # all sessions, censored ones included
    learning: bool                # fewer deaths than min_deaths: the prior is in use
    basis: str                    # one line for the operator

    def to_json(self) -> dict:
        return {"hours": round(self.hours, 2), "deaths": self.deaths, "sessions": self.sessions,
                "learning": self.learning, "basis": self.basis}


def refresh_by(lifetimes: Iterable[tuple[float, bool]], *, risk: float = DEFAULT_RISK,
               min_deaths: int = DEFAULT_MIN_DEATHS, prior_hours: float = DEFAULT_PRIOR_HOURS) -> RefreshBy:
    """Hours after a session's start by which it should be refreshed (see the module doc)."""
    data = list(lifetimes)
    deaths = sum(1 for _, died in data if died)
    curve = kaplan_meier(data)
    at = time_at_risk(curve, risk)
    pct = f"{risk:.0%}"
    if deaths < min_deaths:
        hours = prior_hours if at is None else min(prior_hours, at)
        why = "the prior" if hours == prior_hours else f"{pct} of sessions already dead by then"
        return RefreshBy(hours, deaths, len(data), True,
                         f"learning ({deaths} of {min_deaths} deaths observed): {span(hours, 'g')} after login ({why})")
    if at is None:  # fewer than `risk` died within what was watched: refresh by the longest watch
        longest = max(t for t, _ in data)
        return RefreshBy(longest, deaths, len(data), False,
                         f"under {pct} of {len(data)} sessions died within {span(longest)} (Kaplan–Meier)")
    return RefreshBy(at, deaths, len(data), False,
                     f"{pct} of sessions die within {span(at)} (Kaplan–Meier, {deaths} deaths, "
                     f"{len(data) - deaths} censored)")

"""Page, prompt or stay quiet: the one decision `inv monitor` and bench/availability.py share.

    page    the session is dead: production is without MTN. At any hour.
    prompt  "refresh due" (`inv refresh`), once per session, only inside working hours, when both
              - the session's risk of dying before the next look is above MONITOR_REFRESH_RISK,
                and surely so (its 95 % lower bound is: estimator.risk_low), and
              - a fresh login's risk over the same span is clearly lower (at most half of it).
            The next look is the next check, except at the evening decision (the checks in the
            window's last hour, or the last check when checks are further apart): then it is the
            start of the next working window, since a death at night wakes someone.
    quiet   anything else: outside working hours, a session still alive waits (a death pages);
            a session whose risk a new login would not lower is left to run.

The risks come from estimator.py. A session just refreshed has the risk of a fresh one, so it is
never asked for again; while the estimate cannot tell age from risk (few deaths), nothing is.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from .estimator import DEFAULT_RISK, Estimate
from .schedule import WorkingHours

EVENING = timedelta(hours=1)     # the window's last hour: time for the person asked to act in it
CLEARLY_LOWER = 0.5              # a fresh login must at least halve the risk
SURE = 1.645                     # the risk must clear MONITOR_REFRESH_RISK at its one-sided 95 % lower bound


@dataclass(frozen=True)
class Decision:
    action: str                   # page | prompt | quiet
    reason: str
    until: datetime | None = None     # the end of the span the risks are over
    risk: float | None = None         # the session's risk of dying before `until`
    fresh: float | None = None        # a fresh login's risk over the same span


def next_look(at: datetime, hours: WorkingHours, interval: timedelta) -> tuple[datetime, bool] | None:
    """(when the next look that matters is, is this the evening decision); None outside working hours."""
    end = hours.window_end(at)
    if end is None:
        return None
    if end - at <= max(interval, EVENING):
        return hours.next_start(end), True
    return at + interval, False


def decide(at: datetime, *, alive: bool, age: timedelta, estimate: Estimate, prompted: bool,
           hours: WorkingHours, interval: timedelta, risk: float = DEFAULT_RISK, sure: float = SURE) -> Decision:
    """What to do about the current session (`age` since its login) at a check made at `at`,
    checks coming every `interval` (the hourly workflow, a watcher's 15 minutes, or keepalive's).
    `sure`: the z of the one-sided lower bound the risk must clear (0: the point estimate)."""
    if not alive:
        return Decision("page", "the session is dead: production is without MTN")
    if prompted:
        return Decision("quiet", "refresh due was already raised for this session")
    look = next_look(at, hours, interval)
    if look is None:
        return Decision("quiet", f"outside working hours ({hours.describe()}): no login is asked for "
                                 "while the session works; if it dies, that pages at any hour")
    until, evening = look
    span = (until - at).total_seconds() / 3600
    now_risk = estimate.risk(age.total_seconds() / 3600, span)
    fresh = estimate.risk(0.0, span)
    when = "before the next working window" if evening else "before the next check"
    said = f"{now_risk:.0%} risk it dies {when} (a new login: {fresh:.0%})"
    if now_risk <= risk:
        return Decision("quiet", f"{said}: under the {risk:.0%} threshold", until, now_risk, fresh)
    if estimate.risk_low(age.total_seconds() / 3600, span, sure) <= risk:
        return Decision("quiet", f"{said}: too few deaths at this age to say it is over {risk:.0%}",
                        until, now_risk, fresh)
    if fresh > CLEARLY_LOWER * now_risk:
        return Decision("quiet", f"{said}: a new login would not lower it enough", until, now_risk, fresh)
    return Decision("prompt", said, until, now_risk, fresh)


def next_prompt(at: datetime, *, start: datetime, estimate: Estimate, hours: WorkingHours,
                interval: timedelta, risk: float = DEFAULT_RISK, horizon: timedelta = timedelta(days=30)) -> datetime | None:
    """The first check from `at` at which decide() would ask for a new login for a session that
    started at `start` and stays alive (None: none within `horizon`). Shown as refresh-by."""
    if not estimate.kaplan:   # a constant hazard: a new login is never safer
        return None
    t = at
    while t < at + horizon:
        if hours.window_end(t) is None:
            t = hours.next_start(t)
            continue
        d = decide(t, alive=True, age=t - start, estimate=estimate, prompted=False, hours=hours,
                   interval=interval, risk=risk)
        if d.action == "prompt":
            return t
        t += interval
    return None

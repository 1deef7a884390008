"""Page, prompt or stay quiet: the one decision `inv monitor` and bench/availability.py share.

    page    the session is dead: production is without MTN. At any hour.
    prompt  "refresh due" (`inv refresh`), once per session, only inside working hours:
              - refresh-by comes before the next check could see it, or
              - this is one of the window's last checks (under one check interval plus
                ACT_MARGIN to its end) and refresh-by comes before the next window opens:
                ask now, while someone is at work, rather than at night.
    quiet   anything else (outside working hours a session that is alive waits: if it dies, it pages).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from .schedule import WorkingHours

ACT_MARGIN = timedelta(hours=1)   # time a person asked near the end of the window needs to act in it


@dataclass(frozen=True)
class Decision:
    action: str                   # page | prompt | quiet
    reason: str


def decide(at: datetime, *, alive: bool, refresh_by: datetime | None, prompted: bool,
           hours: WorkingHours, interval: timedelta) -> Decision:
    """What to do about the current session at a check made at `at` (checks every `interval`)."""
    if not alive:
        return Decision("page", "the session is dead: production is without MTN")
    if prompted:
        return Decision("quiet", "refresh due was already raised for this session")
    if refresh_by is None:
        return Decision("quiet", "no refresh-by time")
    end = hours.window_end(at)
    if end is None:
        return Decision("quiet", "outside working hours: a session still alive waits (a death pages)")
    if refresh_by <= at + interval:
        return Decision("prompt", "refresh-by comes before the next check")
    if end - at <= interval + ACT_MARGIN and refresh_by < hours.next_start(end):
        return Decision("prompt", "the session is likely to die before the next working window")
    return Decision("quiet", "refresh-by is after the next check")

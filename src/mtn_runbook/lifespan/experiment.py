"""The keepalive experiment: does use keep an MTN session alive?

Two groups, from the lifespan ledger (`Record.ping`, the interval a session had when last seen):
    pinged      `inv keepalive` validated it every N minutes (N recorded with each ping)
    unpinged    "none": the retired session in `.prev`, which only the shadow probe checks, at
                most every 6 hours (refresh_due.SHADOW_EVERY), so nothing keeps it in use
Sessions seen only by the hourly monitor belong to neither group.

A pinged session's lifetime is its life *while pinged*: when keepalive did not see it die (its
last ping came more than two intervals before the death was seen), keepalive had stopped, so the
death is not a pinged one; the session lived pinged at least until its last ping (censored there).

Each group's median lifetime is read off its Kaplan–Meier curve (estimator.py: a session replaced
while alive counts as living at least that long). The answer waits for MIN_DEATHS deaths in each
group; until then the line says how many each still needs. Then:
    pinged median >= HELPS x unpinged median        "keepalive helps"
    pinged median <= NO_HELP x unpinged median      "keepalive does not help"
    in between                                      "unclear" (keep collecting)
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Iterable

from .estimator import Estimate, estimate, kaplan_meier
from .ledger_records import Record

MIN_DEATHS = 5
HELPS = 2.0
NO_HELP = 1.25


@dataclass(frozen=True)
class Group:
    name: str
    sessions: int
    deaths: int
    median_hours: float | None        # None: fewer than half died within the longest watch
    longest_hours: float

    def median_text(self, first: bool = True) -> str:
        if self.median_hours is not None:
            return f"{'a median ' if first else ''}{_days(self.median_hours)}"
        return f"over {_days(self.longest_hours)} (median not reached)"

    def to_json(self) -> dict:
        return {"sessions": self.sessions, "deaths": self.deaths, "longestHours": round(self.longest_hours, 2),
                "medianHours": round(self.median_hours, 2) if self.median_hours is not None else None}


def _days(hours: float) -> str:
    return f"{hours / 24:.1f} d"


def median(lifetimes: list[tuple[float, bool]]) -> float | None:
    """The first death time at which the Kaplan–Meier curve falls to one half or below."""
    return next((t for t, s in kaplan_meier(lifetimes) if s <= 0.5 + 1e-12), None)


def pinged(r: Record) -> bool:
    return isinstance(r.ping, (int, float))


def lifetime(r: Record) -> tuple[float, bool] | None:
    """Record.lifetime(), except a pinged death keepalive did not see: censored at the last ping."""
    life = r.lifetime()
    if life is None or not life[1] or not pinged(r) or r.ping_at is None or r.first_dead is None:
        return life
    if r.first_dead - r.ping_at <= timedelta(minutes=2 * float(r.ping)):
        return life
    return max((r.ping_at - r.start).total_seconds() / 3600, 0.0), False


def estimate_for(records: Iterable[Record], current: Record | None, min_deaths: int = MIN_DEATHS) -> Estimate:
    """The estimate for `current`'s group: pinged sessions from pinged lifetimes only, the others
    from the others' (each group lives by its own evidence; the experiment compares them)."""
    mine = current is not None and pinged(current)
    lives = [life for life in (lifetime(r) for r in records if pinged(r) == mine) if life is not None]
    return estimate(lives, "pinged" if mine else "unpinged", min_deaths)


def group(name: str, records: Iterable[Record]) -> Group:
    lives = [life for life in (lifetime(r) for r in records) if life is not None]
    return Group(name, len(lives), sum(1 for _, died in lives if died), median(lives),
                 max((t for t, _ in lives), default=0.0))


def groups(records: Iterable[Record]) -> tuple[Group, Group]:
    records = list(records)
    return group("pinged", [r for r in records if pinged(r)]), group("unpinged", [r for r in records if r.ping == "none"])


def verdict(records: Iterable[Record], min_deaths: int = MIN_DEATHS) -> dict:
    """{"answer": helps | no-help | unclear | waiting, "line": one line, "pinged": ..., "unpinged": ...}"""
    pinged, unpinged = groups(records)
    data = {"pinged": pinged.to_json(), "unpinged": unpinged.to_json(), "minDeaths": min_deaths}
    short = [(g, min_deaths - g.deaths) for g in (pinged, unpinged) if g.deaths < min_deaths]
    if short:
        needs = " and ".join(f"{k} more death{'s' if k != 1 else ''} of {g.name} sessions ({g.deaths} of {min_deaths})"
                             for g, k in short)
        return {**data, "answer": "waiting", "line": f"needs {needs}"}
    said = (f"pinged sessions lived {pinged.median_text()} (n={pinged.deaths}), "
            f"unpinged {unpinged.median_text(first=False)} (n={unpinged.deaths})")
    p = pinged.median_hours if pinged.median_hours is not None else pinged.longest_hours
    u = unpinged.median_hours if unpinged.median_hours is not None else unpinged.longest_hours
    if p >= HELPS * u:
        answer, words = "helps", "keepalive helps"
    elif p <= NO_HELP * u:
        answer, words = "no-help", "keepalive does not help"
    else:
        answer, words = "unclear", f"unclear (pinged {p / u if u else 0:.2g}x as long; keep collecting)"
    return {**data, "answer": answer, "line": f"{said}: {words}"}

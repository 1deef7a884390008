"""The keepalive experiment: does use keep an MTN session alive?

Two groups, from the lifespan ledger (`Record.ping`, the interval a session had when last seen):
    pinged      `inv keepalive` validated it every N minutes (N recorded with each ping)
    unpinged    "none": the retired session in `.prev`, which only the shadow probe checks, at
                most every 6 hours (refresh_due.SHADOW_EVERY), so nothing keeps it in use
Sessions seen only by the hourly monitor belong to neither group.

Each group's median lifetime is read off its Kaplan–Meier curve (survival.py: a session replaced
while alive counts as living at least that long). The answer waits for MIN_DEATHS deaths in each
group; until then the line says how many each still needs. Then:
    pinged median >= HELPS x unpinged median        "keepalive helps"
    pinged median <= NO_HELP x unpinged median      "keepalive does not help"
    in between                                      "unclear" (keep collecting)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

from .ledger import Record
from .survival import kaplan_meier

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


def group(name: str, records: Iterable[Record]) -> Group:
    lives = [life for life in (r.lifetime() for r in records) if life is not None]
    return Group(name, len(lives), sum(1 for _, died in lives if died), median(lives),
                 max((t for t, _ in lives), default=0.0))


def groups(records: Iterable[Record]) -> tuple[Group, Group]:
    records = list(records)
    pinged = [r for r in records if isinstance(r.ping, (int, float))]
    unpinged = [r for r in records if r.ping == "none"]
    return group("pinged", pinged), group("unpinged", unpinged)


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

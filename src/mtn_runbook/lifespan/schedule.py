"""Working hours in a time zone: when a person can be asked to refresh without being woken.

    MONITOR_WORKING_HOURS  "Mon-Fri 08:00-18:00" (days: Mon..Sun, a range or a comma list)
    MONITOR_TIMEZONE       an IANA name, e.g. "Africa/Johannesburg" (zoneinfo, stdlib)

Also the scheduled check's own timing (CHECK_INTERVAL, CRON), which the workflow's cron line,
the policy and bench/availability.py share; tests/test_schedule.py checks the workflow matches.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import TYPE_CHECKING

from ..core.errors import ConfigError

if TYPE_CHECKING:  # zoneinfo loads when working hours are parsed, not for CHECK_INTERVAL (inv validate)
    from zoneinfo import ZoneInfo

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DEFAULT_HOURS = "Mon-Fri 08:00-18:00"
DEFAULT_TIMEZONE = "Africa/Johannesburg"
# The scheduled workflow: hourly at minute 17 (GitHub delays and drops the most runs at :00).
CRON = "17 * * * *"
CHECK_INTERVAL = timedelta(hours=1)
SPEC = re.compile(r"^\s*([A-Za-z]{3}(?:\s*[-,]\s*[A-Za-z]{3})*)\s+(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")


@dataclass(frozen=True)
class WorkingHours:
    days: frozenset[int]          # 0 = Monday
    start: time
    end: time
    tz: ZoneInfo
    spec: str = DEFAULT_HOURS

    @classmethod
    def parse(cls, spec: str = DEFAULT_HOURS, timezone: str = DEFAULT_TIMEZONE) -> "WorkingHours":
        """Raise ConfigError naming the variable for anything it cannot read."""
        m = SPEC.match(spec or "")
        if not m:
            raise ConfigError(f"MONITOR_WORKING_HOURS {spec!r} is not like 'Mon-Fri 08:00-18:00'")
        days: set[int] = set()
        for part in re.split(r"\s*,\s*", m.group(1).lower()):
            ends = [p.strip() for p in part.split("-")]
            if any(e not in DAYS for e in ends):
                raise ConfigError(f"MONITOR_WORKING_HOURS {spec!r}: days are Mon, Tue, Wed, Thu, Fri, Sat, Sun")
            first, last = DAYS.index(ends[0]), DAYS.index(ends[-1])
            days.update(range(first, last + 1) if first <= last else [*range(first, 7), *range(0, last + 1)])
        h1, m1, h2, m2 = (int(m.group(i)) for i in range(2, 6))
        if h1 > 23 or h2 > 24 or m1 > 59 or m2 > 59 or (h2 == 24 and m2) or (h1, m1) >= (h2, m2):
            raise ConfigError(f"MONITOR_WORKING_HOURS {spec!r}: the window must start before it ends, within a day")
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            tz = ZoneInfo(timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ConfigError(f"MONITOR_TIMEZONE {timezone!r} is not a known time zone",
                              "use an IANA name such as Africa/Johannesburg or UTC") from None
        end = time.max if h2 == 24 else time(h2, m2)
        return cls(frozenset(days), time(h1, m1), end, tz, spec)

    def _window(self, day, at_start: bool) -> datetime:
        return datetime.combine(day, self.start if at_start else self.end, self.tz)

    def contains(self, at: datetime) -> bool:
        local = at.astimezone(self.tz)
        return local.weekday() in self.days and self.start <= local.time() < self.end

    def window_end(self, at: datetime) -> datetime | None:
        """The end of the working window `at` is in (None outside working hours)."""
        return self._window(at.astimezone(self.tz).date(), False) if self.contains(at) else None

    def next_start(self, at: datetime) -> datetime:
        """The start of the first working window that begins after `at`."""
        day = at.astimezone(self.tz).date()
        for offset in range(8):
            d = day + timedelta(days=offset)
            start = self._window(d, True)
            if d.weekday() in self.days and start > at:
                return start
        raise ConfigError("MONITOR_WORKING_HOURS has no working day")  # parse() never lets this happen

    def describe(self) -> str:
        return f"{self.spec} {self.tz.key}"

"""Times as this project reads and writes them: the clock, ISO 8601 in and out, and the spans and
relative times people read ("3 h 10 min", "in 45 min", "passed 2 h ago").

One helper each, so that every task says a time the same way.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from .errors import SessionFormatError


def now() -> datetime:
    return to_ms(datetime.now(timezone.utc))


def to_ms(moment: datetime) -> datetime:
    """Millisecond precision, as stored: a saved session then equals the one in memory."""
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)


def iso(moment: datetime) -> str:
    """ISO 8601 the way JavaScript's toISOString writes it (the app parses it with new Date)."""
    return moment.astimezone(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def parse_time(text: Any, what: str) -> datetime:
    """An ISO 8601 date string (naive = UTC), years 1970 to 9000; else SessionFormatError naming `what`."""
    if not isinstance(text, str) or not text.strip():
        raise SessionFormatError(f"{what} is not an ISO 8601 date string")
    try:
        moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise SessionFormatError(f"{what} {text!r} is not an ISO 8601 date") from None
    moment = moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)
    try:  # year 1 or 9999 with an offset cannot even be turned into UTC
        utc = moment.astimezone(timezone.utc)
    except OverflowError:
        utc = None
    if utc is None or not 1970 <= utc.year <= 9000:
        raise SessionFormatError(f"{what} {text!r} is out of range (years 1970 to 9000)")
    return moment


def parse_time_or_none(text: Any) -> datetime | None:
    """parse_time for a time that may be missing or unreadable (a journal's, a ledger's, an
    API's): None instead of an error."""
    try:
        return parse_time(text, "time")
    except SessionFormatError:
        return None


def minutes_until(moment: datetime, at: datetime | None = None) -> float:
    """Minutes from `at` (now) to `moment`: negative once it has passed."""
    return (moment - (at or now())).total_seconds() / 60


def duration(minutes: float, *, seconds_below: float = 0) -> str:
    """A span of time the way an operator says it: "45 min", "3 h 10 min", "2 days 4 h"; in
    seconds ("20 s") under `seconds_below` minutes."""
    if minutes < seconds_below:
        return f"{minutes * 60:.0f} s"
    minutes = int(round(minutes))
    if minutes < 60:
        return f"{minutes} min"
    hours, rest = divmod(minutes, 60)
    if hours < 48:
        return f"{hours} h {rest} min" if rest else f"{hours} h"
    return f"{hours // 24} days {hours % 24} h"


def relative(minutes: float) -> str:
    """A moment `minutes` away: "in 45 min", or "passed 2 h ago" once it has passed."""
    return f"in {duration(minutes)}" if minutes >= 0 else f"passed {duration(-minutes)} ago"


def span(hours: float, fmt: str = ".1f") -> str:
    """A lifetime for people: hours from one hour up, else minutes, else seconds (a rehearsal's
    sessions live seconds; "0.0 h" said nothing, "0.00662264 h" too much)."""
    if hours >= 1:
        return f"{hours:{fmt}} h"
    if hours * 60 >= 1:
        return f"{hours * 60:.0f} min"
    return f"{hours * 3600:.0f} s"

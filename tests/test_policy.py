"""The page / prompt / quiet decision that `inv monitor` and bench/availability.py share."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from mtn_runbook.health.policy import decide
from mtn_runbook.health.schedule import WorkingHours

JHB = WorkingHours.parse("Mon-Fri 08:00-18:00", "Africa/Johannesburg")   # UTC+2
HOUR = timedelta(hours=1)


def at(day: int, hour: int, minute: int = 17) -> datetime:
    """March 2026 in SAST: day 2 is a Monday, 6 a Friday, 7 a Saturday."""
    return datetime(2026, 3, day, hour, minute, tzinfo=timezone.utc) - timedelta(hours=2)


def choose(when, refresh_by, *, alive=True, prompted=False):
    return decide(when, alive=alive, refresh_by=refresh_by, prompted=prompted, hours=JHB, interval=HOUR)


def test_refresh_due_inside_working_hours_when_the_next_check_would_be_late():
    d = choose(at(3, 10), at(3, 11, 0))
    assert (d.action, d.reason) == ("prompt", "refresh-by comes before the next check")
    assert choose(at(3, 10), at(3, 9)).action == "prompt"          # already passed
    assert choose(at(3, 10), at(3, 13)).action == "quiet"          # later today: a later check will ask


def test_raised_once_per_session():
    assert choose(at(3, 10), at(3, 11, 0), prompted=True).action == "quiet"


def test_prompt_at_the_end_of_the_window_when_it_would_die_before_the_next():
    night = at(4, 2)                                                # Wed 02:00
    d = choose(at(3, 16), night)                                    # Tue 16:17, under 2 h to 18:00
    assert (d.action, d.reason) == ("prompt", "the session is likely to die before the next working window")
    assert choose(at(3, 14), night).action == "quiet"               # too early in the afternoon to ask yet
    assert choose(at(3, 16), at(4, 9)).action == "quiet"            # lasts into tomorrow's window
    # Friday afternoon: the next window is Monday
    assert choose(at(6, 16), at(8, 12)).action == "prompt"


def test_quiet_at_night_while_alive_but_a_dead_session_pages_at_any_hour():
    assert choose(at(3, 23), at(3, 22)).action == "quiet"
    assert choose(at(7, 3), at(7, 1)).action == "quiet"             # Saturday night
    d = choose(at(7, 3), at(7, 1), alive=False, prompted=True)
    assert (d.action, d.reason) == ("page", "the session is dead: production is without MTN")

"""Working hours in a time zone, bad settings as one line, and the workflow's cron matching the
interval the policy and the bench assume."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import pytest
import yaml

from mtn_runbook.core.errors import ConfigError
from mtn_runbook.lifespan.schedule import CHECK_INTERVAL, CRON, WorkingHours

JHB = WorkingHours.parse("Mon-Fri 08:00-18:00", "Africa/Johannesburg")   # UTC+2, no daylight saving


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=timezone.utc)


def test_inside_and_outside_working_hours():
    assert JHB.contains(utc(2026, 3, 2, 6, 0))          # Mon 08:00 SAST
    assert not JHB.contains(utc(2026, 3, 2, 5, 59))     # Mon 07:59
    assert not JHB.contains(utc(2026, 3, 2, 16, 0))     # Mon 18:00: the window has closed
    assert not JHB.contains(utc(2026, 3, 7, 10, 0))     # Saturday
    assert JHB.window_end(utc(2026, 3, 2, 10, 0)) == utc(2026, 3, 2, 16, 0)
    assert JHB.window_end(utc(2026, 3, 2, 20, 0)) is None


def test_next_window_skips_the_weekend():
    assert JHB.next_start(utc(2026, 3, 6, 16, 0)) == utc(2026, 3, 9, 6, 0)    # Fri 18:00 -> Mon 08:00
    assert JHB.next_start(utc(2026, 3, 2, 3, 0)) == utc(2026, 3, 2, 6, 0)     # Mon 05:00 -> Mon 08:00


def test_daylight_saving_zone_and_day_lists():
    ny = WorkingHours.parse("Mon,Wed,Fri 09:00-17:00", "America/New_York")
    assert ny.days == frozenset({0, 2, 4})
    assert ny.contains(utc(2026, 1, 5, 14, 0)) and ny.contains(utc(2026, 7, 6, 13, 0))   # EST / EDT
    assert not ny.contains(utc(2026, 1, 6, 14, 0))                                        # Tuesday
    assert WorkingHours.parse("Sat-Mon 10:00-12:00", "UTC").days == frozenset({5, 6, 0})


@pytest.mark.parametrize("spec, tz, message", [
    ("weekdays", "UTC", "MONITOR_WORKING_HOURS 'weekdays' is not like 'Mon-Fri 08:00-18:00'"),
    ("Mon-Fry 08:00-18:00", "UTC", "MONITOR_WORKING_HOURS 'Mon-Fry 08:00-18:00': days are"),
    ("Mon-Fri 18:00-08:00", "UTC", "the window must start before it ends"),
    ("Mon-Fri 08:00-18:00", "Mars/Olympus", "MONITOR_TIMEZONE 'Mars/Olympus' is not a known time zone"),
])
def test_bad_settings_name_the_variable(spec, tz, message):
    with pytest.raises(ConfigError) as e:
        WorkingHours.parse(spec, tz)
    assert message in e.value.message and e.value.exit_code == 2


def test_workflow_cron_is_the_schedule_the_policy_assumes():
    workflow = Path(__file__).resolve().parents[1] / ".github/workflows/validate-mtn-session.yml"
    on = yaml.safe_load(workflow.read_text())[True]   # YAML 1.1 reads `on:` as True
    assert on["schedule"] == [{"cron": CRON}]
    minute, hour = CRON.split()[:2]
    assert minute not in ("0", "00", "*") and hour == "*" and CHECK_INTERVAL.total_seconds() == 3600

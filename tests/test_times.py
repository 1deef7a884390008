"""core/times.py: the one way a time is read and said (fast: no sandbox)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from mtn_runbook.core.errors import SessionFormatError
from mtn_runbook.core.times import duration, minutes_until, parse_time, parse_time_or_none, relative, span


@pytest.mark.parametrize(("minutes", "said"), [
    (0.4, "0 min"), (45, "45 min"), (60, "1 h"), (190, "3 h 10 min"), (47 * 60 + 59, "47 h 59 min"),
    (52 * 60, "2 days 4 h"),
])
def test_duration_as_an_operator_says_it(minutes, said):
    assert duration(minutes) == said


def test_duration_in_seconds_below_a_threshold():
    # a login link's wait: "20 s" under two minutes, then minutes
    assert duration(20 / 60, seconds_below=2) == "20 s"
    assert duration(119 / 60, seconds_below=2) == "119 s"
    assert duration(2, seconds_below=2) == "2 min"


@pytest.mark.parametrize(("minutes", "said"), [
    (45, "in 45 min"), (0, "in 0 min"), (-0.2, "passed 0 min ago"), (-130, "passed 2 h 10 min ago"),
])
def test_relative_says_in_or_passed_ago(minutes, said):
    assert relative(minutes) == said


def test_minutes_until_is_negative_once_passed():
    at = datetime(2026, 1, 1, 12, tzinfo=timezone.utc)
    assert minutes_until(at + timedelta(minutes=90), at) == 90
    assert minutes_until(at - timedelta(hours=1), at) == -60


@pytest.mark.parametrize("bad", [None, "", "  ", 17, "yesterday", "0001-01-01T00:00:00+01:00", "9999-01-01T00:00:00Z"])
def test_parse_time_or_none_gives_none_for_what_parse_time_refuses(bad):
    with pytest.raises(SessionFormatError):
        parse_time(bad, "x")
    assert parse_time_or_none(bad) is None


def test_parse_time_reads_z_and_naive_as_utc():
    utc = datetime(2026, 5, 1, 8, 30, tzinfo=timezone.utc)
    assert parse_time_or_none("2026-05-01T08:30:00Z") == utc
    assert parse_time("2026-05-01T08:30:00", "x") == utc


@pytest.mark.parametrize(("hours", "said"), [(2.0, "2.0 h"), (0.5, "30 min"), (0.0066, "24 s")])
def test_span_for_lifetimes(hours, said):
    assert span(hours) == said

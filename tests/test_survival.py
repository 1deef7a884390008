"""Kaplan–Meier against a textbook table, censoring, and refresh-by with the prior while learning."""

from __future__ import annotations

import pytest

from mtn_runbook.health.ledger_view import span
from mtn_runbook.health.survival import kaplan_meier, refresh_by, time_at_risk

# Freireich et al. (1963) 6-MP arm of the leukaemia remission trial, weeks; False = censored.
# Kleinbaum & Klein, "Survival Analysis", table 2.2 (and Kaplan & Meier's own worked example).
SIX_MP = [(6, True), (6, True), (6, True), (6, False), (7, True), (9, False), (10, True), (10, False),
          (11, False), (13, True), (16, True), (17, False), (19, False), (20, False), (22, True), (23, True),
          (25, False), (32, False), (32, False), (34, False), (35, False)]
TEXTBOOK = [(6, 0.8571), (7, 0.8067), (10, 0.7529), (13, 0.6902), (16, 0.6275), (22, 0.5378), (23, 0.4482)]


def test_kaplan_meier_matches_the_textbook_table():
    curve = kaplan_meier(SIX_MP)
    assert [t for t, _ in curve] == [t for t, _ in TEXTBOOK]
    for (_, s), (_, expected) in zip(curve, TEXTBOOK):
        assert s == pytest.approx(expected, abs=5e-5)


def test_censored_sessions_push_the_estimate_later_than_the_deaths_alone():
    """Sessions refreshed while alive (censored) are evidence they live at least that long:
    ignoring them (the old median-of-deaths) says sessions die sooner than they do."""
    deaths_only = [(h, True) for h in (10, 20, 30, 40, 50)]
    with_censored = deaths_only + [(35, False)] * 10
    assert time_at_risk(kaplan_meier(deaths_only), 0.5) == 30
    assert time_at_risk(kaplan_meier(with_censored), 0.5) == 40
    # a censored session counts as alive at its censoring time, dead ones do not come back
    assert kaplan_meier([(5, False), (5, True), (8, True)]) == [(5, pytest.approx(2 / 3)), (8, 0.0)]


def test_refresh_by_is_the_time_the_risk_is_reached():
    data = [(h, True) for h in range(1, 21)]          # one death an hour, 20 sessions
    est = refresh_by(data, risk=0.10, min_deaths=5)
    assert est.hours == 2 and not est.learning and est.deaths == 20
    assert est.basis == "10% of sessions die within 2.0 h (Kaplan–Meier, 20 deaths, 0 censored)"
    assert refresh_by(data, risk=0.25, min_deaths=5).hours == 5


def test_the_prior_while_learning_says_k_of_n():
    est = refresh_by([(30, True), (40, True), (20, False)], risk=0.1, min_deaths=5, prior_hours=12)
    assert est.learning and est.hours == 12 and est.deaths == 2
    assert est.basis == "learning (2 of 5 deaths observed): 12 h after login (the prior)"
    assert refresh_by([], prior_hours=12).basis.startswith("learning (0 of 5 deaths observed): 12 h")
    # while learning, an early death still wins over the prior (conservative)
    early = refresh_by([(3, True), (40, False)], risk=0.1, min_deaths=5, prior_hours=12)
    assert early.learning and early.hours == 3


def test_when_few_die_within_the_watch_the_longest_watch_is_the_answer():
    data = [(10, True), (20, True), (30, True)] + [(40, False)] * 47    # 6 % died within 40 h
    est = refresh_by(data, risk=0.10, min_deaths=3)
    assert est.hours == 40 and not est.learning
    assert est.basis == "under 10% of 50 sessions died within 40.0 h (Kaplan–Meier)"


def test_lifetimes_under_an_hour_read_in_minutes_or_seconds():
    """A rehearsal (`inv sandbox --time-scale 3600`) has sessions that live seconds: the ledger and
    the monitor said "0.0 h" and "0.00662264 h after login"."""
    rehearsal = [(s / 3600, True) for s in (20, 24, 30, 31, 40)]          # seconds, as hours
    assert refresh_by(rehearsal, risk=0.10, min_deaths=2).basis.startswith("10% of sessions die within 20 s ")
    assert refresh_by([(0.00662264, True)], min_deaths=5, prior_hours=0.5).basis == (
        "learning (1 of 5 deaths observed): 24 s after login (10% of sessions already dead by then)")
    assert refresh_by([], prior_hours=0.5).basis.startswith("learning (0 of 5 deaths observed): 30 min after login")
    assert [span(h) for h in (26.04, 1.0, 0.75, 1 / 60, 0.004)] == ["26.0 h", "1.0 h", "45 min", "1 min", "14 s"]

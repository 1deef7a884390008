"""The lifespan estimator (lifespan/estimator.py) against a published censored data set, and what
censored sessions (replaced while alive) teach it."""

from __future__ import annotations

import math

import pytest

from mtn_runbook.lifespan.estimator import estimate, kaplan_meier, nelson_aalen, poisson_upper
from mtn_runbook.core.times import span

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
    est = estimate(SIX_MP)                            # 9 deaths: the curve, not the bound
    assert est.method == "kaplan-meier" and est.survival(12) == pytest.approx(0.7529, abs=5e-5)
    assert est.risk(10, 3) == pytest.approx(1 - 0.6902 / 0.7529, abs=1e-4)


def test_the_nelson_aalen_steps_behind_the_lower_bound():
    """The 6-MP arm's cumulative hazard at 23 weeks: 3/21 + 1/17 + 1/15 + 1/12 + 1/11 + 1/7 + 1/6."""
    steps = nelson_aalen(SIX_MP)
    assert [t for t, _, _ in steps] == [t for t, _ in TEXTBOOK]
    assert sum(h for _, h, _ in steps) == pytest.approx(3 / 21 + 1 / 17 + 1 / 15 + 1 / 12 + 1 / 11 + 1 / 7 + 1 / 6)
    assert steps[0] == (6, pytest.approx(3 / 21), pytest.approx(3 / 21 ** 2))
    est = estimate(SIX_MP)                       # over (9, 16]: 1/15 + 1/12 + 1/11 = 0.241, sd 0.139
    low = 1 - math.exp(-(1 / 15 + 1 / 12 + 1 / 11 - 1.645 * math.sqrt(1 / 225 + 1 / 144 + 1 / 121)))
    assert est.risk_low(9, 7) == pytest.approx(low) and est.risk_low(9, 7) < est.risk(9, 7)


def test_the_exponential_fit_with_censoring_matches_the_textbook():
    """The same 6-MP arm under a constant hazard: 9 relapses in 359 weeks of follow-up, the
    maximum-likelihood hazard 9/359 = 0.025 per week (Kleinbaum & Klein, ch. 7; Collett, "Modelling
    Survival Data", 5.1); its exact one-sided 95 % upper bound is chi2(0.95; 20) / (2 x 359), with
    chi2(0.95; 20) = 31.410 from any chi-square table."""
    est = estimate(SIX_MP, min_deaths=100)            # kept in the bound regime
    assert est.method == "exponential-bound" and est.deaths == 9 and est.exposure == 359
    assert est.deaths / est.exposure == pytest.approx(0.0251, abs=1e-4)
    assert 2 * poisson_upper(9) == pytest.approx(31.410, abs=1e-3)
    assert est.hazard == pytest.approx(31.410 / 718, rel=1e-4)
    assert est.survival(10) == pytest.approx(math.exp(-10 * 31.410 / 718), rel=1e-4)


def test_no_deaths_is_the_rule_of_three_and_censored_hours_lower_it():
    assert poisson_upper(0) == pytest.approx(-math.log(0.05))          # 2.996: the "rule of three"
    few, many = estimate([(24, False)] * 3), estimate([(240, False)] * 20)
    assert few.hazard == pytest.approx(2.996 / 72, rel=1e-3) and many.hazard == pytest.approx(2.996 / 4800, rel=1e-3)
    assert many.risk(24, 62) == pytest.approx(1 - math.exp(-62 * 2.996 / 4800), rel=1e-3)   # 3.8 %, a weekend
    assert many.risk(24, 62) == many.risk(0, 62)     # memoryless: a new login is no safer
    assert many.basis == ("0 death(s) in 4,800 h watched: at most 1 death per 1,602 h of a session's life "
                          "(95 % bound; a lifetime curve from 5 deaths)")
    nothing = estimate([])
    assert nothing.risk(0, 1) == 1.0 and nothing.basis.startswith("no session watched yet")


def test_censored_sessions_push_the_curve_later_than_the_deaths_alone():
    """Sessions refreshed while alive (censored) are evidence they live at least that long."""
    deaths_only = [(h, True) for h in range(5, 105, 5)]          # twenty deaths, 5 h to 100 h
    with_censored = deaths_only + [(35, False)] * 10
    assert estimate(deaths_only).survival(30) == pytest.approx(0.7)
    assert estimate(with_censored).survival(30) == pytest.approx(0.8)
    # a censored session counts as alive at its censoring time, dead ones do not come back
    assert kaplan_meier([(5, False), (5, True), (8, True)]) == [(5, pytest.approx(2 / 3)), (8, 0.0)]


def test_the_curve_holds_while_ten_sessions_are_watched_then_the_bound():
    data = [(h, True) for h in (10, 20, 30, 40, 50)] + [(100, False)] * 15
    est = estimate(data)
    assert est.reach == 100 and est.survival(100) == pytest.approx(0.75)
    assert est.survival(110) == pytest.approx(0.75 * math.exp(-10 * est.hazard))
    # three old sessions, one dies: not a 33 % risk at that age, the bound's
    few_old = estimate([(h, True) for h in (10, 11, 12, 13, 14)] + [(20, False)] * 7 + [(200, False), (210, True), (220, False)])
    assert few_old.reach == 20 and few_old.risk(205, 10) == pytest.approx(1 - math.exp(-10 * few_old.hazard))


def test_lifetimes_under_an_hour_read_in_minutes_or_seconds():
    """A rehearsal (`inv sandbox --time-scale 3600`) has sessions that live seconds."""
    assert "in 30 s watched" in estimate([(10 / 3600, False)] * 3).basis
    assert [span(h) for h in (26.04, 1.0, 0.75, 1 / 60, 0.004)] == ["26.0 h", "1.0 h", "45 min", "1 min", "14 s"]

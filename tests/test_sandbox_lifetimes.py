"""The MTN stand-in ends sessions after a drawn lifetime or an idle spell, whichever comes first,
with sandbox time running faster than the wall clock."""

from __future__ import annotations

import time
from types import SimpleNamespace

import httpx
import pytest

from mtn_runbook.core.errors import ConfigError
from mtn_runbook.sandbox import Sandbox
from mtn_runbook.sandbox.lifetimes import Lifetimes, drawer
from mtn_runbook.sandbox.mtn import PRODUCTS_PATH


class Clock:
    def __init__(self):
        self.t = 0.0

    def __call__(self) -> float:
        return self.t


def options(**kw):
    base = {"session_hours": None, "session_idle_hours": None, "time_scale": 1.0, "lifetime_seed": 1}
    return SimpleNamespace(**{**base, **kw})


def test_hard_lifetime_and_idle_timeout_whichever_comes_first():
    clock = Clock()
    life = Lifetimes(options(session_hours=10, session_idle_hours=3, time_scale=3600), clock)
    life.born("A")
    for _ in range(4):                      # used every 2 sandbox hours: the idle timeout never fires
        clock.t += 2                        # (the clock is wall seconds; time_scale 3600: 1 s = 1 h)
        assert life.ended("A") is None
        life.used("A")
    clock.t += 2                            # 10 h: the drawn lifetime is over, however busy it was
    assert life.ended("A") == "lifetime"
    life.born("B")
    clock.t += 2.9
    assert life.ended("B") is None
    clock.t += 0.2                          # 3.1 h without a call
    assert life.ended("B") == "idle"


def test_draws_are_seeded_and_bounded():
    a = Lifetimes(options(session_hours="normal:24,6", lifetime_seed=7), Clock())
    b = Lifetimes(options(session_hours="normal:24,6", lifetime_seed=7), Clock())
    for i in range(50):
        a.born(str(i))
        b.born(str(i))
    hours = [s["hardHours"] for s in a.snapshot().values()]
    assert hours == [s["hardHours"] for s in b.snapshot().values()]
    assert min(hours) >= 2 and 15 < sum(hours) / len(hours) < 33
    assert drawer(None) is None and drawer(5)(None) == 5.0
    with pytest.raises(ConfigError, match="'normal' and 'lognormal'"):
        drawer("weibull:1,2")


@pytest.mark.e2e
def test_the_api_stand_in_stops_accepting_a_session_when_its_lifetime_ends():
    with Sandbox(captcha_delay=None, session_hours=1.0, time_scale=3600 * 2) as sb:  # 1 h = 0.5 s
        session = sb.mtn.mint_session()
        api_sid = next(c["value"] for c in session["cookies"] if "localhost" in c["domain"])
        url = sb.urls["mtn_api"] + PRODUCTS_PATH
        assert httpx.get(url, cookies={"JSESSIONID": api_sid}, headers={"X-API-Key": sb.options.mtn_api_key}).status_code == 200
        time.sleep(0.6)
        dead = httpx.get(url, cookies={"JSESSIONID": api_sid}, headers={"X-API-Key": sb.options.mtn_api_key})
        assert dead.status_code == 302 and dead.headers["location"].startswith(sb.urls["mtn_sso"])
        assert [e["reason"] for e in sb.history.events("mtn_sso", "expire")] == ["lifetime"]
        assert sb.mtn.snapshot()["sessions"][0]["live"] is False


def test_inv_sandbox_refuses_a_bad_lifetime_in_one_line(inv):
    r = inv("sandbox", "--session-hours", "weibull:1,2")
    assert r.code == 2 and "session_hours 'weibull:1,2'" in r.output and len(r.output.strip().splitlines()) <= 2


def test_inv_sandbox_refuses_a_bad_idle_timeout_in_one_line(inv):
    r = inv("sandbox", "--session-idle-hours", "soon")
    assert r.code == 2 and "--session-idle-hours must be a number of hours above 0" in r.output
    assert len(r.output.strip().splitlines()) <= 2

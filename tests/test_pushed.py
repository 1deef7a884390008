"""core/pushed.py: the value production gets (API host cookies, the app's gate), without a network."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from mtn_runbook.core.config import Settings
from mtn_runbook.core.errors import ConfigError
from mtn_runbook.core.pushed import for_push, gate_hours
from mtn_runbook.core.session import Session, decode

API = "https://asp-feasibility.mtnbusiness.co.za"
AT = datetime(2026, 1, 1, 12, tzinfo=timezone.utc)


def cookie(name, value, domain, **more):
    return {"name": name, "value": value, "domain": domain, "path": "/", "expires": -1, "httpOnly": True,
            "secure": False, "sameSite": "Lax", **more}


@pytest.fixture
def session() -> Session:
    return Session.from_cookies([
        cookie("JSESSIONID", "SSO-ID", "sso.mtnbusiness.co.za"),
        cookie("CASTGC", "TGT-1-secret-cas", "sso.mtnbusiness.co.za"),
        cookie("_GRECAPTCHA", "grc", "www.google.com"),
        cookie("JSESSIONID", "API-ID", "asp-feasibility.mtnbusiness.co.za"),
        cookie("TS01", "ts", ".mtnbusiness.co.za", secure=True),                 # a domain cookie, over https
        cookie("OTHER", "x", "asp-feasibility.mtnbusiness.co.za", path="/admin"),  # another path
    ], "SSO-ID", at=AT)


def test_only_the_cookies_a_browser_sends_to_the_api_are_pushed(session):
    pushed = for_push(session, API, 48, at=AT)
    assert [(c["name"], c["value"]) for c in pushed.app.cookies] == [("JSESSIONID", "API-ID"), ("TS01", "ts")]
    assert pushed.kept_back == ("JSESSIONID (sso.mtnbusiness.co.za)", "CASTGC (sso.mtnbusiness.co.za)",
                                "_GRECAPTCHA (www.google.com)", "OTHER (asp-feasibility.mtnbusiness.co.za)")
    data = decode(pushed.value)[0].to_dict()
    assert set(data) == {"cookies", "sessionId", "expiresAt", "createdAt"} and data["sessionId"] == "SSO-ID"
    assert "TGT-1-secret-cas" not in decode(pushed.value)[0].to_json()
    assert len(pushed.session.cookies) == 6          # the full session (saved locally) keeps them all
    over_http = for_push(session, API.replace("https", "http"), 48, at=AT)
    assert [c["name"] for c in over_http.app.cookies] == ["JSESSIONID"]   # a secure cookie needs https


def test_the_gate_is_apart_from_the_tracked_expiry(session):
    pushed = for_push(session, API, 48, at=AT)
    assert session.expires_at == AT + timedelta(minutes=60)                # tracked: login + 60 min
    assert pushed.app.expires_at == AT + timedelta(hours=48)               # what the app reads
    assert pushed.session.expires_at == session.expires_at and pushed.gate_moved
    assert pushed.session.extra["gateExpiresAt"] == "2026-01-03T12:00:00.000Z"


def test_the_gate_is_kept_while_24h_away_so_a_second_push_is_the_same_value(session):
    first = for_push(session, API, 48, at=AT)
    again = for_push(first.session, API, 48, at=AT + timedelta(hours=23))
    assert not again.gate_moved and again.value == first.value
    late = for_push(first.session, API, 48, at=AT + timedelta(hours=25))   # 23 h left: under the minimum
    assert late.gate_moved and late.app.expires_at == AT + timedelta(hours=73)
    forced = for_push(first.session, API, 48, at=AT + timedelta(hours=1), renew=True)
    assert forced.app.expires_at == AT + timedelta(hours=49)


def test_a_session_pushed_before_the_gate_existed_reads_its_expiresat_as_the_gate(session):
    old = session.extended(30, at=AT)                  # an old value: expiresAt 30 h ahead, no gateExpiresAt
    assert old.gate == old.expires_at
    assert not for_push(old, API, 48, at=AT).gate_moved


@pytest.mark.parametrize("raw, message", [
    ("abc", "MTN_GATE_HOURS='abc' is not a number of hours"),
    ("12", "MTN_GATE_HOURS=12 is under 24"),
    ("nan", "MTN_GATE_HOURS=nan is under 24"),
])
def test_gate_hours_must_be_a_number_of_at_least_24(raw, message):
    with pytest.raises(ConfigError) as e:
        gate_hours(Settings(gate_hours=raw))
    assert message in e.value.message
    assert gate_hours(Settings()) == 48 and gate_hours(Settings(gate_hours="24")) == 24

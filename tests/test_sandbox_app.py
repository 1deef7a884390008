"""The app stand-in runs with the session of its current production deployment, and only
/products proves that session works."""

from __future__ import annotations

import base64
import json
import time

import httpx
import pytest

from datetime import datetime, timedelta, timezone

from mtn_runbook.core.errors import SessionFormatError
from mtn_runbook.core.session import Session, decode
from mtn_runbook.core.times import iso
from mtn_runbook.sandbox.app import NO_SESSION


def encode(data: dict) -> str:
    return Session.from_dict(data, "test").encode()


def b64(data) -> str:
    return base64.b64encode(json.dumps(data).encode()).decode()


def gated(data: dict) -> dict:
    """The session with expiresAt a day ahead, so the app's 5-minute gate lets it through."""
    return {**data, "expiresAt": later(hours=24)}


def deploy(sandbox) -> None:
    """Redeploy production through the Vercel API and wait until it is READY."""
    o = sandbox.options
    with httpx.Client(base_url=sandbox.urls["vercel"], headers={"Authorization": f"Bearer {o.vercel_token}"},
                      params={"teamId": o.vercel_team_id}, timeout=10) as api:
        prod = api.get(f"/v9/projects/{o.vercel_project_id}").json()["targets"]["production"]
        dep = api.post("/v13/deployments", params={"forceNew": "1"},
                       json={"name": o.vercel_project_name, "deploymentId": prod["id"], "target": "production",
                             "meta": {"action": "redeploy"}}).json()
        deadline = time.monotonic() + 15
        while api.get(f"/v13/deployments/{dep['id']}").json()["readyState"] != "READY":
            assert time.monotonic() < deadline, "deployment did not become READY"
            time.sleep(0.05)


def auth(sandbox) -> dict:
    reply = httpx.get(f"{sandbox.urls['app']}/api/mtn-wholesale/auth", timeout=10)
    assert reply.status_code == 200
    return reply.json()


def products(sandbox) -> httpx.Response:
    return httpx.get(f"{sandbox.urls['app']}/api/mtn-wholesale/products", timeout=10)


def test_seeded_production_loads_the_old_session_but_mtn_refuses_it(sandbox):
    seeded = sandbox.vercel.seed_session
    report = auth(sandbox)
    assert report["authenticated"] is True and report["sessionId"] == seeded["sessionId"]
    assert report["cookiesCount"] == len(seeded["cookies"]) and "error" not in report  # JSON.stringify drops undefined
    reply = products(sandbox)
    assert reply.status_code == 401 and reply.json()["error"] == "Authentication failed"


def test_a_new_session_reaches_the_app_only_after_a_redeploy(sandbox):
    fresh = gated(sandbox.mtn.mint_session())
    sandbox.vercel.set_env("MTN_SESSION", encode(fresh))
    assert auth(sandbox)["sessionId"] == sandbox.vercel.seed_session["sessionId"]
    assert products(sandbox).status_code == 401
    deploy(sandbox)
    assert auth(sandbox)["sessionId"] == fresh["sessionId"]
    reply = products(sandbox)
    assert reply.status_code == 200, reply.text
    body = reply.json()
    assert body["error_code"] == "200" and len(body["outputs"]) == 7


def test_products_turns_401_when_mtn_expires_the_session(sandbox):
    fresh = gated(sandbox.mtn.mint_session())
    sandbox.vercel.set_env("MTN_SESSION", encode(fresh))
    deploy(sandbox)
    assert products(sandbox).status_code == 200
    sandbox.mtn.expire(fresh["sessionId"])
    assert products(sandbox).status_code == 401
    assert auth(sandbox)["authenticated"] is True   # /auth never calls MTN
    assert [c["answered"] for c in sandbox.app.calls()] == [200, 401]


def test_the_app_sends_every_cookie_whatever_its_domain(sandbox):
    """getCookieHeader joins every cookie of the session: the domains are never looked at, so
    whatever is in the pushed value (SSO cookies included) goes to MTN."""
    fresh = sandbox.mtn.mint_session()
    sso_host = sandbox.urls["mtn_sso"].split("//")[1].split(":")[0]
    moved = [dict(c, domain=sso_host) for c in fresh["cookies"]]   # even the API host's JSESSIONID
    sandbox.vercel.set_env("MTN_SESSION", encode(gated({**fresh, "cookies": moved})))
    deploy(sandbox)
    assert auth(sandbox)["authenticated"] is True
    assert products(sandbox).status_code == 200
    assert sandbox.app.calls()[-1]["cookieNames"] == ["JSESSIONID", "CASTGC", "_GRECAPTCHA", "JSESSIONID"]


@pytest.mark.parametrize("value", [
    "not base64 at all!",
    base64.b64encode(b"not json").decode(),
    base64.b64encode(json.dumps({"cookies": []}).encode()).decode(),        # no expiresAt: Invalid Date
    b64({"cookies": [], "sessionId": "x", "expiresAt": "next tuesday"}),
    b64({"cookies": [], "sessionId": "x", "expiresAt": "2031-02-30T00:00:00Z"}),
    base64.b64encode(b'{"cookies": [], "expiresAt": NaN}').decode(),       # JSON.parse refuses NaN
    b64(["not", "an", "object"]),
    b64(None),
])
def test_an_unusable_session_means_no_session(sandbox, value):
    sandbox.vercel.set_env("MTN_SESSION", value)
    deploy(sandbox)
    report = auth(sandbox)
    assert report == {"success": False, "authenticated": False, "cookiesCount": 0, "error": NO_SESSION}
    reply = products(sandbox)
    assert reply.status_code == 401 and reply.json()["details"] == NO_SESSION


def later(**delta) -> str:
    return iso(datetime.now(timezone.utc) + timedelta(**delta))


@pytest.mark.parametrize("left, usable", [
    ({"hours": 24}, True),
    ({"minutes": 6}, True),
    ({"minutes": 4, "seconds": 50}, False),   # isSessionValid: must be MORE than 5 minutes away
    ({"minutes": -1}, False),
])
def test_the_app_refuses_a_session_whose_expiresat_is_5_minutes_away_or_less(sandbox, left, usable):
    """A session MTN accepts, refused by the app's own gate once expiresAt is near: the outage
    55 minutes after a push that carried the 60-minute tracked expiry."""
    fresh = sandbox.mtn.mint_session()
    sandbox.vercel.set_env("MTN_SESSION", encode({**fresh, "expiresAt": later(**left)}))
    deploy(sandbox)
    report = auth(sandbox)
    assert report["authenticated"] is usable
    assert products(sandbox).status_code == (200 if usable else 401)
    if not usable:
        assert report["error"] == NO_SESSION and "sessionId" not in report
        assert "the app's gate" in sandbox.app.snapshot()["problem"]


def test_the_app_decodes_leniently_as_node_does(sandbox):
    """Buffer.from(v, 'base64') takes the URL-safe alphabet, skips stray characters and stops at
    '='; the project's strict decode() refuses all three. The app runs with such a value anyway."""
    fresh = gated(sandbox.mtn.mint_session())
    raw = json.dumps(fresh).encode()
    raw += b" " * ((1 - len(raw)) % 3)              # a length that needs "==" padding
    value = base64.urlsafe_b64encode(raw).decode()
    value = "\n".join(value[i:i + 60] for i in range(0, len(value), 60)) + "== trailing junk"
    with pytest.raises(SessionFormatError):
        decode(value)
    sandbox.vercel.set_env("MTN_SESSION", value)
    deploy(sandbox)
    report = auth(sandbox)
    assert report["authenticated"] is True and report["sessionId"] == fresh["sessionId"]
    assert products(sandbox).status_code == 200


def test_expiresat_is_read_as_javascript_dates_are(sandbox):
    """An offset and a date-only form are valid JavaScript dates; /auth reports toISOString."""
    fresh = sandbox.mtn.mint_session()
    moment = datetime.now(timezone.utc) + timedelta(days=3)
    sandbox.vercel.set_env("MTN_SESSION", encode({**fresh, "expiresAt": moment.astimezone(
        timezone(timedelta(hours=2))).isoformat(timespec="seconds")}))
    deploy(sandbox)
    assert auth(sandbox)["expiresAt"] == moment.replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    sandbox.vercel.set_env("MTN_SESSION", b64({**fresh, "expiresAt": moment.strftime("%Y-%m-%d")}))
    deploy(sandbox)
    assert auth(sandbox)["expiresAt"] == moment.strftime("%Y-%m-%dT00:00:00.000Z")


def test_the_api_key_is_sent_when_mtn_requires_one(sandbox):
    sandbox.options.mtn_api_key = "sandbox-api-key"
    sandbox.vercel.set_env("MTN_SESSION", encode(gated(sandbox.mtn.mint_session())))
    deploy(sandbox)
    assert products(sandbox).status_code == 200
    assert httpx.get(f"{sandbox.urls['admin']}/admin/app/calls").json()[-1]["answered"] == 200

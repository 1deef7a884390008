"""The app stand-in runs with the session of its current production deployment, and only
/products proves that session works."""

from __future__ import annotations

import base64
import json
import time

import httpx
import pytest

from mtn_runbook.core.session import Session


def encode(data: dict) -> str:
    return Session.from_dict(data, "test").encode()


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
    assert report["cookiesCount"] == len(seeded["cookies"]) and report["error"] is None
    reply = products(sandbox)
    assert reply.status_code == 401 and reply.json()["error"] == "Authentication failed"


def test_a_new_session_reaches_the_app_only_after_a_redeploy(sandbox):
    fresh = sandbox.mtn.mint_session()
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
    fresh = sandbox.mtn.mint_session()
    sandbox.vercel.set_env("MTN_SESSION", encode(fresh))
    deploy(sandbox)
    assert products(sandbox).status_code == 200
    sandbox.mtn.expire(fresh["sessionId"])
    assert products(sandbox).status_code == 401
    assert auth(sandbox)["authenticated"] is True   # /auth never calls MTN
    assert [c["answered"] for c in sandbox.app.calls()] == [200, 401]


def test_only_the_api_hosts_cookies_are_sent(sandbox):
    """A session whose API-host JSESSIONID sits on the SSO host fails, as in a browser."""
    fresh = sandbox.mtn.mint_session()
    sso_host = sandbox.urls["mtn_sso"].split("//")[1].split(":")[0]
    moved = [dict(c, domain=sso_host) for c in fresh["cookies"]]
    sandbox.vercel.set_env("MTN_SESSION", encode({**fresh, "cookies": moved}))
    deploy(sandbox)
    assert auth(sandbox)["authenticated"] is True
    assert products(sandbox).status_code == 401


@pytest.mark.parametrize("value", [
    "not base64 at all!",
    base64.b64encode(b"not json").decode(),
    base64.b64encode(json.dumps({"cookies": []}).encode()).decode(),
])
def test_an_undecodable_session_means_no_session(sandbox, value):
    sandbox.vercel.set_env("MTN_SESSION", value)
    deploy(sandbox)
    report = auth(sandbox)
    assert report["authenticated"] is False and report["sessionId"] is None and report["error"]
    assert products(sandbox).status_code == 401


def test_the_api_key_is_sent_when_mtn_requires_one(sandbox):
    sandbox.options.mtn_api_key = "sandbox-api-key"
    sandbox.vercel.set_env("MTN_SESSION", encode(sandbox.mtn.mint_session()))
    deploy(sandbox)
    assert products(sandbox).status_code == 200
    assert httpx.get(f"{sandbox.urls['admin']}/admin/app/calls").json()[-1]["answered"] == 200

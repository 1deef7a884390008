"""The MTN stand-ins are strict: one-time flow ids, captcha tokens and tickets, httpOnly cookies,
only the API host's JSESSIONID authenticates, and a dead session is redirected to the SSO."""

from __future__ import annotations

import re
import time
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from mtn_runbook.sandbox.mtn import PRODUCTS_PATH
from mtn_runbook.core.session import Session


def login_page(client: httpx.Client, sb) -> tuple[str, str]:
    page = client.get(sb.login_url)
    assert page.status_code == 200
    for selector in ('id="dummyUser"', 'id="password"', 'class="g-recaptcha" data-sitekey=',
                     'id="g-recaptcha-response"', 'id="submit-button" type="submit" disabled'):
        assert selector in page.text
    flow = re.search(r'name="execution" value="([^"]+)"', page.text).group(1)
    return flow, page.text


def solve(client: httpx.Client, sb, flow: str) -> str:
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        answer = client.get(f"{sb.urls['mtn_sso']}/recaptcha/solve", params={"c": flow})
        if answer.status_code == 200:
            return answer.json()["token"]
        assert answer.status_code == 425
        time.sleep(0.05)
    raise AssertionError("captcha never solved")


def key(sb) -> dict:
    return {"X-API-Key": sb.options.mtn_api_key}


def submit(client, sb, flow, token, password=None):
    return client.post(sb.login_url, data={
        "username": sb.options.username, "password": password or sb.options.password,
        "g-recaptcha-response": token, "execution": flow})


def test_a_full_login_over_http(sandbox):
    with httpx.Client() as sso:
        flow, _ = login_page(sso, sandbox)
        token = solve(sso, sandbox, flow)
        done = submit(sso, sandbox, flow, token)
        assert done.status_code == 302
        cookies = done.headers.get_list("set-cookie")
        assert {c.split("=")[0] for c in cookies} == {"JSESSIONID", "CASTGC", "_GRECAPTCHA"}
        assert all("httponly" in c.lower() for c in cookies)
        sso_sid = sso.cookies["JSESSIONID"]
        assert re.fullmatch(r"[0-9A-F]{32}", sso_sid)
        assert sso.cookies["CASTGC"].startswith("TGT-")
        target = done.headers["location"]
        ticket = parse_qs(urlsplit(target).query)["ticket"][0]
        assert target.startswith(f"{sandbox.urls['mtn_api']}/login/cas?") and ticket.startswith("ST-")
    with httpx.Client() as api:
        landed = api.get(target)
        assert landed.status_code == 302 and landed.headers["location"] == "/"
        assert "httponly" in landed.headers["set-cookie"].lower()
        products = api.get(f"{sandbox.urls['mtn_api']}{PRODUCTS_PATH}", headers=key(sandbox))
        assert products.status_code == 200
        assert products.json()["error_code"] == "200" and len(products.json()["outputs"]) == 7
        # the ticket was good once
        with httpx.Client() as again:
            assert again.get(target).status_code == 401
    assert sandbox.mtn.logins == 1
    assert {sso_sid, ticket, token} <= sandbox.mtn.secret_values()


def test_captcha_token_and_flow_work_once(sandbox):
    with httpx.Client() as sso:
        flow, _ = login_page(sso, sandbox)
        token = solve(sso, sandbox, flow)
        assert sso.get(f"{sandbox.urls['mtn_sso']}/recaptcha/solve", params={"c": flow}).status_code == 409
        wrong = submit(sso, sandbox, flow, token, password="not-it")
        assert wrong.status_code == 401 and "Invalid credentials." in wrong.text
        assert 'class="alert alert-danger"' in wrong.text
        # a new page, but the spent token: refused
        flow2, _ = login_page(sso, sandbox)
        reused = submit(sso, sandbox, flow2, token)
        assert reused.status_code == 200 and "not a robot" in reused.text
        # the spent flow id: refused even with a fresh token
        flow3, _ = login_page(sso, sandbox)
        fresh = solve(sso, sandbox, flow3)
        assert "login flow has expired" in submit(sso, sandbox, flow, fresh).text
        assert "not a robot" in submit(sso, sandbox, flow3, "").text
    assert sandbox.mtn.logins == 0


def test_no_token_before_the_delay_and_none_when_it_never_solves(sandbox):
    sandbox.options.captcha_delay = 30
    with httpx.Client() as sso:
        flow, _ = login_page(sso, sandbox)
        assert sso.get(f"{sandbox.urls['mtn_sso']}/recaptcha/solve", params={"c": flow}).status_code == 425
        sandbox.options.captcha_delay = None
        flow, page = login_page(sso, sandbox)
        assert "/recaptcha/solve" not in page  # the stand-in never even tries
        assert sso.get(f"{sandbox.urls['mtn_sso']}/recaptcha/solve", params={"c": flow}).status_code == 425


def test_only_the_registered_service_may_use_the_sso(sandbox):
    answer = httpx.get(f"{sandbox.urls['mtn_sso']}/login", params={"service": "http://evil.test/login/cas"})
    assert answer.status_code == 403


def test_a_dead_session_is_redirected_to_the_sso_not_answered(sandbox):
    data = sandbox.mtn.mint_session()
    session = Session.from_dict(data, "minted")
    url = f"{sandbox.urls['mtn_api']}{PRODUCTS_PATH}"
    assert httpx.get(url, cookies=session.cookies_for(url), headers=key(sandbox)).status_code == 200
    assert httpx.post(f"{sandbox.urls['admin']}/admin/mtn/expire", json={"sessionId": data["sessionId"]}).json() == {
        "expired": 1}
    dead = httpx.get(url, cookies=session.cookies_for(url))
    assert dead.status_code == 302 and dead.headers["location"] == sandbox.login_url


def test_only_the_api_hosts_jsessionid_authenticates(sandbox):
    data = sandbox.mtn.mint_session()
    url = f"{sandbox.urls['mtn_api']}{PRODUCTS_PATH}"
    sso_sid = data["sessionId"]
    assert httpx.get(url, cookies={"JSESSIONID": sso_sid}).status_code == 302
    assert httpx.get(url).status_code == 302


def test_minted_sessions_have_both_hosts_and_are_known_secrets(sandbox):
    minted = httpx.post(f"{sandbox.urls['admin']}/admin/mtn/mint").json()
    session = Session.from_dict(minted, "minted")
    assert {(c["name"], c["domain"]) for c in minted["cookies"]} == {
        ("JSESSIONID", "127.0.0.1"), ("CASTGC", "127.0.0.1"), ("_GRECAPTCHA", "127.0.0.1"),
        ("JSESSIONID", "localhost")}
    assert all(c["httpOnly"] and c["expires"] == -1 and not c["secure"] for c in minted["cookies"])
    assert set(session.secrets()) <= sandbox.mtn.secret_values()
    snap = httpx.get(f"{sandbox.urls['admin']}/admin/state").json()["mtn_api"]
    assert snap["logins"] == 1 and snap["sessions"][0]["live"] is True


def test_expire_all(sandbox):
    one, two = (sandbox.mtn.mint_session() for _ in range(2))
    assert sandbox.mtn.expire() == 2
    assert not any(s["live"] for s in sandbox.mtn.snapshot()["sessions"])


@pytest.mark.parametrize("key, status", [(None, 401), ("wrong", 401), ("k-123456", 200)])
def test_api_key_is_required_when_configured(sandbox, key, status):
    sandbox.options.mtn_api_key = "k-123456"
    session = Session.from_dict(sandbox.mtn.mint_session(), "minted")
    url = f"{sandbox.urls['mtn_api']}{PRODUCTS_PATH}"
    headers = {"X-API-Key": key} if key else {}
    assert httpx.get(url, cookies=session.cookies_for(url), headers=headers).status_code == status


# -- rule 6: the API key by default, and the Cookie header recorded ----------------------------------
@pytest.mark.parametrize("sent, status", [(None, 401), ("wrong", 401), ("right", 200)])
def test_the_api_key_is_required_by_default(sandbox, sent, status):
    """The stand-in used to answer 200 to a wrong X-API-Key unless a test configured one."""
    assert sandbox.options.mtn_api_key and sandbox.env()["MTN_API_KEY"] == sandbox.options.mtn_api_key
    session = Session.from_dict(sandbox.mtn.mint_session(), "minted")
    url = f"{sandbox.urls['mtn_api']}{PRODUCTS_PATH}"
    headers = {"X-API-Key": sandbox.options.mtn_api_key if sent == "right" else sent} if sent else {}
    assert httpx.get(url, cookies=session.cookies_for(url), headers=headers).status_code == status


def test_the_cookie_names_sent_to_the_api_are_recorded_never_their_values(sandbox):
    data = sandbox.mtn.mint_session()
    session = Session.from_dict(data, "minted")
    url = f"{sandbox.urls['mtn_api']}{PRODUCTS_PATH}"
    own = "; ".join(f"{k}={v}" for k, v in session.cookies_for(url).items())
    assert httpx.get(url, headers={**key(sandbox), "Cookie": own}).status_code == 200
    every = "; ".join(f"{c['name']}={c['value']}" for c in data["cookies"])   # as the real app sends them
    assert httpx.get(url, headers={**key(sandbox), "Cookie": every}).status_code == 200   # Tomcat tries each JSESSIONID
    seen = sandbox.history.events("mtn_api", "cookies")
    assert [e["names"] for e in seen] == [["JSESSIONID"], ["JSESSIONID", "CASTGC", "_GRECAPTCHA", "JSESSIONID"]]
    assert not any(c["value"] in str(seen) for c in data["cookies"])


def test_validate_sends_the_api_host_only_its_own_cookie_and_the_key(sandbox, tmp_path):
    from mtn_runbook.core.config import Settings
    from mtn_runbook.mtn.api import validate

    settings = Settings.load({}, environ=sandbox.env(), dotenv_path=tmp_path / "no.env")
    session = Session.from_dict(sandbox.mtn.mint_session(), "minted")
    assert validate(settings, session).valid
    assert [e["names"] for e in sandbox.history.events("mtn_api", "cookies")] == [["JSESSIONID"]]


# -- rule 7: captcha tokens and tickets are bound and short-lived ---------------------------------
def test_a_captcha_token_works_only_on_the_page_it_was_solved_on(sandbox):
    with httpx.Client() as sso:
        flow, _ = login_page(sso, sandbox)
        token = solve(sso, sandbox, flow)
        other_flow, _ = login_page(sso, sandbox)
        moved = submit(sso, sandbox, other_flow, token)   # the old stand-in logged this in
        assert moved.status_code == 200 and "not a robot" in moved.text
    assert sandbox.mtn.logins == 0


def test_a_captcha_token_expires_after_two_minutes(sandbox):
    with httpx.Client() as sso:
        flow, _ = login_page(sso, sandbox)
        token = solve(sso, sandbox, flow)
        sandbox.mtn.captcha_tokens[token]["issued"] -= 121
        assert "not a robot" in submit(sso, sandbox, flow, token).text
    assert sandbox.mtn.logins == 0


def login_ticket(sandbox) -> str:
    with httpx.Client() as sso:
        flow, _ = login_page(sso, sandbox)
        done = submit(sso, sandbox, flow, solve(sso, sandbox, flow))
        assert done.status_code == 302
        return parse_qs(urlsplit(done.headers["location"]).query)["ticket"][0]


def test_a_ticket_expires_after_ten_seconds(sandbox):
    ticket = login_ticket(sandbox)
    sandbox.mtn.tickets[ticket]["issued"] -= 11
    assert httpx.get(f"{sandbox.urls['mtn_api']}/login/cas", params={"ticket": ticket}).status_code == 401
    assert sandbox.mtn.snapshot()["apiSessions"] == 0


def test_a_ticket_is_good_only_at_the_service_it_was_issued_to(sandbox):
    login = sandbox.mtn.new_login()
    elsewhere = sandbox.mtn.new_ticket(login["sessionId"], "https://elsewhere.example/login/cas")
    assert httpx.get(f"{sandbox.urls['mtn_api']}/login/cas", params={"ticket": elsewhere}).status_code == 401
    assert sandbox.mtn.snapshot()["apiSessions"] == 0

"""Production's gate, end to end against the app stand-in (which refuses a session whose expiresAt
is 5 minutes away or less, as CircleTel's app does): what recover, refresh and extend+push+deploy
leave in production, and how verify and monitor see the gate."""

from __future__ import annotations

import base64
import json
from datetime import datetime, timedelta, timezone

import httpx

from mtn_runbook.core import session as sessions
from mtn_runbook.core.times import parse_time

from test_monitor import serve_in_production

SESSION_FILE = (".cache", "mtn-session.json")
NO_BROWSER = {"PLAYWRIGHT_CHROMIUM_EXECUTABLE_PATH": "/nonexistent/chromium"}  # a login would fail


def path(workdir):
    return workdir.joinpath(*SESSION_FILE)


def save(workdir, session: sessions.Session) -> sessions.Session:
    sessions.save(path(workdir), session)
    return session


def minted(sandbox) -> sessions.Session:
    return sessions.Session.from_dict(sandbox.mtn.mint_session(), "minted")


def production(sandbox, what: str) -> httpx.Response:
    return httpx.get(f"{sandbox.urls['app']}/api/mtn-wholesale/{what}", timeout=10)


def hours_left(text: str) -> float:
    return (parse_time(text, "expiresAt") - datetime.now(timezone.utc)).total_seconds() / 3600


def assert_production_keeps_it_a_day(sandbox, local: sessions.Session) -> dict:
    """/auth: authenticated with expiresAt ≥ 24 h away; /products works with the pushed cookies
    only; Vercel and GitHub hold the same pruned value, without CASTGC."""
    auth = production(sandbox, "auth").json()
    assert auth["authenticated"] is True and auth["sessionId"] == local.session_id, auth
    assert hours_left(auth["expiresAt"]) >= 24, auth["expiresAt"]
    reply = production(sandbox, "products")
    assert reply.status_code == 200 and reply.json()["error_code"] == "200"
    assert sandbox.app.calls()[-1]["cookieNames"] == ["JSESSIONID"]   # the app sends all it has: the API's only
    value = sandbox.vercel.env_value("MTN_SESSION", "production")
    assert sandbox.github.secret_value("MTN_SESSION") == value
    pushed = json.loads(base64.b64decode(value))
    assert [(c["name"], c["domain"]) for c in pushed["cookies"]] == [("JSESSIONID", "localhost")]
    assert "CASTGC" not in json.dumps(pushed) and pushed["expiresAt"] == auth["expiresAt"]
    assert {c["name"] for c in local.cookies} >= {"CASTGC", "_GRECAPTCHA"}   # kept in the local file
    return pushed


def test_recover_with_a_new_login_leaves_production_a_gate_a_day_ahead(sandbox, workdir, inv):
    save(workdir, minted(sandbox))
    sandbox.mtn.expire()
    result = inv("recover", "--headless", "--timeout", "60")
    assert result.code == 0, result.output
    local = sessions.load(path(workdir))[0]
    assert 59 <= local.minutes_left() <= 60        # the tracked expiry stays the operator's 60 minutes
    pushed = assert_production_keeps_it_a_day(sandbox, local)
    assert 47.5 <= hours_left(pushed["expiresAt"]) <= 48   # MTN_GATE_HOURS, default 48
    assert ("MTN_SESSION carries 1 cookie(s) for the MTN API host; 3 kept back in the local session file "
            "(JSESSIONID (127.0.0.1), CASTGC (127.0.0.1), _GRECAPTCHA (127.0.0.1))") in result.stdout
    assert "expiresAt (the app's gate)" in result.stdout
    # validate-new speaks of the pushed value's gate, not of a "tracked expiry in 2 days"
    assert "MTN API accepts the value to push (7 products) with its 1 cookie(s); the app's gate" in result.stdout
    assert "tracked expiry in 2 days" not in result.stdout


def test_refresh_leaves_production_a_gate_a_day_ahead(sandbox, workdir, inv):
    save(workdir, minted(sandbox))
    result = inv("refresh", "--headless", "--timeout", "60", "--json", env={"MTN_GATE_HOURS": "72"})
    assert result.code == 0, result.output
    recap = json.loads(result.stdout)
    assert recap["cookiesPushed"] == 1 and len(recap["cookiesKeptBack"]) == 3
    assert 71.5 <= hours_left(recap["gateExpiresAt"]) <= 72
    pushed = assert_production_keeps_it_a_day(sandbox, sessions.load(path(workdir))[0])
    assert pushed["expiresAt"] == recap["gateExpiresAt"]
    assert {t["holds"] for t in recap["targets"]} == {recap["pushedFingerprint"]}


def test_extend_push_deploy_gives_production_a_gate_a_day_ahead(sandbox, workdir, inv):
    save(workdir, minted(sandbox).extended(-2))     # the tracked expiry passed; MTN still accepts it
    extended = inv("extend")
    assert extended.code == 0, extended.output
    assert "the app's gate (expiresAt pushed)" in extended.stdout
    assert inv("push").code == 0
    deployed = inv("deploy")
    assert deployed.code == 0, deployed.output
    assert_production_keeps_it_a_day(sandbox, sessions.load(path(workdir))[0])
    value = sandbox.vercel.env_value("MTN_SESSION", "production")
    again = inv("push")                       # the gate is remembered: the same value again
    assert again.code == 0 and "1 already held it" in again.stdout   # Vercel; a GitHub secret cannot be read back
    assert sandbox.vercel.env_value("MTN_SESSION", "production") == value


def test_extend_right_after_a_push_does_not_ask_for_another_push(sandbox, workdir, inv):
    """Walked: `inv extend` right after a push asked for a push and a redeploy for a 16-second
    move of the gate; production's gate was still two days away."""
    save(workdir, minted(sandbox))
    assert inv("push").code == 0

    extended = inv("extend")

    assert extended.code == 0, extended.output
    assert "inv push" not in extended.stdout.replace("the next `inv push`", "") and "inv deploy" not in extended.stdout
    assert "nothing to push" in extended.stdout
    # walked: the next push then changed the value anyway (the gate moved by seconds) and asked
    # for a redeploy; the gate still two days away is kept, so production already holds the value
    again = inv("push")
    assert again.code == 0 and "1 already held it" in again.stdout, again.output

    near = minted(sandbox)   # production's gate under a day away: then the move matters
    save(workdir, near.with_gate(sessions.now() + timedelta(hours=3)))
    assert "`inv push` (then `inv deploy`)" in inv("extend").stdout


def test_a_closed_gate_is_repaired_by_recover_without_a_login(sandbox, workdir, inv):
    """Production runs a session MTN accepts, pushed by the old way with expiresAt = tracked expiry,
    which is now 3 minutes away: the app refuses it. recover extends, pushes and redeploys."""
    old = minted(sandbox)
    old = save(workdir, sessions.Session(old.cookies, old.session_id,
                                         sessions.now() + timedelta(minutes=3), old.extra))
    serve_in_production(sandbox, old.encode())
    assert production(sandbox, "auth").json()["authenticated"] is False       # the outage
    assert production(sandbox, "products").status_code == 401
    logins = sandbox.mtn.logins

    result = inv("recover", env=NO_BROWSER)

    assert result.code == 0, result.output
    assert sandbox.mtn.logins == logins
    assert "extended, no login" in result.stdout
    local = sessions.load(path(workdir))[0]
    assert local.session_id == old.session_id
    assert_production_keeps_it_a_day(sandbox, local)
    again = inv("recover", env=NO_BROWSER)    # nothing left to do
    assert again.code == 0 and "production already serves this session" in again.stdout


def test_verify_fails_naming_the_gate_when_production_has_under_24h(sandbox, workdir, inv):
    near = minted(sandbox)
    near = save(workdir, sessions.Session(near.cookies, near.session_id,
                                          sessions.now() + timedelta(hours=3), near.extra))
    serve_in_production(sandbox, near.encode())
    assert production(sandbox, "products").status_code == 200   # it works, for now

    result = inv("verify")

    assert result.code == 1, result.output
    assert "gate: production's expiresAt" in result.output and "under 24 h" in result.output
    assert "`inv recover`" in result.output

    closed = sessions.Session(near.cookies, near.session_id, sessions.now() + timedelta(minutes=4), near.extra)
    serve_in_production(sandbox, closed.encode())
    result = inv("verify")
    assert result.code == 1 and "production has no session loaded" in result.output
    assert "the app's gate" in result.output


def test_monitor_warns_before_the_gate_closes_and_names_a_closed_one(sandbox, inv):
    session = minted(sandbox)
    near = sessions.Session(session.cookies, session.session_id, sessions.now() + timedelta(hours=3), session.extra)
    serve_in_production(sandbox, near.encode())
    r = inv("monitor", "--no-alert", env={"MTN_SESSION": near.encode()}, allow=(near.encode(),))
    assert r.code == 0, r.output
    assert "warning: production's gate closes in 2 h 59 min" in r.output or "warning: production's gate closes in 3 h" in r.output
    assert "`inv recover` (no login while MTN accepts the session" in r.output

    closed = sessions.Session(session.cookies, session.session_id, sessions.now() + timedelta(minutes=2), session.extra)
    serve_in_production(sandbox, closed.encode())
    r = inv("monitor", "--no-alert", env={"MTN_SESSION": closed.encode()}, allow=(closed.encode(),))
    assert r.code == 3, r.output
    assert "unhealthy: production's gate closed" in r.output and "a session MTN still accepts" in r.output
    assert "it extends, pushes and redeploys" in r.output


def test_export_prints_what_production_gets_and_push_sends_the_same_value(sandbox, workdir, inv):
    save(workdir, minted(sandbox))
    first = inv("export")
    assert first.code == 0, first.output
    assert "1 cookie(s) for the MTN API host pushed, 3 kept back in the local session file" in first.stdout
    assert "CASTGC (127.0.0.1)" in first.stdout and "expiresAt (the app's gate)" in first.stdout
    value = (workdir / "session.txt").read_text()
    data = json.loads(base64.b64decode(value))
    assert [c["name"] for c in data["cookies"]] == ["JSESSIONID"] and hours_left(data["expiresAt"]) >= 47.5
    assert inv("export").code == 0 and (workdir / "session.txt").read_text() == value   # same gate, same value
    assert inv("validate", "--env", env={"MTN_SESSION": value}, allow=(value,)).code == 0  # the pruned cookies work
    assert inv("push").code == 0
    assert sandbox.vercel.env_value("MTN_SESSION", "production") == value


def test_a_bad_gate_setting_is_one_line_and_exit_2(sandbox, workdir, inv):
    save(workdir, minted(sandbox))
    before = path(workdir).read_bytes()
    for raw, message in (("abc", "MTN_GATE_HOURS='abc' is not a number of hours"), ("6", "MTN_GATE_HOURS=6 is under 24")):
        for task in ("push", "export", "recover"):
            r = inv(task, env={"MTN_GATE_HOURS": raw})
            assert r.code == 2, (task, r.output)
            assert message in r.stderr, (task, r.stderr)
    assert [q for q in sandbox.history.requests() if q["method"] != "GET" and q["service"] in ("vercel", "github")] == []
    assert path(workdir).read_bytes() == before and not (workdir / "session.txt").exists()

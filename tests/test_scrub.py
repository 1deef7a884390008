"""One scrubber for everything that leaves the process (issue 12 item 1).

Production's /auth and MTN's `error_message` are made to echo cookie values (the session's own,
and one nobody registered), and PRODUCTION_URL carries a password. Every channel is then read
where it lands: the alert issue, its comments and the webhook JSON as the stand-ins stored them,
the job summary, the annotations, the journal, stdout and stderr (the `inv` fixture also fails on
any known secret in the output).
"""

from __future__ import annotations

import json

import httpx

from mtn_runbook.core.console import redact_url, scrub
from mtn_runbook.core.session import Session

from test_monitor import Hook, mtn_issues, new_secret, serve_in_production

URL_PASSWORD = "pw-in-the-url-5e3"
UNKNOWN_COOKIE = "UNREGISTERED0123456789ABCDEF"   # production's own session, which we never held


def add_fault(sandbox, **spec) -> None:
    reply = httpx.post(f"{sandbox.urls['admin']}/admin/faults", json=spec, timeout=10)
    assert reply.status_code == 201, reply.text


def with_password(url: str) -> str:
    scheme, rest = url.split("://", 1)
    return f"{scheme}://ops:{URL_PASSWORD}@{rest}"


def echo_faults(sandbox, session: Session) -> list[str]:
    """/auth and MTN's error_message echo cookie values; returns every value that must not travel."""
    values = [c["value"] for c in session.cookies]
    by_name = {c["name"]: c["value"] for c in session.cookies}
    add_fault(sandbox, service="app", method="GET", path="/api/mtn-wholesale/auth", count=-1, body={
        "success": True, "authenticated": False, "sessionId": None, "expiresAt": None, "cookiesCount": 0,
        "error": f"rejected cookie JSESSIONID={UNKNOWN_COOKIE}; CASTGC={by_name['CASTGC']} (raw {values[0]})"})
    add_fault(sandbox, service="mtn_api", method="GET", path="/api/v1/feasibility/.*", count=-1, body={
        "error_code": "500", "error_message": f"session refused: {' '.join(values)}"})
    return [*values, session.session_id, session.encode(), UNKNOWN_COOKIE, URL_PASSWORD]


def assert_clean(text: str, secrets: list[str], where: str) -> None:
    leaked = [s for s in secrets if s in text]
    assert not leaked, f"{where} holds {len(leaked)} secret(s): {leaked}"


def test_every_monitor_channel_is_scrubbed(sandbox, inv, workdir, tmp_path):
    session, value = new_secret(sandbox)
    secrets = echo_faults(sandbox, session)
    summary = tmp_path / "summary.md"
    hook = Hook()
    try:
        env = {"MTN_SESSION": value, "ALERT_WEBHOOK_URL": hook.url, "GITHUB_ACTIONS": "true",
               "GITHUB_STEP_SUMMARY": str(summary), "PRODUCTION_URL": with_password(sandbox.urls["app"])}
        first = inv("monitor", env=env)        # opens the issue, posts the webhook
        second = inv("monitor", env=env)       # comments on it
        sandbox.faults.clear()
        serve_in_production(sandbox, value)
        third = inv("monitor", env=env)        # closes it with a recovery comment
        hooks = json.dumps(hook.messages)
    finally:
        hook.close()

    assert (first.code, second.code, third.code) == (3, 3, 0), first.output + second.output + third.output
    issue = max(mtn_issues(sandbox), key=lambda i: i["number"])   # the one these runs opened
    comments = [c["body"] for c in sandbox.github.comments(issue["number"])]
    assert len(comments) == 2 and issue["state"] == "closed"
    assert "JSESSIONID=***" in issue["body"] and "***" in comments[0]   # still says what was echoed
    assert len(hook.messages) == 2
    for text, where in [(issue["body"], "issue body"), ("\n".join(comments), "comments"), (hooks, "webhook JSON"),
                        (summary.read_text(), "job summary"), (first.stdout, "annotations/stdout"),
                        ((workdir / ".cache" / "journal.jsonl").read_text(), "journal")]:
        assert_clean(text, secrets, where)
    for result in (first, second, third):
        assert_clean(result.output, secrets, "terminal output")
    assert any(line.startswith("::error title=MTN session unhealthy::") for line in first.stdout.splitlines())
    # the recovery comment names production; its URL is shown without the password
    assert "http://***@127.0.0.1" in comments[1]


def test_recovers_last_error_line_is_scrubbed(sandbox, inv, workdir):
    minted = Session.from_dict(sandbox.mtn.mint_session(), "minted")
    path = workdir / ".cache" / "mtn-session.json"
    path.parent.mkdir()
    path.write_text(json.dumps(minted.to_dict()))
    path.chmod(0o600)
    secrets = echo_faults(sandbox, minted)
    result = inv("recover")
    assert result.code == 1, result.output
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("✘ cannot tell whether the session is alive: MTN API answered error_code '500'")
    assert "***" in last
    assert_clean(result.output, secrets, "recover's output")


def test_doctor_and_verify_never_show_a_password_in_production_url(sandbox, inv):
    url = with_password(sandbox.urls["app"])
    for args in (("doctor", "--no-browser"), ("verify",)):
        result = inv(*args, env={"PRODUCTION_URL": url})
        assert URL_PASSWORD not in result.output, result.output
    assert "http://***@127.0.0.1" in inv("doctor", "--no-browser", env={"PRODUCTION_URL": url}).output


def test_scrub_patterns():
    assert scrub("x https://u:p4ss@h.test/a y") == "x https://***@h.test/a y"
    assert scrub("https://TOKEN123@hooks.test/x") == "https://***@hooks.test/x"
    assert scrub("JSESSIONID=ABC123; CASTGC=TGT-1-x, _GRECAPTCHA=09abc") == "JSESSIONID=***; CASTGC=***, _GRECAPTCHA=***"
    assert scrub("Authorization: Bearer abcdefgh12345") == "Authorization: Bearer ***"
    # what must stay readable
    for text in ("the `MTN_SESSION=` line of .env", "ssh://deploy@host:22", "ops@example.test", "the token lacks rights"):
        assert scrub(text) == text
    assert redact_url("https://a:b@x.test:8443/p?q=1") == "https://***@x.test:8443/p?q=1"


def test_a_fragment_of_the_session_echoed_by_production_is_masked_everywhere(sandbox, inv, workdir, tmp_path):
    """Issue 20 item 12: production echoes `b64[8:260]` of the session in an error. Only whole
    secrets were masked, so the fragment reached the console and the webhook. Now any run of 16
    characters of a registered value (or of its base64 decoding) is masked in every channel."""
    session, value = new_secret(sandbox)
    fragment = value[8:260]
    cookie = session.cookies[0]["value"]
    add_fault(sandbox, service="app", method="GET", path="/api/mtn-wholesale/auth", count=-1, body={
        "success": True, "authenticated": False, "sessionId": None, "expiresAt": None, "cookiesCount": 0,
        "error": f"cannot parse MTN_SESSION near '{fragment}' (cookie …{cookie[3:]})"})
    summary = tmp_path / "summary.md"
    hook = Hook()
    try:
        env = {"MTN_SESSION": value, "ALERT_WEBHOOK_URL": hook.url, "GITHUB_ACTIONS": "true",
               "GITHUB_STEP_SUMMARY": str(summary)}
        r = inv("monitor", env=env)
        hooks = json.dumps(hook.messages)
    finally:
        hook.close()
    assert r.code == 3 and hook.messages, r.output
    issue = max(mtn_issues(sandbox), key=lambda i: i["number"])
    assert "cannot parse MTN_SESSION near '***'" in issue["body"]        # still says what production said
    windows = {s[i:i + 16] for s in (fragment, cookie[3:]) for i in range(len(s) - 15)}
    for text, where in [(r.output, "terminal"), (issue["body"], "issue body"), (hooks, "webhook JSON"),
                        (summary.read_text(), "job summary"), ((workdir / ".cache" / "journal.jsonl").read_text(), "journal")]:
        leaked = [w for w in windows if w in text]
        assert not leaked, f"{where} holds {len(leaked)} 16-character run(s) of the session"


def test_fragments_as_they_are_or_base64_decoded():
    from mtn_runbook.core import console

    token = "tok_" + "0123456789abcdefghijklmnopqrstuvwxyz"
    secret_text = "the quick secret phrase nobody may see"
    encoded = __import__("base64").b64encode(secret_text.encode()).decode()
    console.protect(token, encoded)
    assert scrub(f"x {token[5:30]} y") == "x *** y"
    assert scrub(f"said: {secret_text[5:30]}!") == "said: ***!"          # the decoded text, in part
    assert scrub(token[:15]) == token[:15]                             # under 16 characters: no secret run
    assert scrub("https://hooks.slack.com/services/x") == "https://hooks.slack.com/services/x"

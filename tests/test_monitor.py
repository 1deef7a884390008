"""`inv monitor` against the sandbox: the secret AND production, one issue, one webhook message
per state change, and nothing hidden.

Production is made to serve a session the way it happens for real: the value goes into the
Vercel stand-in's env and a redeploy snapshots it (the app reads only the production deployment).
"""

from __future__ import annotations

import json
import re
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest

from mtn_runbook.core.session import Session

HOOK_TOKEN = "T0SANDBOX/B0HOOK/hooksecrettoken42"
RUNBOOK = "https://github.com/acme/mtn-app/blob/HEAD/runbooks/incident-recovery.md"


# -- helpers --------------------------------------------------------------------------------
def new_secret(sb, hours: float = 48) -> tuple[Session, str]:
    """A live session and its MTN_SESSION value, expiresAt `hours` ahead as a push sets the app's gate."""
    session = Session.from_dict(sb.mtn.mint_session(), "minted")
    if hours is not None:
        session = session.extended(hours)
    return session, session.encode()


def serve_in_production(sb, value: str) -> None:
    """Put `value` in Vercel's MTN_SESSION and redeploy, as `inv push.vercel` + `inv deploy` do."""
    o = sb.options
    sb.vercel.set_env("MTN_SESSION", value)
    current = sb.vercel.production_deployment()
    response = httpx.post(f"{sb.urls['vercel']}/v13/deployments", params={"forceNew": "1", "teamId": o.vercel_team_id},
                          headers={"Authorization": f"Bearer {o.vercel_token}"},
                          json={"name": o.vercel_project_name, "deploymentId": current["id"], "target": "production",
                                "meta": {"action": "redeploy"}})
    assert response.status_code == 200, response.text
    for _ in range(200):  # bounded: the stand-in's build takes deploy_seconds
        if sb.vercel.production_env().get("MTN_SESSION") == value:
            return
        time.sleep(0.05)
    raise AssertionError("the redeploy never became production")


def mtn_issues(sb) -> list[dict]:
    """Issues labelled mtn-session, pull requests left out."""
    return [i for i in sb.github.issues()
            if "pull_request" not in i and "mtn-session" in [label["name"] for label in i["labels"]]]


def open_issues(sb) -> list[dict]:
    return [i for i in mtn_issues(sb) if i["state"] == "open"]


def writes(sb, service: str = "github") -> list[dict]:
    """Writes other than to the lifespan ledger's own issue (every run appends what it saw there)."""
    ledger = {i["number"] for i in sb.github.issues() if "mtn-ledger" in [label["name"] for label in i["labels"]]}

    def about_ledger(path: str) -> bool:
        return "/issues/comments/" in path or any(re.search(rf"/issues/{n}(/|$)", path) for n in ledger)

    return [r for r in sb.history.requests(service) if r["method"] != "GET" and not about_ledger(r["path"])]


class Hook:
    """A Slack-compatible webhook receiver on loopback: records every POSTed JSON body."""

    def __init__(self, status: int = 200):
        self.messages: list[dict] = []
        self.paths: list[str] = []
        hook = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802
                body = self.rfile.read(int(self.headers.get("content-length", 0)))
                hook.paths.append(self.path)
                hook.messages.append(json.loads(body))
                self.send_response(status)
                self.send_header("content-length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/services/{HOOK_TOKEN}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def texts(self) -> list[str]:
        return [m["text"] for m in self.messages]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def hook():
    h = Hook()
    yield h
    h.close()


def no_hook_leak(result) -> None:
    assert HOOK_TOKEN not in result.output and "hooksecrettoken42" not in result.output


# -- the acceptance story -------------------------------------------------------------------
def test_ten_failing_runs_one_issue_then_a_healthy_run_closes_it(sandbox, inv, hook):
    session, value = new_secret(sandbox)
    env = {"MTN_SESSION": value, "ALERT_WEBHOOK_URL": hook.url}
    # The secret is fine; production still runs the seeded old, dead session.
    for run in range(10):
        r = inv("monitor", env=env, allow=(value,))
        assert r.code == 3, r.output
        assert "production is serving a different, dead session: redeploy (`inv deploy`) or `inv recover`" in r.output
        assert "✔ MTN_SESSION secret" in r.output
        no_hook_leak(r)

    issues = open_issues(sandbox)
    assert len(issues) == 1, issues
    issue = issues[0]
    assert [label["name"] for label in issue["labels"]] == ["mtn-session"]
    assert "inv recover" in issue["body"] and "inv monitor" in issue["body"] and RUNBOOK in issue["body"]
    assert "production is serving a different, dead session" in issue["body"]
    assert value not in issue["body"] and session.session_id not in issue["body"]
    comments = sandbox.github.comments(issue["number"])
    assert len(comments) <= 9
    assert all("Still unhealthy" in c["body"] for c in comments)
    assert sandbox.github.comments(1) == []  # the open pull request labelled mtn-session was left alone
    assert len(hook.messages) == 1 and hook.texts()[0].startswith("MTN session UNHEALTHY: production is serving")
    assert issue["html_url"] in hook.texts()[0]

    # Recovery: production gets the secret's session.
    serve_in_production(sandbox, value)
    r = inv("monitor", env=env, allow=(value,))
    assert r.code == 0, r.output
    assert "healthy: the MTN_SESSION secret is valid and production serves it" in r.output
    closed = next(i for i in mtn_issues(sandbox) if i["number"] == issue["number"])
    assert closed["state"] == "closed" and closed["state_reason"] == "completed"
    last = sandbox.github.comments(issue["number"])[-1]["body"]
    assert last.startswith("Recovered at ") and "the same session" in last and session.fingerprint in last
    assert open_issues(sandbox) == []
    assert len(hook.messages) == 2 and hook.texts()[1].startswith("MTN session recovered (healthy)")

    # Healthy again: nothing to say, nothing sent.
    before = len(writes(sandbox))
    r = inv("monitor", env=env, allow=(value,))
    assert r.code == 0 and len(writes(sandbox)) == before and len(hook.messages) == 2
    assert hook.paths == [f"/services/{HOOK_TOKEN}"] * 2


def test_in_ci_the_open_issue_is_the_memory(sandbox, inv, hook, tmp_path):
    """In CI every run starts without a journal: state changes are known from the issue alone."""
    session, value = new_secret(sandbox)
    env = {"MTN_SESSION": value, "ALERT_WEBHOOK_URL": hook.url}

    def fresh_run(n: int):  # a new, empty .cache per run, as on a fresh runner
        return inv("monitor", env={**env, "MTN_SESSION_FILE": str(tmp_path / f"run{n}" / "mtn-session.json")},
                   allow=(value,))

    serve_in_production(sandbox, value)
    assert fresh_run(1).code == 0 and hook.messages == []            # healthy, no memory: not news
    sandbox.mtn.expire(session.session_id)                            # MTN drops the session
    r = fresh_run(2)
    assert r.code == 3 and "the MTN_SESSION secret is expired" in r.output and "`inv recover`" in r.output
    assert len(hook.messages) == 1                                    # -> unhealthy
    assert fresh_run(3).code == 3 and len(hook.messages) == 1         # still unhealthy: a comment only
    assert len(open_issues(sandbox)) == 1
    new, new_value = new_secret(sandbox)                              # `inv recover`
    serve_in_production(sandbox, new_value)
    r = inv("monitor", env={**env, "MTN_SESSION": new_value,
                            "MTN_SESSION_FILE": str(tmp_path / "run4" / "mtn-session.json")}, allow=(new_value,))
    assert r.code == 0, r.output
    assert len(hook.messages) == 2 and "recovered" in hook.texts()[1]  # -> healthy
    issue = mtn_issues(sandbox)[-1]
    assert issue["state"] == "closed"
    last = sandbox.github.comments(issue["number"])[-1]["body"]
    assert f"a new session is in MTN_SESSION (fingerprint {new.fingerprint}, replacing {session.fingerprint})" in last


def test_journal_memory_posts_warning_transitions(sandbox, inv, hook):
    """Locally the journal remembers warnings too: healthy -> warning -> healthy is two messages."""
    session, value = new_secret(sandbox)
    serve_in_production(sandbox, value)
    env = {"MTN_SESSION": value, "ALERT_WEBHOOK_URL": hook.url}
    assert inv("monitor", env=env, allow=(value,)).code == 0 and hook.messages == []
    soon = session.extended(0.5)   # tracked expiry in 30 minutes: a warning, still exit 0
    serve_in_production(sandbox, soon.encode())
    r = inv("monitor", env={**env, "MTN_SESSION": soon.encode()}, allow=(soon.encode(),))
    assert r.code == 0 and "warning: tracked expiry in 30 min" in r.output and "`inv extend`" in r.output
    assert hook.texts() == [f"MTN session warning: {r.output.split('warning: ', 1)[1].splitlines()[0]}."]
    assert open_issues(sandbox) == []   # a warning opens no issue
    serve_in_production(sandbox, value)
    assert inv("monitor", env=env, allow=(value,)).code == 0
    assert len(hook.messages) == 2 and hook.texts()[1].startswith("MTN session healthy")


# -- modes and output -----------------------------------------------------------------------
def test_check_mode_says_what_it_would_send_and_sends_nothing(sandbox, inv, hook):
    _, value = new_secret(sandbox)
    r = inv("monitor", "--check", env={"MTN_SESSION": value, "ALERT_WEBHOOK_URL": hook.url}, allow=(value,))
    assert r.code == 3
    assert "github-issue: would open an issue labelled mtn-session" in r.output
    assert "webhook: would post to ALERT_WEBHOOK_URL: MTN session UNHEALTHY" in r.output
    assert writes(sandbox) == [] and hook.messages == [] and open_issues(sandbox) == []
    no_hook_leak(r)
    # ... and the next real run still sees the change (check mode is not remembered as alerted)
    r = inv("monitor", env={"MTN_SESSION": value, "ALERT_WEBHOOK_URL": hook.url}, allow=(value,))
    assert len(open_issues(sandbox)) == 1 and len(hook.messages) == 1


def test_no_alert_only_reports(sandbox, inv, hook):
    _, value = new_secret(sandbox)
    r = inv("monitor", "--no-alert", env={"MTN_SESSION": value, "ALERT_WEBHOOK_URL": hook.url,
                                          "GITHUB_TOKEN": None}, allow=(value,))
    assert r.code == 3 and "alerts: --no-alert" in r.output
    assert sandbox.history.requests("github") == [] and hook.messages == []


def test_json_output(sandbox, inv):
    session, value = new_secret(sandbox)
    serve_in_production(sandbox, value)
    r = inv("monitor", "--json", env={"MTN_SESSION": value}, allow=(value,))
    assert r.code == 0, r.output
    data = json.loads(r.stdout)
    assert data["state"] == "healthy" and data["exitCode"] == 0
    assert data["secret"]["verdict"] == "valid" and data["secret"]["sessionId"] == session.short_id
    assert data["production"]["servesSecret"] is True and data["production"]["products_status"] == 200
    assert data["lifespan"]["method"] == "exponential-bound" and data["refresh"]["intervalMinutes"] == 60
    assert {c["name"] for c in data["checks"]} >= {"MTN_SESSION secret", "production session", "production /products"}


def test_github_actions_annotations_and_job_summary(sandbox, inv, tmp_path):
    _, value = new_secret(sandbox)
    summary = tmp_path / "summary.md"
    r = inv("monitor", env={"MTN_SESSION": value, "GITHUB_ACTIONS": "true", "GITHUB_STEP_SUMMARY": str(summary),
                            "GITHUB_RUN_ID": "4242", "GITHUB_SERVER_URL": "https://github.com"}, allow=(value,))
    assert r.code == 3
    assert ("::error title=MTN session unhealthy::production is serving a different, dead session: "
            "redeploy (`inv deploy`) or `inv recover`") in r.stdout.splitlines()
    text = summary.read_text()
    assert text.startswith("## MTN session monitor: unhealthy")
    assert "| check | result | detail |" in text and "| production /products | ✘ failed |" in text
    assert "### Observed lifespans" in text and "no session watched yet" in text
    assert "github-issue: open #" in text
    assert value not in text
    body = open_issues(sandbox)[0]["body"]
    assert "https://github.com/acme/mtn-app/actions/runs/4242" in body


def test_warning_annotation_under_actions(sandbox, inv):
    session, value = new_secret(sandbox, hours=0.5)
    serve_in_production(sandbox, value)
    r = inv("monitor", env={"MTN_SESSION": value, "GITHUB_ACTIONS": "true"}, allow=(value,))
    assert r.code == 0
    assert any(line.startswith("::warning title=MTN session warning::tracked expiry in") for line in r.stdout.splitlines())


# -- what exactly is wrong ------------------------------------------------------------------
def test_valid_secret_but_production_serves_an_old_dead_session(sandbox, inv):
    old = sandbox.vercel.production_env()["MTN_SESSION"]       # the seeded, dead session
    _, value = new_secret(sandbox)
    assert sandbox.vercel.production_env()["MTN_SESSION"] == old
    r = inv("monitor", "--no-alert", env={"MTN_SESSION": value}, allow=(value,))
    assert r.code == 3
    assert "✔ MTN_SESSION secret" in r.output
    assert "✘ production session" in r.output and "✘ production /products" in r.output
    assert "unhealthy: production is serving a different, dead session" in r.output


def test_secret_pushed_but_not_redeployed_still_unhealthy(sandbox, inv):
    """The classic hidden outage: the env var holds the new session, the running deployment does not."""
    _, value = new_secret(sandbox)
    sandbox.vercel.set_env("MTN_SESSION", value)                # pushed, no redeploy
    r = inv("monitor", "--no-alert", env={"MTN_SESSION": value}, allow=(value,))
    assert r.code == 3 and "production is serving a different, dead session" in r.output


def test_production_without_a_session(sandbox, inv):
    _, value = new_secret(sandbox)
    serve_in_production(sandbox, "not base64 at all")
    r = inv("monitor", "--no-alert", env={"MTN_SESSION": value}, allow=(value,))
    assert r.code == 3 and "production has no MTN session loaded: redeploy (`inv deploy`) or `inv recover`" in r.output


def test_expired_secret_and_production(sandbox, inv):
    session, value = new_secret(sandbox)
    serve_in_production(sandbox, value)
    sandbox.mtn.expire(session.session_id)
    r = inv("monitor", "--no-alert", env={"MTN_SESSION": value}, allow=(value,))
    assert r.code == 3
    assert "unhealthy: the MTN_SESSION secret is expired" in r.output and r.output.rstrip().count("`inv recover`")
    assert "production fails /products" in r.output


def test_bad_configuration_exits_2(sandbox, inv):
    r = inv("monitor", env={"MTN_SESSION": None})
    assert r.code == 2 and "MTN_SESSION not set" in r.output
    _, value = new_secret(sandbox)
    r = inv("monitor", env={"MTN_SESSION": value, "GITHUB_TOKEN": None}, allow=(value,))
    assert r.code == 2 and "GITHUB_TOKEN not set" in r.output
    r = inv("monitor", env={"MTN_SESSION": value, "PRODUCTION_URL": None}, allow=(value,))
    assert r.code == 2 and "PRODUCTION_URL" in r.output


def test_missing_inputs_are_named_before_any_request(sandbox, inv):
    """A sandbox shell whose sandbox was restarted on new ports: GitHub does not answer. The missing
    MTN_SESSION is one line and exit 2 at once, not after retrying the ledger's issue list."""
    dead = "http://127.0.0.1:9"   # discard port: nothing listens
    r = inv("monitor", env={"MTN_SESSION": None, "GITHUB_API_URL": dead})
    assert r.code == 2 and "MTN_SESSION not set" in r.output, r.output
    assert "retrying" not in r.output and "ConnectError" not in r.output, r.output
    _, value = new_secret(sandbox)
    r = inv("monitor", env={"MTN_SESSION": value, "PRODUCTION_URL": None, "GITHUB_API_URL": dead}, allow=(value,))
    assert r.code == 2 and "PRODUCTION_URL not set" in r.output, r.output
    assert "retrying" not in r.output, r.output


def test_undecodable_secret_is_bad_config_but_still_alerts(sandbox, inv):
    r = inv("monitor", env={"MTN_SESSION": "%%% not base64 %%%"})
    assert r.code == 2
    assert "MTN_SESSION is not valid base64" in r.output
    assert len(open_issues(sandbox)) == 1   # a broken secret in CI is an outage waiting to happen


def test_webhook_failure_names_only_the_variable(sandbox, inv):
    broken = Hook(status=404)
    try:
        _, value = new_secret(sandbox)
        r = inv("monitor", env={"MTN_SESSION": value, "ALERT_WEBHOOK_URL": broken.url}, allow=(value,))
    finally:
        broken.close()
    assert r.code == 3
    assert "webhook: post failed — ALERT_WEBHOOK_URL: POST answered 404" in r.output
    no_hook_leak(r)
    assert broken.url not in r.output


def test_production_on_another_live_session_is_a_warning(sandbox, inv):
    _, running = new_secret(sandbox)
    serve_in_production(sandbox, running)
    _, value = new_secret(sandbox)           # the secret holds a newer live session, not yet deployed
    r = inv("monitor", env={"MTN_SESSION": value}, allow=(value, running))
    assert r.code == 0, r.output
    assert "⚠ production session" in r.output
    assert "warning: production serves a different session than the MTN_SESSION secret (it works)" in r.output
    assert open_issues(sandbox) == []


def test_an_alert_that_cannot_be_delivered_fails_a_healthy_run(sandbox, inv):
    _, value = new_secret(sandbox)
    serve_in_production(sandbox, value)
    r = inv("monitor", env={"MTN_SESSION": value, "GITHUB_TOKEN": "ghp_wrong_token"}, allow=(value,))
    assert r.code == 2, r.output
    assert "github-issue: find failed — GitHub: GET /repos/acme/mtn-app/issues answered 401 Bad credentials" in r.output
    assert "ghp_wrong_token" not in r.output


def test_mtn_api_unreachable_but_production_works_with_the_same_session(sandbox, inv):
    _, value = new_secret(sandbox)
    serve_in_production(sandbox, value)
    # the monitor's own three tries fail; the app's call right after goes through
    sandbox.faults.add(service="mtn_api", path="/api/v1/feasibility/product/wholesale/mns", status=503,
                       retry_after=0, count=3)
    r = inv("monitor", env={"MTN_SESSION": value}, allow=(value,))
    assert r.code == 0, r.output
    assert "warning: could not validate the MTN_SESSION secret directly (MTN API answered 503" in r.output
    assert "production's /products works with the same session" in r.output


def test_in_a_sandbox_shell_monitor_without_mtn_session_points_to_file(sandbox, inv):
    """Walked: the sandbox shell blanks MTN_SESSION, and `inv monitor` said only 'MTN_SESSION not set'."""
    r = inv("monitor", env={"MTN_RUNBOOK_SANDBOX": "1", "MTN_SESSION": None})
    assert r.code == 2, r.output
    assert "inv monitor --file $MTN_SESSION_FILE" in r.output and "Traceback" not in r.output

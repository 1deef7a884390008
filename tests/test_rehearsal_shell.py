"""runbooks/rehearsal.md "poking at it by hand": a shell that sourced the sandbox's env file uses
sandbox files, sinks and targets only, whatever the real `.env` and invoke.yaml say."""

from __future__ import annotations

import http.server
import json
import threading
from pathlib import Path

import pytest
import yaml

from conftest import pushed_value
from mtn_runbook.core.session import Session, save
from mtn_runbook.sandbox.shell import shell_env
from sshd import sshd  # noqa: F401  (the fixture)

APP_ENV = b"DATABASE_URL=postgres://app@db/app\nMTN_SESSION=the-real-production-value\n"


@pytest.fixture
def webhook():
    """A real webhook receiver on loopback that records every request."""
    hits: list[str] = []

    class Hook(http.server.BaseHTTPRequestHandler):
        def do_POST(self):
            hits.append(self.path)
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Hook)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/hooks/real-team-channel", hits
    server.shutdown()


@pytest.fixture
def real_config(workdir: Path, sshd, webhook, tmp_path: Path, sandbox):  # noqa: F811
    """What a real checkout holds: a .env with a webhook, an invoke.yaml naming a real SSH host,
    a real session and a real journal."""
    url, _ = webhook
    (workdir / ".env").write_text(f"ALERT_WEBHOOK_URL={url}\nMTN_SESSION_FILE=.cache/mtn-session.json\n")
    app_env = tmp_path / "srv" / "app.env"
    app_env.parent.mkdir()
    app_env.write_bytes(APP_ENV)
    (workdir / "invoke.yaml").write_text(yaml.safe_dump({"targets": [sshd.target(app_env)]}))
    real = Session.from_dict(sandbox.mtn.mint_session(), "real")
    save(workdir / ".cache" / "mtn-session.json", real)
    journal = workdir / ".cache" / "journal.jsonl"
    journal.write_text('{"event": "validate", "at": "2026-01-01T00:00:00+00:00", "verdict": "valid"}\n')
    return {"app_env": app_env, "session": workdir / ".cache" / "mtn-session.json", "journal": journal}


def test_a_sandbox_shell_touches_only_the_sandbox(inv, sandbox, workdir, sshd, webhook, real_config):  # noqa: F811
    _, hits = webhook
    real_session = real_config["session"].read_bytes()
    real_journal = real_config["journal"].read_bytes()
    shell = shell_env(sandbox.env())  # = `set -a; . .cache/sandbox.env; set +a`
    config = str(workdir / "invoke.yaml")
    before = sshd.connections()
    (workdir / "session.txt").write_text("the-real-exported-value")  # a real `inv export` lies here

    for step in (["auth", "--headless"], ["validate"], ["export"], ["push"], ["deploy"]):
        result = inv("-f", config, *step, env=shell, timeout=180)
        assert result.code == 0, (step, result.output)

    sandboxed = workdir / ".cache" / "sandbox" / "mtn-session.json"
    assert sandboxed.exists()
    new = Session.from_dict(__import__("json").loads(sandboxed.read_text()), "sandbox")
    assert sandbox.vercel.env_value("MTN_SESSION") == pushed_value(sandbox, new)  # the sandbox's Vercel got it
    sandbox.mtn.expire()
    monitor = inv("-f", config, "monitor", env={**shell, "MTN_SESSION": new.encode()})
    assert monitor.code == 3, monitor.output  # unhealthy: the alert went to the sandbox's GitHub only
    assert sandbox.github.issues()

    assert real_config["session"].read_bytes() == real_session
    assert not Path(str(real_config["session"]) + ".prev").exists()
    assert real_config["journal"].read_bytes() == real_journal
    assert (workdir / ".cache" / "sandbox" / "journal.jsonl").exists()
    assert hits == []
    assert sshd.connections() == before
    assert real_config["app_env"].read_bytes() == APP_ENV
    assert (workdir / "session.txt").read_text() == "the-real-exported-value"   # walked: export overwrote it
    assert (workdir / ".cache" / "sandbox" / "session.txt").read_text() == pushed_value(sandbox, new)


def test_a_sandbox_shell_refuses_a_real_url(inv, sandbox, workdir):
    shell = {**shell_env(sandbox.env()), "VERCEL_API_URL": "https://api.vercel.com"}

    result = inv("push", "--check", env=shell)

    assert result.code == 2, result.output
    assert result.stderr.strip().splitlines() == [
        "✘ sandbox shell (MTN_RUNBOOK_SANDBOX=1), but VERCEL_API_URL is not on loopback: this shell would reach "
        "a real service — start `inv sandbox --env-file .cache/sandbox.env` and source that file again, or leave "
        "the sandbox shell (`unset MTN_RUNBOOK_SANDBOX`)"]


@pytest.mark.e2e
def test_inv_sandbox_env_file_marks_the_shell_and_clears_real_values(tmp_path):
    from dotenv import dotenv_values

    from mtn_runbook.sandbox.__main__ import serve

    path = tmp_path / "sandbox.env"
    stop = threading.Event()
    thread = threading.Thread(target=serve, kwargs={"captcha_delay": 0.1, "deploy_seconds": 0.1,
                                                    "env_file": str(path), "stop": stop})
    thread.start()
    try:
        for _ in range(200):
            if path.exists() and path.stat().st_size:
                break
            threading.Event().wait(0.05)
        values = dotenv_values(path)
    finally:
        stop.set()
        thread.join(10)
    assert values["MTN_RUNBOOK_SANDBOX"] == "1"
    assert values["MTN_SESSION_FILE"] == ".cache/sandbox/mtn-session.json"
    assert values["ALERT_WEBHOOK_URL"] == "" and values["MTN_SESSION"] == ""  # sourcing clears real ones
    assert values["VERCEL_API_URL"].startswith("http://127.0.0.1:")


def test_the_demo_leaves_an_open_sandbox_shell_as_it_was(inv, sandbox, workdir):
    """Item 21: `scripts/demo` (= `inv recover --sandbox`) in the same checkout while a sandbox
    shell is open saved its own stand-ins' session over the shell's; `validate` and `verify` in
    the shell then called a healthy production broken."""
    shell = shell_env(sandbox.env())
    for step in (["auth", "--headless"], ["push"], ["deploy"]):
        result = inv(*step, env=shell, timeout=180)
        assert result.code == 0, (step, result.output)
    shells = workdir / ".cache" / "sandbox"
    kept = {p.name: p.read_bytes() for p in shells.iterdir() if p.is_file()}

    demo = inv("recover", "--sandbox", timeout=180)   # what scripts/demo runs after its set-up
    assert demo.code == 0, demo.output

    assert {p.name: p.read_bytes() for p in shells.iterdir() if p.is_file()} == kept
    validate = inv("validate", env=shell)
    assert validate.code == 0 and "valid" in validate.output, validate.output
    verify = inv("verify", env=shell)
    assert verify.code == 0, verify.output


def test_inv_sandbox_env_file_in_a_missing_folder_makes_no_folder(inv, sandbox, tmp_path):
    """Item 11: `--env-file /nonexistent/dir/x.env` made /nonexistent/dir/ (and served on)."""
    target = tmp_path / "nonexistent" / "dir" / "x.env"
    result = inv("sandbox", "--env-file", str(target), timeout=30)
    assert result.code == 2, result.output
    assert len(result.output.strip().splitlines()) == 1 and str(target.parent) in result.output
    assert "does not exist" in result.output
    assert not (tmp_path / "nonexistent").exists()


# -- the page's own admin lines do what their comments say ------------------------------------
REHEARSAL = Path(__file__).resolve().parents[1] / "runbooks" / "rehearsal.md"


def admin_lines(endpoint: str) -> list[dict]:
    """The JSON bodies rehearsal.md posts to the sandbox's /admin/ENDPOINT, in page order."""
    import re

    return [json.loads(m) for m in re.findall(rf"/admin/{endpoint} -d '([^']*)'", REHEARSAL.read_text())]


def test_the_pages_rate_limit_is_met_by_a_push(inv, sandbox, workdir):
    """"a rate limit (watch the retry)": the page's fault must be one a push actually makes. It was
    POST /v10/projects/*/env, which a push only sends when MTN_SESSION does not exist yet: once it
    did (every rehearsal after the first), the fault was never hit and no retry was shown."""
    import httpx

    from mtn_runbook.core.session import Session, save

    faults = admin_lines("faults")
    assert faults, "rehearsal.md shows no fault"
    session = Session.from_dict(sandbox.mtn.mint_session(), "sandbox")
    save(workdir / ".cache" / "mtn-session.json", session)
    assert inv("push").code == 0            # MTN_SESSION exists at Vercel now, as in any later rehearsal
    for fault in faults:
        assert httpx.post(f"{sandbox.urls['admin']}/admin/faults", json=fault).status_code == 201
    again = inv("push")
    assert again.code == 0, again.output
    assert "429; retrying in 1 s" in again.output, again.output
    hits = httpx.get(f"{sandbox.urls['admin']}/admin/state").json()["faults"]
    assert all(f["hits"] == f["count"] for f in hits), hits


def test_the_pages_failed_deployment_can_be_fixed_before_resume(sandbox):
    """`next_deploy_state: ERROR` holds for every deployment until set back: the page must show
    how, or `inv recover --resume` fails again and again."""
    states = [o["next_deploy_state"] for o in admin_lines("options") if "next_deploy_state" in o]
    assert "ERROR" in states and states[-1] == "READY", states


def test_a_coolify_sandbox_shell_pushes_and_deploys(inv, workdir):
    """Walked rehearsal.md's Coolify path: the shell of `inv sandbox --production coolify` blanks
    VERCEL_*, and every task refused it with `VERCEL_API_URL is not set`. A service with neither
    URL nor token is simply not configured; a URL that is set must still be on loopback."""
    from mtn_runbook.core import session as sessions
    from mtn_runbook.sandbox import Sandbox

    with Sandbox(production="coolify", captcha_delay=0.1, deploy_seconds=0.2) as sb:
        shell = shell_env(sb.env())
        assert shell["VERCEL_API_URL"] == "" and shell["COOLIFY_API_URL"]
        sessions.save(workdir / ".cache" / "sandbox" / "mtn-session.json",
                      Session.from_dict(sb.mtn.mint_session(), "sandbox"))
        pushed = inv("push", env=shell)
        assert pushed.code == 0, pushed.output
        assert "coolify" in pushed.stdout
        deployed = inv("deploy", env=shell, timeout=120)
        assert deployed.code == 0, deployed.output

        away = inv("push", "--check", env={**shell, "COOLIFY_API_URL": "https://coolify.example.com"})
        assert away.code == 2 and "COOLIFY_API_URL is not on loopback" in away.stderr, away.output

"""`inv doctor` against the sandbox: everything in place passes; each gap is named."""

from __future__ import annotations

import os
import subprocess

import pytest

from mtn_runbook.core import session as sessions


@pytest.fixture
def ready(sandbox, workdir):
    """A work directory as a set-up operator has it: a git checkout that ignores the secrets,
    and a saved session."""
    subprocess.run(["git", "init", "-q"], cwd=workdir, check=True)
    (workdir / ".gitignore").write_text(".cache/\nsession.txt\n.env\n")
    minted = sessions.Session.from_dict(sandbox.mtn.mint_session(), "minted")
    sessions.save(workdir / ".cache" / "mtn-session.json", minted)
    return workdir


def test_doctor_passes_when_everything_is_in_place(ready, inv):
    # a fixed MTN_LINK_PORT may be taken on a shared machine; a desktop's DISPLAY (the check starts Chromium headless)
    result = inv("doctor", env={"MTN_LINK_PORT": "0", "DISPLAY": ":0"})
    assert result.code == 0, result.output
    for name in ("MTN credentials", "browser", ".gitignore", "session file", "Vercel token", "GitHub token",
                 "production app", "monitor workflow", "monitor schedule"):
        assert f"✔ {name}" in result.stdout, name
    assert "✔ login link — `--link` can work here: 127.0.0.1:" in result.stdout
    assert "Chromium starts headless" in result.stdout
    assert "all " in result.stdout and "checks passed" in result.stdout


def test_doctor_names_what_gitignore_misses(ready, inv):
    (ready / ".gitignore").write_text(".cache/\n")
    result = inv("doctor", "--no-browser")
    assert result.code == 2, result.output
    assert "not ignored by git: session.txt, .env" in result.stdout


def test_doctor_names_the_token_to_fix(ready, inv):
    result = inv("doctor", "--no-browser", env={"VERCEL_TOKEN": "wrong-token"})
    assert result.code == 2, result.output
    assert "✘ Vercel token" in result.stdout
    assert "VERCEL_TOKEN" in result.stdout
    assert "wrong-token" not in result.output


def test_doctor_flags_an_open_session_file(ready, inv):
    os.chmod(ready / ".cache" / "mtn-session.json", 0o644)
    result = inv("doctor", "--no-browser")
    assert result.code == 2, result.output
    assert "mode 0644" in result.stdout and "chmod 600" in result.stdout


def test_doctor_flags_missing_credentials_and_browser(ready, inv):
    result = inv("doctor", env={"MTN_PASSWORD": None, "PLAYWRIGHT_CHROMIUM_EXECUTABLE_PATH": "/nonexistent/chrome"})
    assert result.code == 2, result.output
    assert "MTN_PASSWORD not set" in result.stdout
    assert "✘ browser" in result.stdout


def test_doctor_json_lists_every_check(ready, inv):
    import json

    result = inv("doctor", "--no-browser", "--json")
    data = json.loads(result.stdout)
    assert data["ok"] is (result.code == 0)
    assert {c["name"] for c in data["checks"]} >= {"MTN credentials", ".gitignore", "session file"}


def test_doctor_reports_a_disabled_monitor_workflow(ready, sandbox, inv):
    sandbox.github.set_workflow(state="disabled_inactivity")
    result = inv("doctor", "--no-browser")
    assert result.code == 2, result.output
    assert "disabled_inactivity" in result.stdout and "inv monitor.enable" in result.stdout


def test_doctor_names_a_bad_github_token(ready, inv):
    result = inv("doctor", "--no-browser", env={"GITHUB_TOKEN": "ghp_wrong"})
    assert result.code == 2, result.output
    assert "✘ GitHub token" in result.stdout and "GITHUB_TOKEN" in result.stdout


def test_doctor_says_when_the_link_port_is_taken(ready, inv):
    import socket

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = inv("doctor", "--no-browser", env={"MTN_LINK_PORT": str(port)})
    assert f"`--link` cannot work here: the login link cannot listen on 127.0.0.1:{port}" in result.stdout


def test_doctor_warns_when_no_login_window_can_open(ready, inv):
    """A server without DISPLAY: doctor passed, then `inv recover` stopped at the login (exit 2,
    "no display"). Doctor now says so, and names the way that works there: --link."""
    result = inv("doctor", env={"MTN_LINK_PORT": "0", "DISPLAY": None, "WAYLAND_DISPLAY": None})
    assert result.code == 0, result.output          # a warning: --link works here
    line = next(ln for ln in result.stdout.splitlines() if " browser — " in ln)
    assert line.startswith("⚠ browser") and "no display" in line and "`inv recover --link`" in line, line

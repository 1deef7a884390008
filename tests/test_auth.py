"""`inv auth` with real headless Chromium against the sandbox, and the session's life after it:
export round trip, validate, expiry at MTN's side, extend refusing a dead session."""

from __future__ import annotations

import json
import os
import stat

import httpx
import pytest

from mtn_runbook.core import session as sessions
from mtn_runbook.core.config import Settings
from mtn_runbook.core.errors import ConfigError
from mtn_runbook.core.pushed import app_value, for_push
from mtn_runbook.mtn import browser


def session_file(workdir):
    return workdir / ".cache" / "mtn-session.json"


def test_auth_saves_the_session_mtn_issued_and_it_lives_until_mtn_ends_it(inv, sandbox, workdir):
    result = inv("auth", "--headless", "--timeout", "30")
    assert result.code == 0, result.output
    path = session_file(workdir)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    data = json.loads(path.read_text())
    assert {"cookies", "sessionId", "expiresAt"} <= set(data)
    [login] = sandbox.mtn.snapshot()["sessions"]
    assert data["sessionId"] == login["sessionId"]  # the SSO host's JSESSIONID
    names = sorted((c["name"], c["domain"]) for c in data["cookies"])
    assert names == [("CASTGC", "127.0.0.1"), ("JSESSIONID", "127.0.0.1"), ("JSESSIONID", "localhost"),
                     ("_GRECAPTCHA", "127.0.0.1")]
    saved, _ = sessions.load(path)
    assert 59 <= saved.minutes_left() <= 60
    assert f"logged in: session {saved.short_id}" in result.stdout

    # export round-trips: the exported value decodes to what production gets of the saved session
    ready = for_push(saved, sandbox.urls["mtn_api"], 48)   # as a push leaves it: the gate noted in the file
    sessions.save(path, ready.session, keep_prev=False)
    value = ready.value
    exported = inv("export", "--stdout", allow=(value,))
    assert exported.code == 0, exported.output
    assert exported.stdout == value
    saved, _ = sessions.load(path)
    app = sessions.decode(exported.stdout)[0]
    assert app == app_value(saved, sandbox.urls["mtn_api"])[0] and app.session_id == saved.session_id
    assert [c["name"] for c in app.cookies] == ["JSESSIONID"]
    assert "exported session" in exported.stderr
    data = json.loads(path.read_text())

    valid = inv("validate")
    assert valid.code == 0, valid.output
    assert "✔ valid — MTN API accepts the session (7 products)" in valid.stdout

    httpx.post(f"{sandbox.urls['admin']}/admin/mtn/expire", json={"sessionId": data["sessionId"]})
    expired = inv("validate")
    assert expired.code == 3, expired.output
    assert "✘ expired — MTN API redirected to the SSO login (302)" in expired.stdout

    refused = inv("extend")
    assert refused.code == 3, refused.output
    assert "not extending" in refused.stderr
    assert json.loads(path.read_text()) == data  # nothing changed

    # a second login replaces the session and keeps the first as .prev
    again = inv("auth", "--headless", "--timeout", "30")
    assert again.code == 0, again.output
    assert json.loads(sessions.prev_path(path).read_text()) == data
    assert json.loads(path.read_text())["sessionId"] != data["sessionId"]
    assert inv("validate").code == 0


def test_a_captcha_that_never_solves_ends_in_exit_4(inv, sandbox, workdir):
    sandbox.options.captcha_delay = None
    result = inv("auth", "--headless", "--timeout", "3")
    assert result.code == 4, result.output
    assert "the login did not finish within 3s" in result.stderr
    assert "solve the reCAPTCHA" in result.stderr  # the guide's troubleshooting as the hint
    assert not session_file(workdir).exists()
    assert sandbox.mtn.logins == 0


def test_wrong_credentials_end_with_mtns_error_text(inv, sandbox, workdir):
    result = inv("auth", "--headless", "--timeout", "30", env={"MTN_PASSWORD": "not-the-password"})
    assert result.code == 2, result.output
    assert "MTN SSO refused the login: Invalid credentials." in result.stderr
    assert "check MTN_USERNAME and MTN_PASSWORD" in result.stderr
    assert "not-the-password" not in result.output
    assert not session_file(workdir).exists()


def test_missing_credentials_fail_before_any_browser(inv, sandbox, workdir):
    result = inv("auth", "--headless", env={"MTN_PASSWORD": None})
    assert result.code == 2
    assert "MTN_PASSWORD not set" in result.stderr
    assert sandbox.history.requests("mtn_sso") == []


def test_auth_check_opens_nothing(inv, sandbox, workdir):
    result = inv("auth", "--headless", "--check")
    assert result.code == 0, result.output
    assert "would" in result.stdout and "127.0.0.1" in result.stdout
    assert sandbox.history.requests("mtn_sso") == []
    assert not session_file(workdir).exists()


def test_a_missing_browser_is_one_line_with_how_to_get_one(inv, sandbox, workdir):
    result = inv("auth", "--headless", env={"PLAYWRIGHT_CHROMIUM_EXECUTABLE_PATH": "/nonexistent/chrome"})
    assert result.code == 2
    assert "is not an executable file" in result.stderr and "playwright install chromium" in result.stderr


def test_a_second_run_waits_for_no_one_it_fails_on_the_lock(inv, sandbox, workdir):
    from mtn_runbook.core.session import lock

    with lock(session_file(workdir)):
        result = inv("auth", "--headless", "--timeout", "5")
    assert result.code == 5, result.output
    assert "another run" in result.stderr


# -- which browser ----------------------------------------------------------------------------
def chromium_revision() -> str:
    import playwright

    path = os.path.join(os.path.dirname(playwright.__file__), "driver", "package", "browsers.json")
    return next(b["revision"] for b in json.load(open(path))["browsers"] if b["name"] == "chromium")


def test_browser_discovery_order(tmp_path, monkeypatch):
    registry = tmp_path / "ms-playwright"
    registry.mkdir()
    monkeypatch.setenv("PLAYWRIGHT_BROWSERS_PATH", str(registry))
    fake = tmp_path / "bin" / "google-chrome"
    fake.parent.mkdir()
    fake.write_text("#!/bin/sh\n")
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", str(fake.parent))
    # the variable wins, and must point at an executable
    assert browser.find_chromium(Settings(chromium_path=str(fake))) == str(fake)
    with pytest.raises(ConfigError, match="not an executable file"):
        browser.find_chromium(Settings(chromium_path=str(tmp_path / "nope")))
    # then a browser on PATH
    assert browser.find_chromium(Settings()) == str(fake)
    # Playwright's own, when installed, comes before PATH (None: let Playwright pick it)
    installed = registry / f"chromium-{chromium_revision()}"
    installed.mkdir()
    (installed / "INSTALLATION_COMPLETE").touch()
    assert browser.find_chromium(Settings()) is None
    assert browser.find_chromium(Settings(), headless=True) == str(fake)  # headless needs the headless shell
    # none at all: one line saying how to get one
    installed.joinpath("INSTALLATION_COMPLETE").unlink()
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    with pytest.raises(ConfigError) as none:
        browser.find_chromium(Settings())
    assert "no Chromium found" in none.value.line() and "playwright install chromium" in none.value.line()


@pytest.mark.skipif(not os.access("/usr/lib/chromium/chromium", os.X_OK), reason="needs Debian's chromium")
def test_the_real_binary_is_preferred_over_debians_wrapper(tmp_path, monkeypatch):
    monkeypatch.setenv("PLAYWRIGHT_BROWSERS_PATH", str(tmp_path))
    monkeypatch.setenv("PATH", "/usr/bin")
    assert browser.find_chromium(Settings()) == "/usr/lib/chromium/chromium"


def test_launch_flags():
    args = browser.launch_args()
    assert {"--disable-gpu", "--disable-quic", "--no-first-run", "--disable-sync"} <= set(args)
    assert ("--no-sandbox" in args) == (os.geteuid() == 0)


@pytest.mark.e2e
def test_launch_check_starts_the_real_browser(tmp_path):
    from conftest import chromium_path

    detail = browser.launch_check(Settings(chromium_path=chromium_path()))
    assert detail.startswith("Chromium ") and "starts" in detail
    broken = tmp_path / "chrome"
    broken.write_text("#!/bin/sh\nexit 1\n")
    broken.chmod(0o755)
    with pytest.raises(ConfigError, match="Chromium did not start"):
        browser.launch_check(Settings(chromium_path=str(broken)))


def test_a_headless_login_does_not_speak_of_a_window(inv, sandbox, workdir):
    """Walked: a headless (sandbox) login said 'waiting … in the browser window' with no window."""
    result = inv("auth", "--headless", "--timeout", "30")
    assert result.code == 0, result.output
    assert "in the browser window" not in result.output
    assert "waiting for the login to finish in the headless browser" in result.output


def test_no_display_names_the_login_link(inv, sandbox, workdir):
    """A server without a desktop: the one line says what works there (--link), not only 'a desktop'."""
    result = inv("auth", env={"DISPLAY": None, "WAYLAND_DISPLAY": None})
    assert result.code == 2, result.output
    assert "no display for the browser window" in result.stderr and "--link" in result.stderr
    assert sandbox.history.requests("mtn_sso") == []

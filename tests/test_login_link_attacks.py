"""`--link` under attack: a second real Chromium drives the link as the person (or as a page that
rebinds its name), against the sandbox's stand-in login page turned hostile (options.lure_url):
a "show password" button, a same-origin URL that 302s to another loopback host, a popup.

The other host is a plain HTTP server on 127.0.0.2 that records every request it receives: the
headless browser must never send it one. Every login here must still succeed with the password
the tool typed (the sandbox refuses any other: history "login.failed").
"""

from __future__ import annotations

import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest

from conftest import chromium_path
from mtn_runbook.core import session as sessions
from test_login_link import Viewer, person, run, spots  # noqa: F401 (fixtures)


class OtherHost:
    """Another loopback host (127.0.0.2): records each request's path, answers 200."""

    def __init__(self):
        self.paths: list[str] = []
        other = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802
                other.paths.append(self.path)
                body = b"<!doctype html><title>not MTN</title><h1>You left MTN</h1>"
                self.send_response(200)
                self.send_header("content-type", "text/html")
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.2", 0), Handler)
        self.url = f"http://127.0.0.2:{self.server.server_address[1]}/stolen"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def other(sandbox):
    host = OtherHost()
    sandbox.options.lure_url = host.url
    yield host
    host.close()


def logged_in(job, sandbox, workdir) -> None:
    result = job.finish()
    assert result.code == 0, result.output
    assert not sandbox.history.events("mtn_sso", "login.failed")  # the password is still the tool's
    assert sessions.load(workdir / ".cache" / "mtn-session.json")[0].session_id


def notice(viewer) -> str:
    viewer.page.locator("#notice:not([hidden])").wait_for(timeout=10_000)
    return viewer.page.locator("#notice").inner_text()


def test_keys_typed_right_away_never_reach_the_password_the_caret_was_left_in(sandbox, workdir, run, person):
    """The tool filled the password last, so the caret sat in it; blurring moved only the focus."""
    where = spots(person, sandbox)
    job = run("auth", "--link", "--timeout", "90")
    viewer = Viewer(person, job.link())
    viewer.page.keyboard.type("zz")  # before any click in the picture
    viewer.page.keyboard.press("Backspace")
    viewer.click(where["password"])  # a press on the field, then keys: dropped as well
    assert "takes no input" in notice(viewer)
    viewer.page.keyboard.type("yy")
    viewer.click(where["captcha"])
    logged_in(job, sandbox, workdir)


def test_the_key_check_finds_the_caret_a_blurred_field_keeps(sandbox, person):
    from mtn_runbook.mtn.relay import KEY_LANDS_LOCKED_JS

    page = person.new_page()
    page.goto(sandbox.login_url)
    page.fill("#dummyUser", "someone")
    page.fill("#password", "typed-by-the-tool")
    page.evaluate("document.activeElement.blur()")
    assert page.evaluate("document.activeElement === document.body")  # what the old check looked at
    assert page.evaluate(KEY_LANDS_LOCKED_JS) is True  # the selection still belongs to the password
    page.click("#dummyUser")
    assert page.evaluate(KEY_LANDS_LOCKED_JS) is False
    page.close()


def test_a_show_password_button_leaves_the_field_locked_and_masked(sandbox, workdir, run, person, other):
    where = spots(person, sandbox, show="#show-password")
    job = run("auth", "--link", "--timeout", "90")
    viewer = Viewer(person, job.link())
    viewer.click(where["show"])  # the page makes it type=text...
    deadline = time.monotonic() + 15
    while not sandbox.history.events("mtn_sso", "lure.shown") and time.monotonic() < deadline:
        time.sleep(0.1)
    shown = sandbox.history.events("mtn_sso", "lure.shown")
    assert shown and shown[-1]["type"] == "text", shown
    assert shown[-1]["masked"] == "disc" and shown[-1]["readonly"] == "true", shown  # ...still dots, read-only
    viewer.click(where["password"])  # not `input[type=password]` any more: still no press, no keys
    assert "takes no input" in notice(viewer)
    viewer.page.keyboard.type("zz")
    viewer.click(where["captcha"])
    logged_in(job, sandbox, workdir)
    assert other.paths == []


def test_a_redirect_to_another_host_and_a_popup_never_leave_mtn(sandbox, workdir, run, person, other):
    where = spots(person, sandbox, away="#lure-away", popup="#lure-popup")
    job = run("auth", "--link", "--timeout", "90")
    viewer = Viewer(person, job.link())
    viewer.click(where["away"])  # same origin, then 302 to 127.0.0.2
    time.sleep(1.5)
    assert other.paths == [], other.paths
    assert "127.0.0.2" in notice(viewer) and "blocked" in notice(viewer)
    viewer.page.locator("#notice").wait_for(state="hidden", timeout=10_000)
    viewer.click(where["popup"])  # target=_blank straight to 127.0.0.2
    time.sleep(1.5)
    assert other.paths == [], other.paths
    assert "127.0.0.2" in notice(viewer)
    viewer.click(where["captcha"])  # the login page stayed where it was: the person carries on
    logged_in(job, sandbox, workdir)
    assert [r for r in sandbox.history.requests("mtn_sso") if r["path"] == "/lure/away"]  # the first hop went
    assert other.paths == [], other.paths  # not one request reached the other host


@pytest.fixture
def rebinder():
    """A browser whose DNS answers 127.0.0.1 for two names: the one the link is published under,
    and an attacker's that rebinds to this machine."""
    from playwright.sync_api import sync_playwright

    rules = "MAP link.example.test 127.0.0.1, MAP rebind.attacker.example 127.0.0.1"
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium_path() or None, headless=True,
                                    args=["--no-sandbox", f"--host-resolver-rules={rules}"])
        yield browser
        browser.close()


def test_only_the_names_the_link_was_made_for_are_answered(sandbox, workdir, run, rebinder):
    where = spots(rebinder, sandbox)
    job = run("auth", "--link", "--timeout", "90", env={"MTN_LINK_PUBLIC_HOST": "link.example.test"})
    url = job.link()
    assert url.startswith("http://link.example.test:"), url
    # a page on the attacker's name, rebound to this machine: no page, no cookie, no socket
    attacker = rebinder.new_page()
    response = attacker.goto(url.replace("link.example.test", "rebind.attacker.example"))
    assert response.status == 403 and "set-cookie" not in response.headers
    assert "does not work" in attacker.locator("h1").inner_text()
    sock = httpx.get(url.replace("link.example.test", "127.0.0.1") + "/ws", timeout=5,
                     headers={"Host": "rebind.attacker.example", "Origin": "http://rebind.attacker.example",
                              "Upgrade": "websocket", "Connection": "Upgrade",
                              "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==", "Sec-WebSocket-Version": "13"})
    assert sock.status_code == 403
    # the person, on the published name, is still the first and only viewer
    viewer = Viewer(rebinder, url)
    viewer.click(where["captcha"])
    logged_in(job, sandbox, workdir)


def test_the_default_port_is_a_random_free_one(sandbox, workdir, inv):
    from mtn_runbook.core.config import Settings
    from mtn_runbook.mtn.link import Link

    assert Settings.load(environ={}, use_dotenv=False).link_port == "0"
    ports = set()
    for _ in range(2):
        with Link(Settings(), lambda url, timeout: None) as link:
            ports.add(link._sock.getsockname()[1])
    assert len(ports) == 2 and 8765 not in ports
    result = inv("auth", "--link", "--check", env={"MTN_LINK_PORT": None})
    assert result.code == 0 and "a free port chosen at random" in result.output, result.output

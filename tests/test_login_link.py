"""`--link`: a second Chromium plays the person and solves the sandbox captcha through the relay.

The sandbox's captcha runs in click mode here: it starts only on a trusted click on its box, so
a login that completes proves the person's click went through the screencast to the headless page.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest

from conftest import BIN, Result, chromium_path, pushed_value, secrets_known
from mtn_runbook.core import session as sessions
from mtn_runbook.mtn.relay import VIEWPORT

LINK = re.compile(r"http://[^\s/]+/l/[A-Za-z0-9_-]+")


class LinkRun:
    """`inv ARGS` in the background, read line by line, so the test can open the printed link."""

    def __init__(self, sandbox, workdir, tasks_root, home, *args: str, env: dict | None = None):
        self.sandbox, self.workdir, self.args = sandbox, workdir, args
        full_env = {"PATH": f"{BIN}:{os.environ.get('PATH', '/usr/bin:/bin')}", "HOME": str(home),
                    "LANG": "C.UTF-8", "PYTHONUNBUFFERED": "1", "PLAYWRIGHT_CHROMIUM_EXECUTABLE_PATH": chromium_path(),
                    **sandbox.env(), "MTN_LINK_PORT": "0", **(env or {})}
        self.proc = subprocess.Popen([str(BIN / "inv"), "--search-root", str(tasks_root), *args], cwd=workdir, env=full_env,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
        self.out: list[str] = []
        self.err: list[str] = []
        self._threads = [threading.Thread(target=self._read, args=(s, sink), daemon=True)
                         for s, sink in ((self.proc.stdout, self.out), (self.proc.stderr, self.err))]
        for t in self._threads:
            t.start()

    def _read(self, stream, sink) -> None:
        for line in stream:
            sink.append(line)

    def link(self, timeout: float = 60) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = LINK.search("".join(self.out))
            if found:
                return found.group(0)
            assert self.proc.poll() is None, "".join(self.out + self.err)
            time.sleep(0.05)
        raise AssertionError("no link printed: " + "".join(self.out + self.err))

    def finish(self, timeout: float = 120) -> Result:
        code = self.proc.wait(timeout=timeout)
        for t in self._threads:
            t.join(timeout=5)
        result = Result(code, "".join(self.out), "".join(self.err))
        leaked = [s for s in secrets_known(self.sandbox, self.workdir) if s in result.output]
        assert not leaked, f"secret leaked in output of inv {' '.join(self.args)}: {len(leaked)} value(s)"
        assert "Traceback" not in result.output, result.output
        return result

    def kill(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)


@pytest.fixture
def run(sandbox, workdir, tasks_root, home):
    """Like conftest's `inv`, in the background: the same tasks copy, empty HOME and leak check."""
    sandbox.options.captcha = "click"
    sandbox.options.captcha_delay = 0
    started: list[LinkRun] = []

    def start(*args: str, env: dict | None = None) -> LinkRun:
        started.append(LinkRun(sandbox, workdir, tasks_root, home, *args, env=env))
        return started[-1]

    yield start
    for r in started:
        r.kill()


@pytest.fixture
def person():
    """The person's own browser: a second Chromium driven by Playwright."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium_path() or None, headless=True, args=["--no-sandbox"])
        yield browser
        browser.close()


def spots(browser, sandbox, **more: str) -> dict[str, tuple[float, float]]:
    """Where the captcha box, the user name and the password (and `more`: name=selector) are on
    the login page, as fractions of the headless browser's viewport: what the person sees in the picture."""
    page = browser.new_page(viewport=VIEWPORT)
    page.goto(sandbox.login_url)
    found = {}
    for name, selector in (("captcha", ".g-recaptcha"), ("username", "#dummyUser"), ("password", "#password"),
                           *more.items()):
        box = page.locator(selector).bounding_box()
        found[name] = ((box["x"] + box["width"] / 2) / VIEWPORT["width"], (box["y"] + box["height"] / 2) / VIEWPORT["height"])
    page.close()
    return found


class Viewer:
    """The person's tab on the link, recording everything the link served to it."""

    def __init__(self, browser, url: str, phone: bool = False):
        # a phone's width; `phone` adds touch (taps, not mouse clicks)
        self.page = browser.new_page(viewport={"width": 390, "height": 844}, has_touch=phone, is_mobile=phone)
        self.responses = []
        self.ws_frames: list = []
        self.page.on("response", lambda r: self.responses.append(r))
        self.page.on("websocket", lambda ws: ws.on("framereceived", lambda f: self.ws_frames.append(f)))
        self.first = self.page.goto(url)
        # the viewer's CSP forbids eval: wait with selectors, not wait_for_function
        self.page.locator("#screen[src^='blob:']").wait_for(timeout=20_000)
        self.bodies = [r.body() for r in self.responses]

    def click(self, spot: tuple[float, float]) -> None:
        box = self.page.locator("#screen").bounding_box()
        self.page.mouse.click(box["x"] + spot[0] * box["width"], box["y"] + spot[1] * box["height"])

    def tap(self, spot: tuple[float, float]) -> None:
        box = self.page.locator("#screen").bounding_box()
        self.page.touchscreen.tap(box["x"] + spot[0] * box["width"], box["y"] + spot[1] * box["height"])

    def status(self) -> str:
        return self.page.locator("#status").inner_text()


def port_closed(url: str) -> bool:
    host, port = re.match(r"http://([^:/]+):(\d+)", url).groups()
    with socket.socket() as s:
        s.settimeout(2)
        return s.connect_ex((host, int(port))) != 0


class Hook:
    """A Slack-compatible webhook receiver on loopback."""

    def __init__(self):
        self.texts: list[str] = []
        hook = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802
                hook.texts.append(json.loads(self.rfile.read(int(self.headers["content-length"])))["text"])
                self.send_response(200)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/services/T000/B000/hooksecret0000"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


def test_recover_link_end_to_end_the_person_clicks_the_captcha_through_the_screencast(sandbox, workdir, run, person):
    old = sessions.Session.from_dict(sandbox.mtn.mint_session(), "minted")
    sessions.save(workdir / ".cache" / "mtn-session.json", old)
    sandbox.mtn.expire()  # production is down
    logins = sandbox.mtn.logins
    hook = Hook()
    where = spots(person, sandbox)

    job = run("recover", "--link", "--timeout", "90", env={"ALERT_WEBHOOK_URL": hook.url})
    url = job.link()
    viewer = Viewer(person, url)
    assert "Solve the reCAPTCHA" in viewer.status() and "Time left: 1:" in viewer.status()
    viewer.click(where["captcha"])
    result = job.finish()

    assert result.code == 0, result.output
    assert sandbox.mtn.logins == logins + 1
    new = sessions.load(workdir / ".cache" / "mtn-session.json")[0]
    assert new.session_id != old.session_id
    assert sandbox.vercel.env_value("MTN_SESSION", "production") == pushed_value(sandbox, new)
    auth = httpx.get(f"{sandbox.urls['app']}/api/mtn-wholesale/auth", timeout=10).json()
    assert auth["authenticated"] and auth["sessionId"] == new.session_id
    assert httpx.get(f"{sandbox.urls['app']}/api/mtn-wholesale/products", timeout=10).status_code == 200
    assert "✔ verify" in result.stdout
    # the link went to the webhook, with its token and nothing secret
    assert len(hook.texts) == 1 and url in hook.texts[0], hook.texts
    secrets = secrets_known(sandbox, workdir) | {hook.url}
    assert not [s for s in secrets if s in hook.texts[0]]
    # nothing served to the viewer holds a secret: page, code, status messages, frames
    served = [b for b in viewer.bodies] + [f if isinstance(f, bytes) else f.encode() for f in viewer.ws_frames]
    assert served and not [s for s in secrets if any(s.encode() in blob for blob in served)]
    headers = viewer.first.headers
    assert "default-src 'none'" in headers["content-security-policy"]
    assert "script-src 'self'" in headers["content-security-policy"]
    assert headers["referrer-policy"] == "no-referrer" and headers["cache-control"] == "no-store"
    # the page said so, and the server is gone
    viewer.page.locator("body.ended").wait_for(timeout=10_000)
    assert "Logged in" in viewer.status()
    assert port_closed(url)


def test_the_password_field_takes_no_input_from_the_viewer(sandbox, workdir, run, person):
    where = spots(person, sandbox)
    job = run("auth", "--link", "--timeout", "90")
    viewer = Viewer(person, job.link())

    viewer.click(where["username"])
    viewer.page.keyboard.press("Tab")  # the focus moves to the password field: keys are dropped...
    viewer.page.keyboard.type("zz")
    for _ in range(30):
        viewer.page.keyboard.press("Backspace")
    viewer.page.locator("#notice:not([hidden])").wait_for(timeout=10_000)
    assert "takes no input" in viewer.page.locator("#notice").inner_text()
    viewer.page.locator("#notice").wait_for(state="hidden", timeout=10_000)
    viewer.click(where["password"])  # ...and so is a press on it
    viewer.page.locator("#notice:not([hidden])").wait_for(timeout=10_000)
    viewer.click(where["captcha"])
    result = job.finish()

    # MTN (the sandbox) accepted the password the tool typed: the viewer changed nothing in it
    assert result.code == 0, result.output
    assert not sandbox.history.events("mtn_sso", "login.failed")
    assert sessions.load(workdir / ".cache" / "mtn-session.json")[0].session_id


def test_on_a_phone_a_tap_becomes_a_click(sandbox, workdir, run, person):
    where = spots(person, sandbox)
    job = run("auth", "--link", "--timeout", "90")
    viewer = Viewer(person, job.link(), phone=True)
    box = viewer.page.locator("#screen").bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= 390  # the picture fits the narrow screen
    viewer.tap(where["captcha"])
    result = job.finish()
    assert result.code == 0, result.output
    assert "logged in" in result.output


def test_no_one_opens_the_link_exit_4_and_the_server_is_gone(sandbox, workdir, run):
    job = run("auth", "--link", "--timeout", "4")
    url = job.link()
    assert httpx.get(url + "x", timeout=5).status_code == 403
    result = job.finish()
    assert result.code == 4, result.output
    assert "through the login link" in result.output and "browser window" not in result.output
    assert port_closed(url)
    assert not (workdir / ".cache" / "mtn-session.json").exists()


def test_ctrl_c_exits_130_and_the_server_is_gone(sandbox, workdir, run, person):
    job = run("auth", "--link", "--timeout", "60")
    url = job.link()
    viewer = Viewer(person, url)
    os.killpg(job.proc.pid, signal.SIGINT)  # Ctrl-C in a terminal reaches the whole process group
    result = job.finish(timeout=30)
    assert result.code == 130, result.output
    assert "interrupted" in result.output
    assert port_closed(url)
    viewer.page.locator("body.ended").wait_for(timeout=10_000)
    assert not (workdir / ".cache" / "mtn-session.json").exists()


def test_the_click_captcha_never_solves_itself(sandbox, workdir, inv):
    sandbox.options.captcha, sandbox.options.captcha_delay = "click", 0
    result = inv("auth", "--headless", "--timeout", "4")
    assert result.code == 4, result.output


def test_a_busy_port_is_one_line_exit_2_before_any_browser(sandbox, workdir, inv):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = inv("auth", "--link", env={"MTN_LINK_PORT": str(port)})
    assert result.code == 2, result.output
    assert f"cannot listen on 127.0.0.1:{port}" in result.output
    assert "MTN_LINK_PORT" in result.output and "Opening" not in result.output


def test_a_bad_port_value_is_one_line_exit_2(sandbox, workdir, inv):
    result = inv("recover", "--link", env={"MTN_LINK_PORT": "eighty"})
    assert result.code == 2, result.output
    assert "MTN_LINK_PORT 'eighty' is not a port number" in result.output


@pytest.mark.e2e
def test_token_rules_wrong_second_viewer_and_expired_get_403_and_headers_are_strict():
    from mtn_runbook.mtn.link_page import LinkPage, bind

    got: list[dict] = []
    page = LinkPage(bind("127.0.0.1", 0), deadline=time.monotonic() + 60, on_input=got.append, waiting_for="solve it")
    page.start()
    url = page.url("127.0.0.1")
    try:
        wrong = httpx.get(url[:-4] + "AAAA", timeout=5)
        assert wrong.status_code == 403 and wrong.headers["cache-control"] == "no-store"
        person, other = httpx.Client(timeout=5), httpx.Client(timeout=5)
        first = person.get(url)
        assert first.status_code == 200
        assert "default-src 'none'" in first.headers["content-security-policy"]
        assert "frame-ancestors 'none'" in first.headers["content-security-policy"]
        assert first.headers["referrer-policy"] == "no-referrer" and first.headers["cache-control"] == "no-store"
        assert "httponly" in first.headers["set-cookie"].lower() and "samesite=strict" in first.headers["set-cookie"].lower()
        assert other.get(url).status_code == 403  # a second viewer
        assert person.get(url).status_code == 200  # the same browser may reload
        cookie = f"viewer={person.cookies['viewer']}"
        assert handshake(url, cookie=None) == 403
        assert handshake(url, cookie=cookie, origin="http://evil.example") == 403
        assert handshake(url, cookie=cookie) == 101
        page.deadline = time.monotonic()   # the login's deadline passes (no real wait: a loaded machine
        time.sleep(0.01)                   # must not expire the link before the checks above)
        assert person.get(url).status_code == 403  # expired with the login's deadline
        assert handshake(url, cookie=cookie) == 403
    finally:
        page.stop()
    assert port_closed(url)


def handshake(url: str, *, cookie: str | None, origin: str | None = None) -> int:
    """The status of a WebSocket upgrade request to the link's socket."""
    host, port, path = re.match(r"http://([^:/]+):(\d+)(/.*)", url).groups()
    lines = [f"GET {path}/ws HTTP/1.1", f"Host: {host}:{port}", "Upgrade: websocket", "Connection: Upgrade",
             "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==", "Sec-WebSocket-Version: 13",
             f"Origin: {origin or f'http://{host}:{port}'}"]
    if cookie:
        lines.append(f"Cookie: {cookie}")
    with socket.create_connection((host, int(port)), timeout=5) as s:
        s.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        return int(s.recv(1024).split(b" ", 2)[1])


def test_the_headless_browser_may_not_leave_the_mtn_hosts(sandbox, person):
    from mtn_runbook.mtn.confine import Confinement, mtn_origins

    context = person.new_context()
    page = context.new_page()
    confinement = Confinement(page, mtn_origins(sandbox.login_url, sandbox.urls["mtn_api"]))
    page.goto(f"{sandbox.urls['mtn_api']}/")  # the API host: allowed (it redirects to the SSO host)
    assert page.url.startswith(sandbox.urls["mtn_sso"])
    outside = f"{sandbox.urls['app']}/api/mtn-wholesale/auth"  # same machine, another origin
    with context.expect_page() as opened:
        page.evaluate(f"window.open({json.dumps(sandbox.login_url)})")  # a popup is closed at once
    popup = opened.value
    deadline = time.monotonic() + 10   # "at once" on a loaded machine: poll, do not guess a wait
    while not popup.is_closed() and time.monotonic() < deadline:
        page.wait_for_timeout(50)
    assert popup.is_closed() and context.pages == [page]
    page.evaluate(f"location.href = {json.dumps(outside)}")  # as a link in the page would
    page.wait_for_timeout(500)
    assert page.url.startswith(sandbox.urls["mtn_sso"])  # the page stayed where it was
    page.evaluate(f"fetch({json.dumps(outside)}).catch(() => null)")  # nor a request from a script
    page.wait_for_timeout(500)
    assert not [r for r in sandbox.history.requests("app")]  # nothing reached the other origin
    assert confinement.blocked == ["127.0.0.1"] * len(confinement.blocked) and confinement.blocked
    confinement.stop()
    context.close()


def test_refresh_link_check_says_a_link_would_be_served_and_binds_nothing(sandbox, workdir, inv):
    with socket.socket() as busy:  # check mode must not even try the port
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        result = inv("refresh", "--link", "--check", env={"MTN_LINK_PORT": str(busy.getsockname()[1])})
    assert result.code == 0, result.output
    assert "would serve a one-time login link for a new login" in result.output
    assert not LINK.search(result.output)
    assert sandbox.mtn.logins == 0

"""The login link's page stands alone on a phone (390×844, touch), and its settings are checked
the same way by `--check` as by the real run.

Screenshots of the phone's page go to $LINK_SCREENS, else .cache/link-screens/ under the test's
workdir (look at them when changing viewer/*).
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import time

import httpx

from conftest import BIN
from test_login_link import Viewer, person, run, spots  # noqa: F401 (fixtures)


def shot(viewer, workdir, name: str) -> None:
    from pathlib import Path

    folder = Path(os.environ.get("LINK_SCREENS") or workdir / ".cache" / "link-screens")
    folder.mkdir(parents=True, exist_ok=True)
    viewer.page.screenshot(path=str(folder / f"{name}.png"))


def test_check_mode_refuses_the_port_the_real_run_refuses(sandbox, workdir, inv):
    for task in ("auth", "recover", "refresh"):
        result = inv(task, "--link", "--check", env={"MTN_LINK_PORT": "abc"})
        assert result.code == 2, (task, result.output)
        assert "MTN_LINK_PORT 'abc' is not a port number" in result.output, result.output


def test_an_address_not_of_this_machine_blames_the_bind_address_not_the_port(sandbox, workdir, inv):
    for args in (("auth", "--link"), ("auth", "--link", "--check"), ("recover", "--link", "--check")):
        result = inv(*args, env={"MTN_LINK_BIND": "8.8.8.8"})
        assert result.code == 2, (args, result.output)
        assert "MTN_LINK_BIND 8.8.8.8" in result.output and "not an address of this machine" in result.output
        assert "MTN_LINK_PORT" not in result.output and "Opening" not in result.output


def test_on_a_phone_a_notice_covers_the_picture_without_moving_it(sandbox, workdir, run, person):
    where = spots(person, sandbox)
    job = run("auth", "--link", "--timeout", "90")
    viewer = Viewer(person, job.link(), phone=True)
    before = viewer.page.locator("#screen").bounding_box()
    viewer.tap(where["password"])  # the notice: "takes no input"
    viewer.page.locator("#notice:not([hidden])").wait_for(timeout=10_000)
    shot(viewer, workdir, "notice")
    after = viewer.page.locator("#screen").bounding_box()
    assert after == before  # a tap aimed at the captcha still lands on it
    viewer.tap(where["captcha"])
    result = job.finish()
    assert result.code == 0, result.output
    # the end page: what happened, and no keyboard box left to tap
    viewer.page.locator("body.ended").wait_for(timeout=10_000)
    shot(viewer, workdir, "logged-in")
    assert "Logged in" in viewer.status() and "close this page" in viewer.status()
    assert not viewer.page.locator("#keyboard").is_visible()


def test_the_timeout_page_says_what_happened_and_what_comes_next(sandbox, workdir, run, person):
    job = run("auth", "--link", "--timeout", "8")
    url = job.link()
    viewer = Viewer(person, url, phone=True)
    result = job.finish()
    assert result.code == 4, result.output
    assert "for 8 s" in result.output and "1 min" not in result.output  # the time the link really has
    viewer.page.locator("body.ended").wait_for(timeout=10_000)
    shot(viewer, workdir, "timed-out")
    said = viewer.status()
    assert "Time is up" in said and "8 s" in said and "nothing was saved" in said
    assert "new link" in said and "see the terminal" not in said
    assert not viewer.page.locator("#keyboard").is_visible()


def test_the_ctrl_c_page_says_the_login_was_stopped_at_the_terminal(sandbox, workdir, run, person):
    job = run("auth", "--link", "--timeout", "60")
    viewer = Viewer(person, job.link(), phone=True)
    os.killpg(job.proc.pid, signal.SIGINT)
    result = job.finish(timeout=30)
    assert result.code == 130, result.output
    viewer.page.locator("body.ended").wait_for(timeout=10_000)
    assert "stopped at the terminal" in viewer.status() and "nothing was saved" in viewer.status()


def test_the_403_page_reads_on_a_phone(sandbox, workdir, run, person):
    job = run("auth", "--link", "--timeout", "60")
    url = job.link()
    page = person.new_page(viewport={"width": 390, "height": 844}, has_touch=True, is_mobile=True)
    response = page.goto(url[:-4] + "AAAA")
    assert response.status == 403 and response.headers["content-type"].startswith("text/html")
    assert page.locator("meta[name=viewport]").count() == 1
    heading = page.locator("h1")
    assert "does not work" in heading.inner_text()
    size = float(page.evaluate("parseFloat(getComputedStyle(document.querySelector('p')).fontSize)"))
    assert size >= 16  # styled (the inline style is allowed by the CSP), not the browser's tiny default
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    shot(type("Tab", (), {"page": page}), workdir, "forbidden")
    job.kill()


def test_inv_sandbox_captcha_tap_waits_for_a_tap(tmp_path, workdir, home, tasks_root):
    env = {"PATH": f"{BIN}:{os.environ.get('PATH', '/usr/bin:/bin')}", "HOME": str(home), "LANG": "C.UTF-8",
           "PYTHONUNBUFFERED": "1"}
    bad = subprocess.run([str(BIN / "inv"), "--search-root", str(tasks_root), "sandbox", "--captcha", "soon"],
                         cwd=workdir, env=env, capture_output=True, text=True, timeout=60)
    assert bad.returncode == 2 and "--captcha 'soon'" in bad.stderr, bad.stderr
    proc = subprocess.Popen([str(BIN / "inv"), "--search-root", str(tasks_root), "sandbox", "--captcha", "tap",
                             "--captcha-delay", "0"], cwd=workdir, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        lines = []
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            lines.append(proc.stdout.readline())
            if "Admin:" in lines[-1]:
                break
        out = "".join(lines)
        assert "waits for a click or tap" in out, out
        admin = re.search(r"Admin: (\S+)/admin/state", out).group(1)
        assert httpx.get(f"{admin}/admin/state", timeout=5).json()["options"]["captcha"] == "click"
        login_url = re.search(r"export MTN_SSO_LOGIN_URL=(\S+)", out).group(1).strip("'")
        # the page asks for its token only after a trusted click (a tap) on the captcha box
        assert "isTrusted" in httpx.get(login_url, timeout=5).text
    finally:
        os.killpg(proc.pid, signal.SIGINT)
        proc.wait(timeout=30)


def test_recover_sandbox_link_waits_for_the_persons_tap(sandbox, workdir, inv):
    """A rehearsal of --link: the stand-in captcha no longer solves itself before anyone opened the link."""
    result = inv("recover", "--sandbox", "--link", "--timeout", "6")
    assert result.code == 4, result.output
    assert "waits for your tap" in result.output and "/l/" in result.output

"""How long the tool takes to give up, or to stop, when the outside world misbehaves (issue 12
items 6 and 7), measured in one run against the sandbox and a local TLS server:

  drip      `inv verify` while production's /auth sends one byte every 5 s: wall time against the
            30 s deadline of a production check, and against what the per-read timeout alone
            would allow (the body's length × 5 s)
  ctrl-c    `inv recover --from push` while Vercel's PATCH hangs: SIGINT to exit, against the 2 s
            goal and against the retried read timeouts it replaced (4 × 20 s + backoff)
  tls       `inv verify` against a certificate the client does not trust: wall time, against the
            7.5 s of backoff that 4 retries used to add

    .venv/bin/python bench/faults.py
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
sys.path.insert(0, str(ROOT / "tests"))


def inv_env(sandbox) -> dict:
    from conftest import chromium_path

    return {"PATH": f"{BIN}:{os.environ.get('PATH', '/usr/bin:/bin')}", "HOME": os.environ.get("HOME", "/root"),
            "LANG": "C.UTF-8", "PLAYWRIGHT_CHROMIUM_EXECUTABLE_PATH": chromium_path(), **sandbox.env()}


def work_with_session(sandbox) -> Path:
    from mtn_runbook.core import session as sessions

    work = Path(tempfile.mkdtemp(prefix="bench-faults-"))
    minted = sessions.Session.from_dict(sandbox.mtn.mint_session(), "minted").extended(24)
    sessions.save(work / ".cache" / "mtn-session.json", minted)
    return work


def drip(sandbox) -> None:
    body = len(httpx.get(f"{sandbox.urls['app']}/api/mtn-wholesale/auth", timeout=10).content)
    sandbox.faults.add(service="app", method="GET", path="/api/mtn-wholesale/auth", drip=5, count=-1)
    work = work_with_session(sandbox)
    start = time.monotonic()
    subprocess.run([str(BIN / "inv"), "--search-root", str(ROOT), "verify"], cwd=work, env=inv_env(sandbox),
                   capture_output=True, timeout=300)
    wall = time.monotonic() - start
    sandbox.faults.clear()
    unbounded = body * 5.0
    print(f"drip:   verify ended after {wall:.1f} s = {wall / 30:.2f} × the 30 s deadline; "
          f"{wall / unbounded:.3f} × the {unbounded:.0f} s a per-read timeout alone allows ({body} bytes × 5 s)")


def ctrl_c(sandbox) -> None:
    sandbox.faults.add(service="vercel", method="PATCH", path="/v9/projects/.*/env/.*", delay=120, count=-1)
    work = work_with_session(sandbox)
    proc = subprocess.Popen([str(BIN / "inv"), "--search-root", str(ROOT), "recover", "--from", "push"], cwd=work,
                            env=inv_env(sandbox), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    for _ in range(600):
        if any(r["method"] == "PATCH" for r in sandbox.history.requests("vercel")):
            break
        time.sleep(0.05)
    time.sleep(0.5)
    start = time.monotonic()
    proc.send_signal(signal.SIGINT)
    proc.communicate(timeout=200)
    latency = time.monotonic() - start
    sandbox.faults.clear()
    replaced = 4 * 20 + 0.5 + 1 + 2 + 4
    print(f"ctrl-c: exit {proc.returncode} {latency:.2f} s after SIGINT = {latency / 2:.2f} × the 2 s goal; "
          f"{latency / replaced:.3f} × the {replaced:.1f} s of retried read timeouts it replaced")


def tls(sandbox) -> None:
    from tls_server import untrusted_tls_server

    work = work_with_session(sandbox)
    with untrusted_tls_server() as (url, _):
        env = {**inv_env(sandbox), "PRODUCTION_URL": url}
        start = time.monotonic()
        subprocess.run([str(BIN / "inv"), "--search-root", str(ROOT), "verify"], cwd=work, env=env,
                       capture_output=True, timeout=120)
        wall = time.monotonic() - start
    print(f"tls:    verify failed after {wall:.2f} s (both checks); the retries it no longer makes waited 7.5 s "
          f"per check ({wall / 15:.3f} × 15 s)")


def main() -> None:
    from mtn_runbook.sandbox import Sandbox

    with Sandbox(captcha_delay=0.3, deploy_seconds=0.4) as sandbox:
        drip(sandbox)
        ctrl_c(sandbox)
        tls(sandbox)


if __name__ == "__main__":
    main()

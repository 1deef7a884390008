"""Issue 12 item 8: two operators recovering at once, from two checkouts (two machines).

Operator A runs `inv recover` as a subprocess; while A is between its start and its push (MTN
answers A's validations slowly), operator B's push lands at Vercel. A must refuse to push (exit 5,
one line naming the target) rather than leave Vercel and the GitHub secret on different sessions,
and a recap must say what each target holds, read back, not what was sent.
"""

from __future__ import annotations

import json
import os
import subprocess
import time

import pytest

from mtn_runbook.core import session as sessions
from mtn_runbook.core.session import Session

from conftest import BIN, ROOT, chromium_path, pushed_value
from mtn_runbook.core.pushed import for_push
from mtn_runbook.core.session import fingerprint


def start_recover(sandbox, workdir, *args) -> subprocess.Popen:
    return start_inv(sandbox, workdir, "recover", *args)


def start_inv(sandbox, workdir, *args) -> subprocess.Popen:
    env = {"PATH": f"{BIN}:{os.environ.get('PATH', '/usr/bin:/bin')}", "HOME": os.environ.get("HOME", "/root"),
           "LANG": "C.UTF-8", "PYTHONUNBUFFERED": "1", "PLAYWRIGHT_CHROMIUM_EXECUTABLE_PATH": chromium_path(),
           **sandbox.env()}
    return subprocess.Popen([str(BIN / "inv"), "--search-root", str(ROOT), *args], cwd=workdir, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def wait_for(predicate, what: str) -> None:
    for _ in range(400):   # bounded: 20 s
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError(f"never happened: {what}")


def live(sandbox) -> Session:
    """A live session as a push leaves it in the session file: its gate noted (core/pushed.py)."""
    minted = Session.from_dict(sandbox.mtn.mint_session(), "minted").extended(24)
    return for_push(minted, sandbox.urls["mtn_api"], 48, renew=True).session


def ours(sandbox, session: Session) -> str:
    """The fingerprint of what this run pushes for `session`: what the targets hold."""
    return fingerprint(pushed_value(sandbox, session))


@pytest.mark.parametrize("task", ["recover", "push"])   # `inv push` runs recover's validate-new and push steps
def test_a_target_changed_by_another_operator_is_not_overwritten(sandbox, workdir, task):
    mine, theirs = live(sandbox), live(sandbox)
    sessions.save(workdir / ".cache" / "mtn-session.json", mine)
    github_before = sandbox.github.secret_value("MTN_SESSION")
    sandbox.faults.add(service="mtn_api", method="GET", path="/api/v1/feasibility/.*", delay=1.5, count=-1)
    proc = start_inv(sandbox, workdir, task)
    try:
        # A has noted what the targets hold (its first look, alongside its validation) and is
        # validating: B's push lands now
        wait_for(lambda: sandbox.history.requests("mtn_api"), "A's first validation")
        wait_for(lambda: any("/env/" in r["path"] and r.get("seconds") is not None
                             for r in sandbox.history.requests("vercel")), "A's first look at Vercel")
        sandbox.vercel.set_env("MTN_SESSION", theirs.encode(), target=("production", "preview"))
        out, err = proc.communicate(timeout=90)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 5, out + err                 # old: pushed over B, exit 0 (`inv push`: until issue 21)
    last = err.strip().splitlines()[-1]
    assert last.startswith("✘ not pushing: vercel prj_sandbox (production) was changed at ")
    assert f"(now holds {theirs.fingerprint}) since this run started" in last
    assert sandbox.vercel.env_value("MTN_SESSION") == theirs.encode()      # B's session stays
    assert sandbox.github.secret_value("MTN_SESSION") == github_before     # A pushed nowhere
    assert mine.encode() not in out + err and theirs.encode() not in out + err


def test_the_recap_reports_what_each_target_holds_read_back(sandbox, workdir):
    mine, theirs = live(sandbox), live(sandbox)
    sessions.save(workdir / ".cache" / "mtn-session.json", mine)
    # A's read-back of Vercel is slow to be answered: B's push lands after A's PATCH, before the
    # read-back the recap reports (the push reads each target once after writing it)
    sandbox.faults.add(service="vercel", method="GET", path="/v1/projects/.*/env/.*", delay=1.5, count=-1)
    proc = start_recover(sandbox, workdir, "--json")
    try:
        wait_for(lambda: sandbox.vercel.env_value("MTN_SESSION") == pushed_value(sandbox, mine), "A's push")
        sandbox.vercel.set_env("MTN_SESSION", theirs.encode(), target=("production", "preview"))
        out, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
    recap = json.loads(out)
    holds = {t["target"]: t["holds"] for t in recap["targets"]}
    # old: both said A's fingerprint, whatever they held
    assert holds["vercel prj_sandbox (production)"] == f"{theirs.fingerprint} (NOT this run's {ours(sandbox, mine)})"
    github = next(v for k, v in holds.items() if k.startswith("github"))
    assert github == ours(sandbox, mine)  # not readable, but unchanged since A's own push
    # A's read-back saw another value: its push failed there, and production was not redeployed over B
    assert proc.returncode == 1, out + err
    assert "reads back a different value" in err
    assert not any(r["method"] == "POST" and r["path"] == "/v13/deployments" for r in sandbox.history.requests("vercel"))

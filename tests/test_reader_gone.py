"""`inv status | head -1`: the reader of the output leaves early. The task must go on to its own
exit code (and a push must still happen), not end in "internal error: BrokenPipeError", exit 1."""

from __future__ import annotations

import os
import subprocess

from conftest import BIN, chromium_path, pushed_value
from mtn_runbook.core.session import Session, load, save


def run_unread(sandbox, workdir, tasks_root, home, *args: str) -> subprocess.CompletedProcess:
    """`inv ARGS` with a stdout whose reader has already gone (every write: EPIPE)."""
    read_end, write_end = os.pipe()
    os.close(read_end)
    env = {"PATH": f"{BIN}:{os.environ.get('PATH', '/usr/bin:/bin')}", "HOME": str(home), "LANG": "C.UTF-8",
           "PLAYWRIGHT_CHROMIUM_EXECUTABLE_PATH": chromium_path(), **sandbox.env()}
    try:
        return subprocess.run([str(BIN / "inv"), "--search-root", str(tasks_root), *args], cwd=workdir, env=env,
                              stdout=write_end, stderr=subprocess.PIPE, text=True, timeout=120)
    finally:
        os.close(write_end)


def saved_session(sandbox, workdir) -> Session:
    session = Session.from_dict(sandbox.mtn.mint_session(), "sandbox")
    save(workdir / ".cache" / "mtn-session.json", session)
    return session


def test_status_keeps_its_verdict_when_the_reader_leaves(inv, sandbox, workdir, tasks_root, home):
    saved_session(sandbox, workdir)
    sandbox.mtn.expire()
    assert inv("validate").code == 3
    r = run_unread(sandbox, workdir, tasks_root, home, "status")
    assert r.returncode == 3, r.stderr          # ✘ the last validation saw it expired
    assert "internal error" not in r.stderr and "Traceback" not in r.stderr, r.stderr


def test_a_push_is_not_cut_short_by_its_pipe(inv, sandbox, workdir, tasks_root, home):
    saved_session(sandbox, workdir)
    r = run_unread(sandbox, workdir, tasks_root, home, "push.vercel")
    assert r.returncode == 0, r.stderr
    noted = load(workdir / ".cache" / "mtn-session.json")[0]   # with the gate the push noted
    assert sandbox.vercel.env_value("MTN_SESSION") == pushed_value(sandbox, noted)
    assert "BrokenPipeError" not in r.stderr, r.stderr

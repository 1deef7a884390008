"""Issue 12 item 8 for SSH targets: another operator's push to an env file, between this run's
start and its push, is seen (the file's MTN_SESSION fingerprint changed) and not overwritten.
A real sshd on loopback (tests/sshd.py)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import yaml

from mtn_runbook.core import session as sessions

from conftest import BIN, chromium_path, pushed_value
from sshd import sshd  # noqa: F401  (fixture)
from test_two_operators import live, wait_for


def first_connection_ended(log: Path) -> bool:
    """sshd logged the end of the first logged-in connection (a close, or the client's reset)."""
    import re

    text = log.read_text(errors="replace") if log.exists() else ""
    ports = re.findall(r"Accepted publickey for \S+ from \S+ port (\d+)", text)
    return bool(ports) and re.search(
        rf"(Close session: .* port {ports[0]} |Read error from remote host \S+ port {ports[0]}:"
        rf"|Connection closed by \S+ port {ports[0]}\b|Disconnected from .* port {ports[0]}\b)", text) is not None


def test_an_env_file_changed_by_another_operator_is_not_overwritten(sandbox, workdir, sshd, tmp_path, tasks_root):
    env_file = tmp_path / "app.env"
    mine, theirs = live(sandbox), live(sandbox)
    env_file.write_text("APP=1\nMTN_SESSION=old-dead-value\n")
    env_file.chmod(0o600)
    config = workdir / "targets.yaml"
    config.write_text(yaml.safe_dump({"targets": [{**sshd.target(env_file), "name": "app1"}]}))
    sessions.save(workdir / ".cache" / "mtn-session.json", mine)
    sandbox.faults.add(service="mtn_api", method="GET", path="/api/v1/feasibility/.*", delay=1.5, count=-1)
    env = {"PATH": f"{BIN}:{os.environ.get('PATH', '/usr/bin:/bin')}", "HOME": str(tmp_path / "home"),
           "LANG": "C.UTF-8", "PYTHONUNBUFFERED": "1", "PLAYWRIGHT_CHROMIUM_EXECUTABLE_PATH": chromium_path(),
           **sandbox.env()}
    proc = subprocess.Popen([str(BIN / "inv"), "--search-root", str(tasks_root), "-f", str(config), "recover"],
                            cwd=workdir, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        wait_for(lambda: sandbox.history.requests("mtn_api"), "the run's first validation")
        # the run's first look (alongside the validation) has read the file and closed its connection
        wait_for(lambda: first_connection_ended(sshd.log), "the run's first look")
        theirs_value = pushed_value(sandbox, theirs)
        env_file.write_text(f"APP=1\nMTN_SESSION={theirs_value}\n")   # B's push lands now
        out, err = proc.communicate(timeout=90)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 5, out + err                  # old: SSH was never compared; pushed over B
    last = err.strip().splitlines()[-1]
    assert last.startswith("✘ not pushing: app1 was changed"), last
    assert env_file.read_text() == f"APP=1\nMTN_SESSION={theirs_value}\n"   # B's session stays
    assert theirs_value not in out + err and mine.encode() not in out + err

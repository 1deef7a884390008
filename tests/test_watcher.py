"""`inv watch.install/status/remove` over SSH against the real sshd the tests start.

systemd cannot run in this container: the install must say that the user's systemd is not
available (exit 1), with the runbook installed in its venv and the unit files written and
checked by `systemd-analyze verify` (skipped, saying why, where the host has none). pip installs
the runbook from the uploaded source with `--no-deps` here: its dependencies would come from the
host's package index, which the test does not download again.
"""

from __future__ import annotations

import shutil
import stat
from pathlib import Path

from mtn_runbook.core.journal import Journal
from mtn_runbook.health.watcher_units import units
from sshd import sshd  # noqa: F401  (the fixture)


def args(sshd, tmp_path: Path) -> list[str]:
    return [f"{sshd.user}@{sshd.host}:{sshd.port}", "--key-filename", str(sshd.key_filename),
            "--known-hosts", str(sshd.known_hosts), "--folder", str(tmp_path / "watcher"),
            "--unit-dir", str(tmp_path / "units")]


def test_install_status_remove_over_ssh(inv, sandbox, workdir, sshd, tmp_path):
    folder, unit_dir = tmp_path / "watcher", tmp_path / "units"
    env_file = workdir / "watcher.env"
    env_file.write_text(f"MTN_API_KEY={sandbox.options.mtn_api_key}\nGITHUB_TOKEN={sandbox.options.github_token}\n")

    r = inv("watch.install", *args(sshd, tmp_path), "--every", "7", "--env-file", str(env_file),
            "--pip-args", "--no-deps", timeout=300)
    assert r.code == 1, r.output                                   # nothing runs: no user systemd here
    assert f"✔ runbook installed in {folder}/venv" in r.output
    assert (folder / "venv" / "bin" / "mtn-runbook").exists()
    assert "✔ units written to" in r.output
    assert "systemd --user is not available on 127.0.0.1" in r.output and "loginctl enable-linger" in r.output
    if shutil.which("systemd-analyze"):
        assert "✔ systemd-analyze verify: the units are valid" in r.output
    else:
        assert "unit files not verified" in r.output
    service = (unit_dir / "mtn-runbook-keepalive.service").read_text()
    assert f"ExecStart={folder}/venv/bin/mtn-runbook keepalive --count 1 --every 7" in service
    assert f"WorkingDirectory={folder}" in service
    timer = (unit_dir / "mtn-runbook-keepalive.timer").read_text()
    assert "OnUnitActiveSec=420s" in timer and "RandomizedDelaySec=42s" in timer
    assert "OnCalendar=*:0/15" in (unit_dir / "mtn-runbook-monitor.timer").read_text()
    assert f"ExecStart={folder}/venv/bin/mtn-runbook monitor" in (unit_dir / "mtn-runbook-monitor.service").read_text()
    copied = folder / ".env"
    assert copied.read_text() == env_file.read_text() and stat.S_IMODE(copied.stat().st_mode) == 0o600

    doctor = inv("doctor", "--no-browser")
    assert "watcher" in doctor.output and "keepalive every 7 min and monitor every 15 min" in doctor.output
    assert "GitHub's scheduled workflow stays the backstop" in doctor.output

    # the host's journal: what the status shows as the last ping
    Journal(folder / ".cache" / "journal.jsonl").write("keepalive", event="ping", verdict="valid", apiStatus=200,
                                                      fingerprint="abcdef123456", every=7.0, ping=1)
    s = inv("watch.status", *args(sshd, tmp_path))
    assert s.code == 1, s.output
    assert "✔ runbook: mtn-runbook 0.1.0 in" in s.output
    assert "✔ units in" in s.output and "4 of 4" in s.output
    assert "systemd --user is not available" in s.output
    assert "last keepalive ping:" in s.output and "valid (every 7.0 min, session abcdef123456)" in s.output

    gone = inv("watch.remove", *args(sshd, tmp_path))
    assert gone.code == 0, gone.output
    assert "✔ units removed" in gone.output and f"✔ {folder} removed" in gone.output
    assert not folder.exists() and not any(unit_dir.iterdir())
    assert "none installed from here" in inv("doctor", "--no-browser").output

    after = inv("watch.status", *args(sshd, tmp_path))
    assert after.code == 1 and "✘ runbook: not installed" in after.output and "0 of 4" in after.output


def test_an_unknown_host_key_sends_nothing(inv, sandbox, sshd, tmp_path):
    empty = tmp_path / "known_hosts"
    empty.write_text("")
    r = inv("watch.install", f"{sshd.user}@{sshd.host}:{sshd.port}", "--key-filename", str(sshd.key_filename),
            "--known-hosts", str(empty), "--folder", str(tmp_path / "w"), "--unit-dir", str(tmp_path / "u"))
    assert r.code == 2 and "unknown host key" in r.output and sshd.fingerprint() in r.output
    assert not (tmp_path / "w").exists()


def test_a_missing_env_file_is_refused_before_connecting(inv, sandbox, sshd, tmp_path):
    """--env-file with a typo: one line, exit 2, and nothing on the host (it used to upload the
    source and pip install first, then fail)."""
    r = inv("watch.install", *args(sshd, tmp_path), "--env-file", str(tmp_path / "watcher.env"))
    assert r.code == 2 and "--env-file" in r.output and len(r.output.strip().splitlines()) == 1, r.output
    assert not (tmp_path / "watcher").exists() and not (tmp_path / "units").exists()


def test_bad_host_and_interval_are_one_line_exit_2(inv, sandbox):
    assert inv("watch.install", "me@host:notaport").code == 2
    r = inv("watch.install", "me@host", "--every", "0")
    assert r.code == 2 and "--every" in r.output and len(r.output.strip().splitlines()) == 1


def test_the_unit_files_pass_systemd_analyze(tmp_path):
    import subprocess

    import pytest

    if not shutil.which("systemd-analyze"):
        pytest.skip("systemd-analyze not installed (package systemd): the units cannot be verified here")
    folder = tmp_path / "w"
    (folder / "venv" / "bin").mkdir(parents=True)
    binary = folder / "venv" / "bin" / "mtn-runbook"
    binary.write_text("#!/bin/sh\n")
    binary.chmod(0o755)
    for name, text in units(str(folder), 10).items():
        (tmp_path / name).write_text(text)
    runtime = tmp_path / "run"
    runtime.mkdir(mode=0o700)
    names = [str(tmp_path / n) for n in units(str(folder), 10)]
    ok = subprocess.run(["systemd-analyze", "--user", "verify", *names], capture_output=True, text=True,
                        env={"XDG_RUNTIME_DIR": str(runtime), "PATH": "/usr/bin:/bin"})
    assert ok.returncode == 0, ok.stdout + ok.stderr
    (tmp_path / "mtn-runbook-monitor.timer").write_text(units(str(folder), 10)["mtn-runbook-monitor.timer"]
                                                          .replace("*:0/15", "every quarter"))
    bad = subprocess.run(["systemd-analyze", "--user", "verify", *names], capture_output=True, text=True,
                         env={"XDG_RUNTIME_DIR": str(runtime), "PATH": "/usr/bin:/bin"})
    assert bad.returncode != 0   # the check does catch a broken unit

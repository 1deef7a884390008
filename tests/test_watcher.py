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
from mtn_runbook.watch.watcher_units import units
from sshd import sshd  # noqa: F401  (the fixture)


def connection(sshd) -> list[str]:
    return [f"{sshd.user}@{sshd.host}:{sshd.port}", "--key-filename", str(sshd.key_filename),
            "--known-hosts", str(sshd.known_hosts)]


def args(sshd, tmp_path: Path) -> list[str]:
    return [*connection(sshd), "--folder", str(tmp_path / "watcher"), "--unit-dir", str(tmp_path / "units")]


def accepted(sshd) -> int:
    """Connections so far, once the fixture's own readiness probe is in the log (it can land late)."""
    import time

    deadline = time.monotonic() + 5
    while sshd.connections() < 1 and time.monotonic() < deadline:
        time.sleep(0.05)
    return sshd.connections()


def fake_install(sshd, workdir: Path, tmp_path: Path) -> tuple[Path, Path]:
    """What watch.install leaves on the host (a venv whose pip knows mtn-runbook, the four units)
    and in the local journal, without the minute-long pip install."""
    folder, unit_dir = tmp_path / "watcher", tmp_path / "units"
    (folder / "venv" / "bin").mkdir(parents=True)
    pip = folder / "venv" / "bin" / "pip"
    pip.write_text("#!/bin/sh\necho 'Name: mtn-runbook'; echo 'Version: 0.1.0'\n")
    pip.chmod(0o755)
    unit_dir.mkdir()
    for name, text in units(str(folder), 10).items():
        (unit_dir / name).write_text(text)
    Journal(workdir / ".cache" / "journal.jsonl").write(
        "watcher", event="installed", host=f"{sshd.user}@{sshd.host}:{sshd.port}", every=10.0, folder=str(folder),
        unit_dir=str(unit_dir), running=False)
    return folder, unit_dir


def test_install_status_remove_over_ssh(inv, sandbox, workdir, sshd, tmp_path):
    folder, unit_dir = tmp_path / "watcher", tmp_path / "units"
    env_file = workdir / "watcher.env"
    env_file.write_text(f"MTN_API_KEY={sandbox.options.mtn_api_key}\nGITHUB_TOKEN={sandbox.options.github_token}\n")

    r = inv("watch.install", *args(sshd, tmp_path), "--every", "7", "--env-file", str(env_file),
            "--pip-args", "--no-deps", timeout=300)
    assert r.code == 1, r.output                                   # nothing runs: no user systemd here
    failed = [line for line in r.output.splitlines() if line.startswith("✘")]
    assert failed and "not running" in failed[-1] and "timers were not started" in failed[-1], r.output  # item 17
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

    # where the install put it, without --folder/--unit-dir: as doctor knows it (item 16)
    found = inv("watch.status", *connection(sshd))
    assert "✔ runbook: mtn-runbook 0.1.0 in" in found.output and "4 of 4" in found.output, found.output

    gone = inv("watch.remove", *connection(sshd))
    assert gone.code == 0, gone.output
    assert "✔ units removed" in gone.output and f"✔ {folder} removed" in gone.output
    assert "enable --now" not in gone.output                        # item 12: no advice to start what goes
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
    flag = inv("watch.status", "-x")   # a mistyped flag in HOST's place is not a host to connect to
    assert flag.code == 2 and "cannot connect" not in flag.output and "--help watch." in flag.output, flag.output
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


def test_remove_where_systemd_is_not_running_and_again_when_nothing_is_left(inv, sandbox, workdir, sshd, tmp_path):
    """Item 12: without the user's systemd, remove says there is nothing to stop (it used to say
    `systemctl --user enable --now` the timers it was removing); a second remove finds nothing and
    says so, instead of `✔ units removed`."""
    folder, unit_dir = fake_install(sshd, workdir, tmp_path)

    first = inv("watch.remove", *args(sshd, tmp_path))
    assert first.code == 0, first.output
    assert "enable --now" not in first.output and "enable-linger" not in first.output, first.output
    assert "nothing to stop" in first.output
    assert "✔ units removed" in first.output and not folder.exists() and not any(unit_dir.iterdir())

    second = inv("watch.remove", *args(sshd, tmp_path))
    assert second.code == 0, second.output
    assert "✔ units removed" not in second.output and f"✔ {folder} removed" not in second.output, second.output
    assert "✔ watcher removed" not in second.output
    assert "nothing to remove" in second.output.splitlines()[-1]


def test_a_missing_known_hosts_names_the_flag_not_invoke_yaml(inv, sandbox, sshd, tmp_path):
    """Item 13: watch takes --known-hosts, not invoke.yaml's known_hosts."""
    missing = tmp_path / "nowhere" / "known_hosts"
    before = accepted(sshd)
    r = inv("watch.status", f"{sshd.user}@{sshd.host}:{sshd.port}", "--key-filename", str(sshd.key_filename),
            "--known-hosts", str(missing))
    assert r.code == 2, r.output
    line = r.output.strip()
    assert len(line.splitlines()) == 1 and "invoke.yaml" not in line
    assert f"--known-hosts {missing}" in line and "not a file" in line
    assert sshd.connections() == before


def test_an_unknown_host_key_offers_only_what_watch_takes(inv, sandbox, sshd, tmp_path):
    """Item 14: watch has no `trust: first-use`; the hint says how to add the key, and that only
    known_hosts keys are trusted."""
    empty = tmp_path / "known_hosts"
    empty.write_text("")
    r = inv("watch.status", f"{sshd.user}@{sshd.host}:{sshd.port}", "--key-filename", str(sshd.key_filename),
            "--known-hosts", str(empty))
    assert r.code == 2 and "unknown host key" in r.output, r.output
    assert "trust: first-use" not in r.output, r.output
    assert f"ssh-keyscan -p {sshd.port} {sshd.host} >> {empty}" in r.output and "--known-hosts" in r.output


def test_a_missing_key_file_is_named_exit_2(inv, sandbox, sshd, tmp_path):
    """Item 15: it was exit 1 with no file named."""
    missing = tmp_path / "id_nothing"
    before = accepted(sshd)
    for task in ("watch.install", "watch.status", "watch.remove"):
        r = inv(task, f"{sshd.user}@{sshd.host}:{sshd.port}", "--key-filename", str(missing),
                "--known-hosts", str(sshd.known_hosts))
        assert r.code == 2, (task, r.output)
        assert str(missing) in r.output and len(r.output.strip().splitlines()) == 1, (task, r.output)
    assert sshd.connections() == before


def test_status_finds_the_install_where_doctor_knows_it_is(inv, sandbox, workdir, sshd, tmp_path):
    """Item 16: without --folder, watch.status looked only at the default folder and said
    "not installed" for a watcher installed elsewhere, which doctor reported."""
    folder, unit_dir = fake_install(sshd, workdir, tmp_path)
    doctor = inv("doctor", "--no-browser")
    assert f"{sshd.host}:{sshd.port}" in doctor.output and "keepalive every 10 min" in doctor.output

    r = inv("watch.status", *connection(sshd))
    assert f"✔ runbook: mtn-runbook 0.1.0 in {folder}/venv" in r.output, r.output
    assert f"✔ units in {unit_dir}: 4 of 4" in r.output
    # the same host written without its user is the same watcher
    bare = inv("watch.status", f"{sshd.host}:{sshd.port}", "--key-filename", str(sshd.key_filename),
               "--known-hosts", str(sshd.known_hosts))
    assert f"in {folder}/venv" in bare.output, bare.output


def test_not_running_always_ends_in_a_line_that_says_what_failed(inv, sandbox, workdir, sshd, tmp_path):
    """Item 17: exit 1 with only ✔ and ⚠ lines left the reader to guess what failed."""
    fake_install(sshd, workdir, tmp_path)
    r = inv("watch.status", *args(sshd, tmp_path))
    assert r.code == 1, r.output
    last = r.output.strip().splitlines()[-1]
    assert last.startswith("✘") and "not running" in last and "systemd" in last, r.output


def test_check_mode_opens_no_connection(inv, sandbox, workdir, sshd, tmp_path):
    """Item 8: install and remove change a host, so they take --check; status only reads."""
    folder, unit_dir = fake_install(sshd, workdir, tmp_path)
    before = accepted(sshd)
    install = inv("watch.install", *connection(sshd), "--folder", str(tmp_path / "other"), "-c")
    assert install.code == 0 and "would install" in install.output and str(tmp_path / "other") in install.output
    remove = inv("watch.remove", *connection(sshd), "--check")
    assert remove.code == 0 and "would stop" in remove.output and str(folder) in remove.output, remove.output
    status = inv("watch.status", *connection(sshd), "--check")
    assert status.code == 0 and "changes nothing" in status.output
    assert sshd.connections() == before and folder.exists() and not (tmp_path / "other").exists()
    assert len(list(unit_dir.iterdir())) == 4


def test_a_remote_env_that_is_a_symlink_is_refused(inv, sandbox, workdir, sshd, tmp_path):
    """Issue 20, item 11: `.env` on the host as a link to another app's settings got the secrets
    written into that file (mode 0644 → 0600). Now: refused, naming the link, before any work."""
    folder = tmp_path / "watcher"
    folder.mkdir()
    other = tmp_path / "other-app.env"
    other.write_text("OTHER_APP=1\n")
    other.chmod(0o644)
    (folder / ".env").symlink_to(other)
    env_file = workdir / "watcher.env"
    env_file.write_text(f"GITHUB_TOKEN={sandbox.options.github_token}\n")
    r = inv("watch.install", *args(sshd, tmp_path), "--env-file", str(env_file), "--pip-args", "--no-deps")
    assert r.code == 2, r.output
    assert f"{folder}/.env is a symbolic link (to {other})" in r.output and len(r.output.strip().splitlines()) == 1
    assert other.read_text() == "OTHER_APP=1\n" and stat.S_IMODE(other.stat().st_mode) == 0o644
    assert not (folder / "venv").exists()                       # refused before the source went up


def test_units_refused_by_systemd_analyze_leave_no_secret(inv, sandbox, workdir, sshd, tmp_path):
    """Issue 20, item 11: `.env` was uploaded before `systemd-analyze verify`, so a refused unit
    left the secrets on the host. Here pip installs elsewhere (`--target`), the units name a
    program that is not there, verify refuses them, and no `.env` was ever written."""
    import pytest

    if not shutil.which("systemd-analyze"):
        pytest.skip("systemd-analyze not installed (package systemd)")
    folder = tmp_path / "watcher"
    env_file = workdir / "watcher.env"
    env_file.write_text(f"GITHUB_TOKEN={sandbox.options.github_token}\n")
    r = inv("watch.install", *args(sshd, tmp_path), "--env-file", str(env_file),
            "--pip-args", f"--no-deps --target {tmp_path / 'elsewhere'}", timeout=300)
    assert r.code == 1 and "systemd-analyze verify refused the units" in r.output, r.output
    assert [p.name for p in folder.iterdir() if ".env" in p.name] == []   # nor a half-written new one

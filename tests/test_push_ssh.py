"""push.ssh against a real sshd on loopback: only the MTN_SESSION line changes, mode/owner/group
kept, restart ran, `--check` opens no connection."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
import yaml

from mtn_runbook.core.pushed import for_push
from mtn_runbook.core.session import Session, save
from mtn_runbook.targets.ssh import EnvFile
from sshd import sshd  # noqa: F401  (the fixture)

BEFORE = (b"# app settings\n"
          b"DATABASE_URL=postgres://app@db/app\r\n"
          b"MTN_SESSION=old-dead-value\n"
          b"export GREETING='hello  world'   \n"
          b"\n"
          b"LAST_LINE=no-newline-at-end")


def live_session(sandbox, workdir: Path) -> Session:
    """A live session saved to the session file; returns the value a push sends for it: the
    API host's cookies, expiresAt = the app's gate (core/pushed.py)."""
    pushed = for_push(Session.from_dict(sandbox.mtn.mint_session(), "sandbox"), sandbox.urls["mtn_api"], 48)
    save(workdir / ".cache" / "mtn-session.json", pushed.session)
    return pushed.app


def write_config(workdir: Path, *targets: dict) -> str:
    path = workdir / "invoke.yaml"
    path.write_text(yaml.safe_dump({"targets": list(targets)}))
    return str(path)


@pytest.fixture
def host(tmp_path: Path):
    """The 'remote' side: an env file (0644, as a careless copy would leave it) and a restart marker."""
    srv = tmp_path / "srv"
    srv.mkdir()
    env_file = srv / "app.env"
    env_file.write_bytes(BEFORE)
    env_file.chmod(0o644)
    return srv, env_file, srv / "restarted"


def restart_command(env_file: Path, marker: Path) -> str:
    # records that it ran, and that by then the file already held the new value
    return f"grep -c '^MTN_SESSION=' {env_file} >> {marker}"


def test_push_ssh_replaces_only_the_line_atomically_and_restarts(inv, sandbox, workdir, sshd, host):
    srv, env_file, marker = host
    session = live_session(sandbox, workdir)
    config = write_config(workdir, sshd.target(env_file, restart=restart_command(env_file, marker)))

    result = inv("-f", config, "push.ssh")

    assert result.code == 0, result.output
    value = session.encode()
    assert env_file.read_bytes() == BEFORE.replace(b"MTN_SESSION=old-dead-value", b"MTN_SESSION=" + value.encode())
    assert stat.S_IMODE(env_file.stat().st_mode) == 0o644  # kept, with a warning
    assert f"others can read it: `chmod o-r {env_file}`" in result.output
    assert marker.read_text() == "1\n"
    assert sorted(p.name for p in srv.iterdir()) == ["app.env", "restarted"]  # no temp file left behind
    assert "✔ ssh" in result.output and "ran `grep" in result.output

    again = inv("-f", config, "push.ssh")
    assert again.code == 0, again.output
    assert "already holds it" in again.output
    assert marker.read_text() == "1\n"  # nothing changed, so no second restart


def test_push_ssh_check_opens_no_connection(inv, sandbox, workdir, sshd, host):
    _, env_file, marker = host
    live_session(sandbox, workdir)
    config = write_config(workdir, sshd.target(env_file, restart=restart_command(env_file, marker)))
    before = sshd.connections()

    result = inv("-f", config, "push.ssh", "--check")

    assert result.code == 0, result.output
    assert "would replace the MTN_SESSION line" in result.output
    assert env_file.read_bytes() == BEFORE and stat.S_IMODE(env_file.stat().st_mode) == 0o644
    assert not marker.exists()
    assert sshd.connections() == before
    assert inv("-f", config, "push.ssh").code == 0
    assert sshd.connections() > before  # the log does count connections


def test_push_ssh_appends_when_the_line_is_missing(inv, sandbox, workdir, sshd, host):
    _, env_file, _ = host
    env_file.write_bytes(b"A=1\nB=2")
    session = live_session(sandbox, workdir)
    config = write_config(workdir, sshd.target(env_file))

    result = inv("-f", config, "push.ssh")

    assert result.code == 0, result.output
    assert env_file.read_bytes() == b"A=1\nB=2\nMTN_SESSION=" + session.encode().encode() + b"\n"
    assert "no restart configured" in result.output


def test_failed_restart_is_reported_and_finished_by_the_next_push(inv, sandbox, workdir, sshd, host):
    _, env_file, marker = host
    session = live_session(sandbox, workdir)
    failing = write_config(workdir, sshd.target(env_file, restart="echo 'compose: no such service' >&2; exit 3"))

    result = inv("-f", failing, "push.ssh")

    assert result.code == 1
    assert "exited 3: compose: no such service" in result.output
    assert f"ssh {sshd.user}@127.0.0.1:{env_file}" in result.output
    assert session.encode().encode() in env_file.read_bytes()  # the file is in place all the same

    fixed = write_config(workdir, sshd.target(env_file, restart=restart_command(env_file, marker)))
    again = inv("-f", fixed, "push.ssh")
    assert again.code == 0, again.output
    assert marker.read_text() == "1\n"  # it held the value, but the last push had failed: restarted
    assert "the last push, which had failed" in again.output
    # walked: "already holds it … (the last push had failed)", then "1 of 1 target(s) updated"
    assert "0 of 1 target(s) updated, 1 already held it" in again.output, again.output


def test_first_use_after_a_failed_restart_shows_the_recorded_key_and_does_not_say_updated(
        inv, sandbox, workdir, sshd, host, home):
    _, env_file, marker = host
    session = live_session(sandbox, workdir)
    write_config(workdir, sshd.target(env_file, restart="exit 3"))
    assert inv("-f", str(workdir / "invoke.yaml"), "push.ssh").code == 1
    config = write_config(workdir, without_known_hosts(sshd, env_file, trust="first-use",
                                                       restart=restart_command(env_file, marker)))

    result = inv("-f", config, "push.ssh")

    assert result.code == 0, result.output
    assert f"recorded [127.0.0.1]:{sshd.port}'s key {sshd.fingerprint()}" in result.output   # the promised fingerprint
    assert "1 target(s) updated" not in result.output.replace("0 of 1 target(s) updated", "")
    assert marker.read_text() == "1\n" and session.encode().encode() in env_file.read_bytes()


def test_only_ssh_pattern_matches_named_ssh_targets(inv, sandbox, workdir, sshd, host):
    _, env_file, _ = host
    session = live_session(sandbox, workdir)
    config = write_config(workdir, {**sshd.target(env_file), "name": "app1"})

    result = inv("-f", config, "push", "--only", "ssh *")

    assert result.code == 0, result.output
    assert session.encode().encode() in env_file.read_bytes()


def test_push_check_does_not_say_an_ssh_target_holding_the_value_would_change(inv, sandbox, workdir, sshd, host):
    _, env_file, _ = host
    live_session(sandbox, workdir)
    config = write_config(workdir, sshd.target(env_file))
    assert inv("-f", config, "push.ssh").code == 0
    before = sshd.connections()

    checked = inv("-f", config, "push.ssh", "--check")

    assert checked.code == 0, checked.output
    assert "0 of 1 target(s) would change" in checked.output and "would replace" not in checked.output
    assert sshd.connections() == before     # still no connection in --check


def test_wrong_key_is_a_configuration_error(inv, sandbox, workdir, sshd, host, tmp_path):
    _, env_file, _ = host
    live_session(sandbox, workdir)
    other = tmp_path / "other_key"
    import subprocess

    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(other)], check=True)
    config = write_config(workdir, {**sshd.target(env_file), "key_filename": str(other)})

    result = inv("-f", config, "push.ssh")

    assert result.code == 2, result.output
    assert "authentication" in result.output and "key_filename" in result.output
    assert env_file.read_bytes() == BEFORE


def test_configured_empty_known_hosts_refuses_the_key(inv, sandbox, workdir, sshd, host, tmp_path):
    _, env_file, _ = host
    live_session(sandbox, workdir)
    empty = tmp_path / "known_hosts"
    empty.write_text("")
    config = write_config(workdir, {**sshd.target(env_file), "known_hosts": str(empty)})
    before = sshd.connections()

    result = inv("-f", config, "push.ssh")

    assert result.code == 2, result.output
    assert f"unknown host key for [127.0.0.1]:{sshd.port}: ssh-ed25519 {sshd.fingerprint()} is not in {empty}" \
        in result.output
    assert "trust: first-use" in result.output
    assert env_file.read_bytes() == BEFORE and empty.read_text() == ""
    assert sshd.connections() == before + 1  # connected, saw the key, sent nothing


def other_key_line(tmp_path: Path, port: int) -> str:
    import subprocess

    other = tmp_path / "other_host_key"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(other)], check=True)
    kind, blob = (other.with_suffix(".pub")).read_text().split()[:2]
    return f"[127.0.0.1]:{port} {kind} {blob}\n"


def test_configured_other_key_is_refused_as_changed(inv, sandbox, workdir, sshd, host, tmp_path):
    _, env_file, marker = host
    live_session(sandbox, workdir)
    known = tmp_path / "known_hosts"
    recorded = other_key_line(tmp_path, sshd.port)
    known.write_text(recorded)
    config = write_config(workdir, {**sshd.target(env_file, restart=restart_command(env_file, marker)),
                                    "known_hosts": str(known), "trust": "first-use"})

    result = inv("-f", config, "push.ssh")

    assert result.code == 2, result.output
    assert f"host key for [127.0.0.1]:{sshd.port} CHANGED: it offered ssh-ed25519 {sshd.fingerprint()}" in result.output, result.output
    assert "man-in-the-middle" in result.output and "ssh-keygen -R" in result.output
    assert env_file.read_bytes() == BEFORE and not marker.exists()
    assert known.read_text() == recorded  # first-use never replaces a recorded key


def without_known_hosts(sshd, env_file: Path, **fields) -> dict:
    entry = sshd.target(env_file, **fields)
    del entry["known_hosts"]
    return entry


def test_default_is_the_users_known_hosts(inv, sandbox, workdir, sshd, host, home):
    _, env_file, _ = host
    session = live_session(sandbox, workdir)
    config = write_config(workdir, without_known_hosts(sshd, env_file))

    unknown = inv("-f", config, "push.ssh")  # no ~/.ssh/known_hosts at all: refused, not accepted

    assert unknown.code == 2, unknown.output
    assert f"unknown host key for [127.0.0.1]:{sshd.port}: ssh-ed25519 {sshd.fingerprint()}" in unknown.output
    assert f"{home}/.ssh/known_hosts" in unknown.output
    assert env_file.read_bytes() == BEFORE

    (home / ".ssh").mkdir()
    (home / ".ssh" / "known_hosts").write_text("github.com ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl\n"
                                               + sshd.known_hosts_line())
    known = inv("-f", config, "push.ssh")

    assert known.code == 0, known.output
    assert f"MTN_SESSION={session.encode()}\n".encode() in env_file.read_bytes()


def test_default_known_hosts_with_another_key_is_refused(inv, sandbox, workdir, sshd, host, home, tmp_path):
    _, env_file, _ = host
    live_session(sandbox, workdir)
    (home / ".ssh").mkdir()
    (home / ".ssh" / "known_hosts").write_text(other_key_line(tmp_path, sshd.port))

    result = inv("-f", write_config(workdir, without_known_hosts(sshd, env_file)), "push.ssh")

    assert result.code == 2, result.output
    assert f"CHANGED: it offered ssh-ed25519 {sshd.fingerprint()}" in result.output
    assert env_file.read_bytes() == BEFORE


def test_trust_first_use_records_the_key_then_holds_to_it(inv, sandbox, workdir, sshd, host, home):
    _, env_file, _ = host
    session = live_session(sandbox, workdir)
    config = write_config(workdir, without_known_hosts(sshd, env_file, trust="first-use"))

    result = inv("-f", config, "push.ssh")

    assert result.code == 0, result.output
    known = home / ".ssh" / "known_hosts"
    assert f"recorded [127.0.0.1]:{sshd.port}'s key {sshd.fingerprint()} in {known} (trust: first-use)" in result.output
    assert known.read_text() == sshd.known_hosts_line()
    assert stat.S_IMODE(known.stat().st_mode) == 0o600
    assert f"MTN_SESSION={session.encode()}\n".encode() in env_file.read_bytes()

    again = inv("-f", config, "push.ssh")  # the key is known now: nothing recorded twice
    assert again.code == 0, again.output
    assert "recorded" not in again.output and known.read_text() == sshd.known_hosts_line()


def test_missing_env_file_is_not_created(inv, sandbox, workdir, sshd, host):
    srv, _, _ = host
    live_session(sandbox, workdir)
    config = write_config(workdir, sshd.target(srv / "typo.env"))

    result = inv("-f", config, "push.ssh")

    assert result.code == 2, result.output
    assert "does not exist" in result.output
    assert not (srv / "typo.env").exists()


@pytest.mark.parametrize("entry, says", [
    ({"kind": "ssh", "host": "h"}, "targets[0] (ssh): missing field(s) env_file"),
    ({"kind": "ftp", "host": "h"}, "targets[0] (ftp): unknown kind 'ftp'"),
    ({"kind": "ssh", "host": "h", "env_file": "/x", "restrat": "x"}, "unknown field(s) restrat"),
    ({"kind": "vercel", "token": "x"}, "`token` does not belong in invoke.yaml"),
])
def test_bad_entries_exit_2_naming_the_entry(inv, sandbox, workdir, entry, says):
    live_session(sandbox, workdir)
    result = inv("-f", write_config(workdir, entry), "push")
    assert result.code == 2, result.output
    assert says in result.output


def test_env_file_edits_keep_every_other_byte():
    crlf = EnvFile(b"A=1\r\nexport MTN_SESSION=\"old\"\r\nMTN_SESSION_OLD=x\n# MTN_SESSION=comment\n", "MTN_SESSION")
    assert crlf.values() == ["old"]
    assert crlf.with_value("new") == (b"A=1\r\nexport MTN_SESSION=\"new\"\r\nMTN_SESSION_OLD=x\n"
                                      b"# MTN_SESSION=comment\n")
    twice = EnvFile(b"MTN_SESSION=a\nMTN_SESSION=b\n", "MTN_SESSION")
    assert twice.with_value("c") == b"MTN_SESSION=c\nMTN_SESSION=c\n"
    assert EnvFile(b"", "MTN_SESSION").with_value("v") == b"MTN_SESSION=v\n"


def test_push_to_every_kind_at_once(inv, sandbox, workdir, sshd, host):
    _, env_file, marker = host
    session = live_session(sandbox, workdir)
    config = write_config(workdir,
                          {"kind": "vercel", "environments": ["production"]},
                          {"kind": "github", "repository": "acme/mtn-app", "environments": ["production"]},
                          sshd.target(env_file, restart=restart_command(env_file, marker)))

    result = inv("-f", config, "push")

    assert result.code == 0, result.output
    value = session.encode()
    assert sandbox.vercel.env_value("MTN_SESSION") == value
    assert sandbox.github.secret_value("MTN_SESSION") == value
    assert sandbox.github.secret_value("MTN_SESSION", environment="production") == value
    assert f"MTN_SESSION={value}\n".encode() in env_file.read_bytes()
    assert "4 of 4 target(s) updated" in result.output


def test_nothing_configured_exits_2(inv, sandbox, workdir):
    live_session(sandbox, workdir)

    every = inv("push", env={"VERCEL_TOKEN": None, "GITHUB_TOKEN": None})
    ssh = inv("push.ssh")

    assert (every.code, ssh.code) == (2, 2)
    assert "no push targets configured" in every.output and "VERCEL_TOKEN" in every.output
    assert "no ssh push targets configured" in ssh.output
    assert "VERCEL_TOKEN" not in ssh.output and "invoke.yaml.example" in ssh.output  # no Vercel variable makes an SSH host


def test_symlinked_env_file_is_edited_at_its_real_path_keeping_mode_owner_and_group(inv, sandbox, workdir, sshd,
                                                                                     host):
    import os

    srv, _, _ = host
    (srv / "shared").mkdir()
    (srv / "releases" / "20260101").mkdir(parents=True)
    real = srv / "shared" / ".env"
    real.write_bytes(BEFORE)
    os.chown(real, 0, 1)  # the app reads it through its group (daemon here)
    real.chmod(0o640)
    link = srv / "releases" / "20260101" / ".env"
    link.symlink_to("../../shared/.env")
    session = live_session(sandbox, workdir)

    result = inv("-f", write_config(workdir, sshd.target(link)), "push.ssh")

    assert result.code == 0, result.output
    assert link.is_symlink() and os.readlink(link) == "../../shared/.env"  # still a link, same target
    assert real.read_bytes() == BEFORE.replace(b"old-dead-value", session.encode().encode())
    st = real.stat()
    assert (stat.S_IMODE(st.st_mode), st.st_uid, st.st_gid) == (0o640, 0, 1)
    assert f"file updated at its real path {real} (mode 0640, owner and group kept)" in result.output
    assert "others can read it" not in result.output
    assert sorted(p.name for p in (srv / "shared").iterdir()) == [".env"]


def test_a_silent_link_ends_at_the_deadline_in_one_line(inv, sandbox, workdir, sshd, host):
    import os
    import time

    srv, env_file, _ = host
    env_file.unlink()
    os.mkfifo(env_file)  # reading it over SFTP waits forever: the server goes silent mid-push
    live_session(sandbox, workdir)
    config = write_config(workdir, sshd.target(env_file, timeout=3))
    start = time.monotonic()
    try:
        result = inv("-f", config, "push.ssh", timeout=90)
    finally:
        try:  # let the stuck sftp-server go
            os.close(os.open(env_file, os.O_WRONLY | os.O_NONBLOCK))
        except OSError:
            pass

    assert result.code == 1, result.output
    assert time.monotonic() - start < 45
    assert f"{sshd.user}@127.0.0.1:{sshd.port} did not finish within 3 s (connect, edit and restart together)" \
        in result.output
    assert "Traceback" not in result.output


def test_a_hanging_restart_ends_at_the_same_deadline(inv, sandbox, workdir, sshd, host):
    _, env_file, _ = host
    session = live_session(sandbox, workdir)
    config = write_config(workdir, sshd.target(env_file, restart="sleep 60", timeout=4))

    result = inv("-f", config, "push.ssh", timeout=90)

    assert result.code == 1, result.output
    assert "did not finish within 4 s" in result.output
    assert f"MTN_SESSION={session.encode()}\n".encode() in env_file.read_bytes()  # the file itself is in place


@pytest.mark.parametrize("fields, says", [
    ({"trust": "always"}, "trust 'always' is not one of known-hosts, first-use"),
    ({"timeout": "soon"}, "timeout 'soon' is not a positive number of seconds"),
    ({"timeout": 0}, "timeout 0 is not a positive number of seconds"),
])
def test_bad_trust_or_timeout_exits_2(inv, sandbox, workdir, sshd, host, fields, says):
    _, env_file, _ = host
    live_session(sandbox, workdir)
    result = inv("-f", write_config(workdir, sshd.target(env_file, **fields)), "push.ssh")
    assert result.code == 2, result.output
    assert says in result.output
    assert env_file.read_bytes() == BEFORE

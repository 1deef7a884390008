"""push.ssh against a real sshd on loopback: only the MTN_SESSION line changes, 0600, restart ran,
`--check` opens no connection."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
import yaml

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
    session = Session.from_dict(sandbox.mtn.mint_session(), "sandbox")
    save(workdir / ".cache" / "mtn-session.json", session)
    return session


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
    assert stat.S_IMODE(env_file.stat().st_mode) == 0o600
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
    assert "the last push had failed" in again.output


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


def test_unknown_host_key_is_refused(inv, sandbox, workdir, sshd, host, tmp_path):
    _, env_file, _ = host
    live_session(sandbox, workdir)
    empty = tmp_path / "known_hosts"
    empty.write_text("")
    config = write_config(workdir, {**sshd.target(env_file), "known_hosts": str(empty)})

    result = inv("-f", config, "push.ssh")

    assert result.code == 1, result.output
    assert "known_hosts" in result.output
    assert env_file.read_bytes() == BEFORE


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

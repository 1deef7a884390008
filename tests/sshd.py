"""A real OpenSSH server on loopback for the SSH target's tests (key auth, internal-sftp).

    from sshd import sshd  # a pytest fixture: yields an Sshd, stops it afterwards

Skips only when /usr/sbin/sshd is not installed. Its log (LogLevel VERBOSE) records every
connection, so a test can prove `--check` opened none.
"""

from __future__ import annotations

import getpass
import os
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

SSHD = "/usr/sbin/sshd"


@dataclass
class Sshd:
    host: str
    port: int
    user: str
    key_filename: Path
    known_hosts: Path
    log: Path
    root: Path

    def connections(self) -> int:
        """How many connections the server has accepted so far."""
        return self.log.read_text(errors="replace").count("Connection from") if self.log.exists() else 0

    def fingerprint(self) -> str:
        """The host key's fingerprint as `ssh` shows it (SHA256:...), from ssh-keygen itself."""
        out = subprocess.run(["ssh-keygen", "-lf", str(self.root / "host_key.pub")], capture_output=True,
                             text=True, check=True).stdout
        return out.split()[1]

    def known_hosts_line(self) -> str:
        """This server's line for a known_hosts file."""
        return self.known_hosts.read_text()

    def target(self, env_file: Path, **fields) -> dict:
        """An invoke.yaml `targets:` entry pointing at this server."""
        return {"kind": "ssh", "host": self.host, "port": self.port, "user": self.user,
                "key_filename": str(self.key_filename), "known_hosts": str(self.known_hosts),
                "env_file": str(env_file), **fields}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _keygen(path: Path) -> None:
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(path)], check=True)


@pytest.fixture
def sshd(tmp_path: Path):
    if not os.path.exists(SSHD):
        pytest.skip(f"{SSHD} not installed (package openssh-server): the SSH target needs a real sshd")
    if not shutil.which("ssh-keygen"):
        pytest.skip("ssh-keygen not installed (package openssh-client)")
    root = tmp_path / "sshd"
    root.mkdir()
    os.makedirs("/run/sshd", exist_ok=True)  # sshd's privilege separation directory
    _keygen(root / "host_key")
    _keygen(root / "client_key")
    (root / "authorized_keys").write_text((root / "client_key.pub").read_text())
    port = _free_port()
    host_pub = (root / "host_key.pub").read_text().split()
    (root / "known_hosts").write_text(f"[127.0.0.1]:{port} {host_pub[0]} {host_pub[1]}\n")
    config = root / "sshd_config"
    config.write_text("\n".join([
        f"Port {port}",
        "ListenAddress 127.0.0.1",
        f"HostKey {root / 'host_key'}",
        f"PidFile {root / 'sshd.pid'}",
        f"AuthorizedKeysFile {root / 'authorized_keys'}",
        "StrictModes no",
        "PermitRootLogin prohibit-password",
        "PasswordAuthentication no",
        "KbdInteractiveAuthentication no",
        "UsePAM no",
        "Subsystem sftp internal-sftp",
        "LogLevel VERBOSE",
        "",
    ]))
    log = root / "sshd.log"
    proc = subprocess.Popen([SSHD, "-D", "-f", str(config), "-E", str(log)])
    deadline = time.monotonic() + 10
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                raise RuntimeError(f"sshd did not start: {log.read_text(errors='replace') if log.exists() else ''}")
            time.sleep(0.05)
    server = Sshd("127.0.0.1", port, getpass.getuser(), root / "client_key", root / "known_hosts", log, root)
    # the probe above was a connection too: wait until it is logged, so counts start from here (a
    # fixed pause was too short on a loaded machine, and a late line then counted as the test's)
    while server.connections() < 1 and time.monotonic() < deadline + 10:
        time.sleep(0.02)
    try:
        yield server
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()

"""Which host keys an SSH target trusts.

The keys come from a known_hosts file: the target's `known_hosts`, else `~/.ssh/known_hosts`
(as `ssh` does). A key that file does not hold is refused, and so is one that differs from what it
records; the line names the host and the key's fingerprint as `ssh` shows it (`SHA256:…`), so the
person can compare it with the host's own (`ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub`).
`trust: first-use` records an unknown key in that file and goes on; a changed key is refused
whatever `trust` says. Nothing is sent to a host before its key is accepted.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from ..core.errors import ConfigError

DEFAULT_KNOWN_HOSTS = "~/.ssh/known_hosts"
TRUST = ("known-hosts", "first-use")


class HostKeys:
    """The known_hosts policy of one target: load the file into a paramiko client, decide on keys."""

    def __init__(self, target: str, known_hosts: str | None, trust: str = "known-hosts", *,
                 flag: str | None = None):
        """`flag`: the command-line flag that named `known_hosts` (watch's `--known-hosts`), for
        callers that take no `trust` setting; None for an invoke.yaml target."""
        if trust not in TRUST:
            raise ConfigError(f"{target}: trust {trust!r} is not one of {', '.join(TRUST)}",
                              "fix the target in invoke.yaml (`trust: first-use` records a new host's key)")
        self.target, self.trust, self.flag = target, trust, flag
        self.explicit = known_hosts is not None
        self.path = Path(os.path.expanduser(known_hosts or DEFAULT_KNOWN_HOSTS))
        self.recorded = ""  # what first-use trust wrote, for the push line

    def install(self, client: Any) -> None:
        """Make `client` (a paramiko SSHClient) accept only the keys this policy trusts."""
        import paramiko

        if self.path.is_file():
            try:
                client.load_host_keys(str(self.path))
            except (OSError, UnicodeDecodeError, paramiko.SSHException) as e:
                raise ConfigError(f"{self.target}: known_hosts {self.path} cannot be read: {e}",
                                  "fix or replace the file") from None
        else:
            self.check_file()
        policy = self

        class Policy(paramiko.MissingHostKeyPolicy):
            def missing_host_key(self, client: Any, hostname: str, key: Any) -> None:
                policy.unknown(client, hostname, key)

        client.set_missing_host_key_policy(Policy())

    def check_file(self) -> None:
        """A known_hosts file that was named must exist (unless first-use trust is to create it)."""
        if not self.explicit or self.trust == "first-use" or self.path.is_file():
            return
        if self.flag:
            raise ConfigError(f"{self.target}: {self.flag} {self.path} is not a file; nothing was sent",
                              f"give the known_hosts file that holds the host's key, or leave {self.flag} out "
                              f"to use {DEFAULT_KNOWN_HOSTS}")
        raise ConfigError(f"{self.target}: known_hosts {self.path} does not exist",
                          "fix known_hosts in invoke.yaml, or leave it out to use ~/.ssh/known_hosts")

    def unknown(self, client: Any, hostname: str, key: Any) -> None:
        if self.trust != "first-use":
            raise ConfigError(
                f"{self.target}: unknown host key for {hostname}: {key.get_name()} {key.fingerprint} "
                f"is not in {self.path}; nothing was sent",
                f"compare it with the host's own key, then add it to {self.path} "
                f"(`ssh-keyscan {_keyscan_args(hostname)} >> {self.path}`)"
                + (f", then run it again (only keys already in known_hosts are trusted here, {self.flag}; "
                   "there is no first-use trust)"
                   if self.flag else ", or set `trust: first-use` on this target"))
        self.record(hostname, key)
        client.get_host_keys().add(hostname, key.get_name(), key)

    def record(self, hostname: str, key: Any) -> None:
        """Append the key to the known_hosts file (created 0600, its folder 0700)."""
        self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        with os.fdopen(fd, "a", encoding="ascii") as f:
            if f.tell() and not self.path.read_bytes().endswith(b"\n"):
                f.write("\n")
            f.write(f"{hostname} {key.get_name()} {key.get_base64()}\n")
        self.recorded = f"recorded {hostname}'s key {key.fingerprint} in {self.path} (trust: first-use)"

    def changed(self, error: Any, hostname: str) -> ConfigError:
        """The refusal for paramiko's BadHostKeyException: the host offered another key.
        `hostname` as known_hosts writes it (`[host]:port` off port 22)."""
        got, expected = error.key, error.expected_key
        return ConfigError(
            f"{self.target}: host key for {hostname} CHANGED: it offered {got.get_name()} {got.fingerprint}, "
            f"{self.path} records {expected.get_name()} {expected.fingerprint}; possible man-in-the-middle, "
            "nothing was sent",
            f"confirm the new key with the host's owner, then replace its line "
            f"(`ssh-keygen -R '{hostname}' -f {self.path}`)")


def _keyscan_args(hostname: str) -> str:
    if hostname.startswith("[") and "]:" in hostname:
        host, port = hostname[1:].split("]:", 1)
        return f"-p {port} {host}"
    return hostname

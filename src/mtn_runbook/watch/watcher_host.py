"""The watcher's host over SSH (Fabric): `[user@]host[:port]`, the connection (the host's key must
be known, targets/host_keys.py, as for an SSH target), commands run there, and the user's systemd,
which may not be running (a container, no lingering session). No root: the runbook's folder and
the units are the user's. watcher.py installs, shows and removes the watcher over this.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..core.config import Settings
from ..core.errors import ConfigError, ServiceError
from .watcher_units import TIMERS

DEFAULT_FOLDER = "~/.local/share/mtn-runbook"
DEFAULT_UNIT_DIR = "~/.config/systemd/user"
NO_USER_SYSTEMD = "systemd --user is not available"


@dataclass
class Report:
    """What install, status or remove found, line by line, and whether the timers run."""
    lines: list[str] = field(default_factory=list)
    running: bool = False               # the timers are enabled and active
    why: str = ""                       # when not running: what failed, for the task's ✘ line
    removed: bool = False               # remove found something to remove

    def add(self, line: str) -> None:
        self.lines.append(line)


def parse_host(text: str) -> tuple[str | None, str, int]:
    """[user@]host[:port]"""
    user, _, rest = text.rpartition("@")
    host, _, port = rest.partition(":")
    try:
        number = int(port) if port else 22
    except ValueError:
        number = 0
    if not host or not 0 < number < 65536 or any(c.isspace() for c in text) or text.startswith("-"):
        raise ConfigError(f"HOST {text!r} is not [user@]host[:port]",
                          "a flag in HOST's place? see `inv --help watch.install`" if text.startswith("-") else "")
    return user or None, host, number


class WatcherHost:
    """One watcher host: its connection, a command run there, the user's systemd (a context manager:
    the connection opens on enter and finds the folder and unit folder under the user's home)."""

    def __init__(self, settings: Settings, host: str, *, key_filename: str | None = None,
                 known_hosts: str | None = None, folder: str = DEFAULT_FOLDER, unit_dir: str = DEFAULT_UNIT_DIR,
                 timeout: float = 600.0):
        from ..targets.host_keys import HostKeys

        self.settings, self.timeout = settings, timeout
        self.user, self.host, self.port = parse_host(host)
        self.name = f"watcher {host}"
        if key_filename and not Path(key_filename).expanduser().is_file():
            raise ConfigError(f"{self.name}: --key-filename {key_filename} is not a file; nothing was sent",
                              "give the SSH private key's path, or leave --key-filename out to use the agent and ~/.ssh")
        self.key_filename = key_filename
        self.host_keys = HostKeys(self.name, known_hosts, flag="--known-hosts")
        self.host_keys.check_file()   # a missing --known-hosts is one line before any connection
        self.folder_arg, self.unit_dir_arg = folder, unit_dir
        self._conn: Any = None

    # -- the connection -------------------------------------------------------------------
    def __enter__(self) -> "WatcherHost":
        import paramiko
        from fabric import Connection

        kwargs: dict[str, Any] = {"banner_timeout": 15, "auth_timeout": 15}
        if self.key_filename:
            kwargs.update(key_filename=self.key_filename, look_for_keys=False, allow_agent=False)
        conn = Connection(self.host, user=self.user, port=self.port, connect_timeout=15, connect_kwargs=kwargs)
        self.host_keys.install(conn.client)
        try:
            conn.open()
        except paramiko.BadHostKeyException as e:
            raise self.host_keys.changed(e, self.host if self.port == 22 else f"[{self.host}]:{self.port}") from None
        except paramiko.AuthenticationException:
            raise ConfigError(f"{self.name}: SSH authentication failed", "check the user and --key-filename") from None
        except (paramiko.SSHException, OSError) as e:
            raise ServiceError(f"{self.name}: cannot connect: {getattr(e, 'strerror', None) or e}") from None
        self._conn = conn
        home = self.run("printf %s \"$HOME\"", "find the home folder").stdout
        self.folder = self.folder_arg.replace("~", home, 1) if self.folder_arg.startswith("~") else self.folder_arg
        self.unit_dir = self.unit_dir_arg.replace("~", home, 1) if self.unit_dir_arg.startswith("~") else self.unit_dir_arg
        return self

    def __exit__(self, *exc: Any) -> None:
        if self._conn is not None:
            self._conn.close()

    def run(self, command: str, what: str, *, check: bool = True) -> Any:
        result = self._conn.run(command, hide=True, warn=True, in_stream=False, timeout=self.timeout)
        if check and result.exited != 0:
            last = (result.stderr or result.stdout).strip().splitlines()[-1:] or [f"exit {result.exited}"]
            raise ServiceError(f"{self.name}: could not {what}: {last[0][:300]}")
        return result

    def user_systemd(self) -> bool:
        """Whether the user's systemd (its manager and bus) runs on the host."""
        probe = self.run("systemctl --user show-environment >/dev/null 2>&1 && echo yes || echo no", "ask systemd")
        return probe.stdout.strip() == "yes"

    def systemctl(self, args: str, what: str, report: Report) -> bool:
        """`systemctl --user ARGS`; False (said once in the report) where the user's systemd is not running."""
        if not self.user_systemd():
            if not any(NO_USER_SYSTEMD in line for line in report.lines):
                report.add(f"⚠ {NO_USER_SYSTEMD} on {self.host} (no user manager or bus): could not {what}; "
                           "on a host with systemd: `loginctl enable-linger`, then `systemctl --user enable --now "
                           f"{' '.join(TIMERS)}`")
            return False
        self.run(f"systemctl --user {args}", what)
        return True

    def exists(self, path: str) -> bool:
        return self.run(f"test -e {shlex.quote(path)} && echo yes || echo no", f"look at {path}").stdout.strip() == "yes"

"""MTN_SESSION in an env file on a host reached over SSH (Fabric), then the app restarted.

Only the `MTN_SESSION=` line changes (env_file.py). The host's key must be one known_hosts
trusts (host_keys.py). A symlinked env file (Capistrano's `current/.env -> shared/.env`) is
edited at its real path, so the link keeps pointing at the new value. The new file is written
beside the real one over SFTP, 0600 while it is being written, given the old file's owner, group
and mode, then renamed over it (posix-rename: readers see the old file or the new one, never half
of one). The value travels only inside the SFTP transfer, never on a command line.
Connect, edit and restart share one deadline (`timeout:`, default 180 s): a link that goes silent
ends in one line instead of a hang. `--check` opens no connection.
"""

from __future__ import annotations

import contextlib
import functools
import math
import os
import stat
import threading
import time
from datetime import datetime, timezone
from typing import Any, Callable

from ..core.config import Settings
from ..core.errors import ConfigError, ServiceError
from .entry import Entry
from .env_file import EnvFile
from .host_keys import HostKeys
from .remote_file import replace_file
from .target import Current

__all__ = ["SshTarget", "EnvFile"]

DEADLINE = 180.0       # seconds for connect + edit + restart, unless the target sets `timeout:`
BACKSTOP = 10.0        # seconds after the deadline at which Fabric's own command timeout may act


def _others_read(mode: int) -> bool:
    return bool(mode & stat.S_IROTH)


def _within_deadline(method: Callable) -> Callable:
    """Whatever a cut-off connection raised, report it as the deadline it is."""

    @functools.wraps(method)
    def guarded(self: "SshTarget", *args: Any, **kwargs: Any) -> Any:
        try:
            return method(self, *args, **kwargs)
        except Exception:
            if self._expired.is_set():
                raise self._deadline_error() from None
            raise

    return guarded


class SshTarget:
    kind = "ssh"
    look_in_check = False

    def __init__(self, settings: Settings, *, host: str, env_file: str, user: str | None = None,
                 port: int = 22, key_filename: str | list[str] | None = None, known_hosts: str | None = None,
                 restart: str = "", key: str = "MTN_SESSION", name: str = "", trust: str = "known-hosts",
                 timeout: float = DEADLINE):
        self.settings, self.host, self.env_file, self.user, self.port = settings, host, env_file, user, port
        self.key_filename, self.restart, self.key, self.timeout = key_filename, restart, key, timeout
        self.name = name or f"ssh {user + '@' if user else ''}{host}:{env_file}"
        self.host_keys = HostKeys(self.name, known_hosts, trust)
        self._conn: Any = None
        self._conn_opening: Any = None  # the connection being opened, for the deadline to cut
        self._sftp: Any = None
        self._expired = threading.Event()
        self._timer: threading.Timer | None = None
        self._started = 0.0
        self._held = contextlib.ExitStack()   # the deadline's timer and every connection opened

    @classmethod
    def from_entry(cls, settings: Settings, entry: Entry) -> "SshTarget":
        raw = entry.raw
        try:
            port = int(raw.get("port", 22))
        except (TypeError, ValueError):
            raise entry.error(f"port {raw.get('port')!r} is not a number") from None
        keys = raw.get("key_filename")
        if isinstance(keys, str):
            keys = os.path.expanduser(keys)
        elif isinstance(keys, list):
            keys = [os.path.expanduser(str(k)) for k in keys]
        elif keys is not None:
            raise entry.error("key_filename must be a path or a list of paths")
        try:
            timeout = float(raw.get("timeout", DEADLINE))
        except (TypeError, ValueError):
            timeout = math.nan
        if not (math.isfinite(timeout) and timeout > 0):
            raise entry.error(f"timeout {raw.get('timeout')!r} is not a positive number of seconds")
        known = raw.get("known_hosts")
        return cls(settings, host=str(raw["host"]), env_file=str(raw["env_file"]),
                   user=str(raw["user"]) if raw.get("user") else None, port=port, key_filename=keys,
                   known_hosts=str(known) if known else None, trust=str(raw.get("trust") or "known-hosts"),
                   restart=str(raw.get("restart") or ""), key=str(raw.get("key") or "MTN_SESSION"),
                   name=str(raw.get("name") or ""), timeout=timeout)

    def noted(self) -> str:
        """What the push line must also say: the host key `trust: first-use` recorded, if any."""
        return self.host_keys.recorded

    def describe(self) -> str:
        restart = f" and run `{self.restart}`" if self.restart else ""
        return f"replace the {self.key} line of {self.env_file} on {self.host} (mode, owner and group kept){restart}"

    @_within_deadline
    def preflight(self) -> str:
        try:
            env, st, real = self._load()
        finally:
            self.close()
        mode = stat.S_IMODE(st.st_mode)
        link = f" (→ {real})" if real != self.env_file else ""
        return (f"connected; {self.env_file}{link} has {'a' if env.values() else 'no'} {self.key} line, "
                f"mode {mode:04o}{'; others can read it: chmod o-r' if _others_read(mode) else ''}")

    # -- the connection, under one deadline ------------------------------------------------
    @property
    def where(self) -> str:
        return f"{self.user + '@' if self.user else ''}{self.host}:{self.port}"

    def _deadline_error(self) -> ServiceError:
        return ServiceError(f"{self.name}: {self.where} did not finish within {self.timeout:g} s "
                            "(connect, edit and restart together); the connection was cut",
                            "the env file holds the old or the new value, never half; check the host "
                            "and the network (or raise `timeout:` of this target), then rerun `inv push.ssh`")

    def _left(self) -> float:
        return max(0.1, self.timeout - (time.monotonic() - self._started))

    def _expire(self) -> None:
        self._expired.set()
        conn = self._conn_opening
        transport = conn.client.get_transport() if conn is not None else None
        if transport is not None:
            transport.close()  # every blocked read on it returns at once

    def _open(self) -> Any:
        if self._sftp is not None:
            return self._sftp
        import paramiko
        from fabric import Connection

        connect_kwargs: dict[str, Any] = {"banner_timeout": 15, "auth_timeout": 15}
        if self.key_filename:
            # only the configured key: not whatever an agent or ~/.ssh happens to offer
            connect_kwargs.update(key_filename=self.key_filename, look_for_keys=False, allow_agent=False)
        conn = Connection(self.host, user=self.user, port=self.port, connect_timeout=min(15, self.timeout),
                          connect_kwargs=connect_kwargs)
        self._held.callback(conn.close)       # a retry's second connection is closed too
        self.host_keys.install(conn.client)  # replaces Fabric's accept-any-key default
        if self._timer is None:
            self._started = time.monotonic()
            self._conn_opening = conn
            self._timer = threading.Timer(self.timeout, self._expire)
            self._timer.daemon = True
            self._timer.start()
            self._held.callback(self._timer.cancel)
        try:
            conn.open()
        except paramiko.BadHostKeyException as e:
            raise self.host_keys.changed(e, self.host if self.port == 22 else f"[{self.host}]:{self.port}") from None
        except paramiko.AuthenticationException:
            raise ConfigError(f"{self.name}: SSH authentication as {self.where} failed",
                              "check user and key_filename of this target in invoke.yaml") from None
        except paramiko.SSHException as e:
            raise ServiceError(f"{self.name}: SSH to {self.where} failed: {e}",
                               "check host and port of this target in invoke.yaml") from None
        except OSError as e:
            raise ServiceError(f"{self.name}: cannot connect to {self.where}: {e.strerror or type(e).__name__}",
                               "check host and port of this target, and that sshd runs there") from None
        self._conn, self._sftp = conn, conn.sftp()
        return self._sftp

    def close(self) -> None:
        """Cancels the deadline and closes every connection opened; the next use starts afresh."""
        self._held.close()
        self._conn = self._sftp = self._conn_opening = self._timer = None

    def _load(self) -> tuple[EnvFile, Any, str]:
        """The env file's content, its stat and its real path (symlinks resolved)."""
        sftp = self._open()
        try:
            real = sftp.normalize(self.env_file)
            st = sftp.stat(real)
            with sftp.open(real, "rb") as f:
                content = f.read()
        except FileNotFoundError:
            # a typo'd path would otherwise leave a stray file holding the secret
            raise ConfigError(f"{self.name}: {self.env_file} does not exist on {self.host}",
                              "create it (the app's env file) or fix env_file in invoke.yaml") from None
        except PermissionError:
            raise ConfigError(f"{self.name}: {self.env_file} on {self.host} is not readable as this user",
                              "use a user that owns the env file") from None
        return EnvFile(content, self.key), st, real

    # -- look, act, look again -------------------------------------------------------------
    @_within_deadline
    def holding(self) -> "Holding":
        """What the env file holds: the fingerprint of its MTN_SESSION value and its mtime
        (targets/holding.py: another operator's push shows up as a changed fingerprint)."""
        env, st, _ = self._load()
        return self._holding(env, st)

    @staticmethod
    def _holding(env: EnvFile, st: Any) -> "Holding":
        from ..core.session import fingerprint, iso
        from .holding import Holding

        values = env.values()
        if not values:
            return Holding(stamp="absent")
        prints = sorted({fingerprint(v) for v in values})
        when = iso(datetime.fromtimestamp(st.st_mtime, timezone.utc)) if st.st_mtime else None
        return Holding(stamp=",".join(prints), fingerprint=prints[0] if len(prints) == 1 else None, updated=when)

    @_within_deadline
    def read(self, value: str) -> Current:
        env, st, real = self._load()
        values = env.values()
        holds = bool(values) and all(v == value for v in values)
        plan = self.describe().replace("replace the", "append a" if not values else "replace the", 1)
        # one read: the plan's, and the two-operator guard's
        return Current(holds, plan, {"env": env, "stat": st, "real": real}, before=self._holding(env, st))

    @_within_deadline
    def put(self, value: str, current: Current) -> None:
        sftp, env, st, real = self._sftp, current.state["env"], current.state["stat"], current.state["real"]
        new = env.with_value(value)
        current.state["expected"] = new

        def as_the_old_file(temp: str) -> None:
            mine = sftp.stat(temp)
            if (st.st_uid, st.st_gid) != (mine.st_uid, mine.st_gid):
                try:
                    sftp.chown(temp, st.st_uid, st.st_gid)  # the owner and group the app reads it as
                except OSError:
                    raise ConfigError(
                        f"{self.name}: cannot give the new {real} its owner and group (uid {st.st_uid}, "
                        f"gid {st.st_gid}) as {self.where}; the old file is untouched",
                        "connect as the file's owner (`user:`), or as a user that may chown it") from None
            sftp.chmod(temp, stat.S_IMODE(st.st_mode))

        replace_file(sftp, real, new, finish=as_the_old_file)

    @_within_deadline
    def verify(self, value: str, current: Current) -> str:
        env, st, real = self._load()  # the read-back, also what the recap reports
        current.after = self._holding(env, st)
        before = current.state["stat"]
        if env.content != current.state["expected"]:
            raise ServiceError(f"{self.name}: {self.env_file} reads back different from what was written",
                               "another process may be editing it; rerun `inv push.ssh`")
        kept = (stat.S_IMODE(st.st_mode), st.st_uid, st.st_gid)
        if kept != (stat.S_IMODE(before.st_mode), before.st_uid, before.st_gid):
            raise ServiceError(f"{self.name}: {real} has mode {kept[0]:04o}, uid {kept[1]}, gid {kept[2]}, "
                               f"not its old {stat.S_IMODE(before.st_mode):04o}, {before.st_uid}, {before.st_gid}",
                               "check the host's filesystem (ACLs, mount options)")
        link = f" at its real path {real}" if real != self.env_file else ""
        detail = f"file updated{link} (mode {kept[0]:04o}, owner and group kept)"
        if _others_read(kept[0]):
            detail += f"; ⚠ others can read it: `chmod o-r {real}`"
        return detail if self.restart else f"{detail}; no restart configured"

    @_within_deadline
    def activate(self) -> str:
        if not self.restart:
            return ""
        self._open()
        self._run(self.restart, "the restart command",
                  "the env file is in place; fix the command and rerun `inv push.ssh`")
        return f"ran `{self.restart}`"

    def _run(self, command: str, what: str, hint: str) -> None:
        from invoke.exceptions import CommandTimedOut

        try:
            # Fabric's own timeout only as a backstop, well after ours: both firing at once let its timer
            # thread close a channel of the transport ours had just cut, and print EOFError's traceback
            result = self._conn.run(command, hide=True, warn=True, in_stream=False, timeout=self._left() + BACKSTOP)
        except CommandTimedOut:
            raise self._deadline_error() from None
        if result.exited != 0:
            last = (result.stderr.strip() or result.stdout.strip()).splitlines()[-1:] or [""]
            raise ServiceError(f"{self.name}: {what} `{command}` exited {result.exited}: {last[0][:200]}".rstrip(": "),
                               hint)

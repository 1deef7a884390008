"""MTN_SESSION in an env file on a host reached over SSH (Fabric), then the app restarted.

Only the `MTN_SESSION=` line changes (every other byte stays as it was; the line is appended
when missing). The new file is written beside the old one over SFTP, made 0600 before it holds
anything, then moved over it with `mv` (a rename: readers see the old file or the new one, never
half of one). The value travels only inside the SFTP file transfer, never on a command line.
`--check` opens no connection.
"""

from __future__ import annotations

import os
import secrets
import shlex
import stat
from typing import Any

from ..core.config import Settings
from ..core.errors import ConfigError, ServiceError
from . import Current, Entry

MODE = 0o600


def _eol(line: bytes) -> bytes:
    return line[len(line.rstrip(b"\r\n")):]


class EnvFile:
    """The bytes of an env file, and the one variable in it this target owns."""

    def __init__(self, content: bytes, key: str):
        self.content, self.key = content, key.encode("ascii")
        self.lines = content.splitlines(keepends=True)

    def _split(self, line: bytes) -> tuple[bytes, bytes] | None:
        """(prefix, raw value) when `line` assigns the key, e.g. `MTN_SESSION=...` or `export MTN_SESSION=...`."""
        body = line.rstrip(b"\r\n")
        head, sep, rest = body.partition(self.key + b"=")
        bare = head.strip(b" \t")
        if sep and (bare == b"" or (bare == b"export" and head.endswith((b" ", b"\t")))):
            return head, rest
        return None

    def values(self) -> list[str]:
        found = []
        for line in self.lines:
            split = self._split(line)
            if split:
                raw = split[1].strip()
                if len(raw) >= 2 and raw[:1] in (b'"', b"'") and raw[-1:] == raw[:1]:
                    raw = raw[1:-1]
                found.append(raw.decode("utf-8", "replace"))
        return found

    def with_value(self, value: str) -> bytes:
        new, replaced = [], False
        for line in self.lines:
            split = self._split(line)
            if split is None:
                new.append(line)
                continue
            prefix, raw = split
            quote = raw.strip()[:1] if raw.strip()[:1] in (b'"', b"'") else b""
            new.append(prefix + self.key + b"=" + quote + value.encode("utf-8") + quote + _eol(line))
            replaced = True
        if not replaced:
            if new and not new[-1].endswith(b"\n"):
                new[-1] += b"\n"
            new.append(self.key + b"=" + value.encode("utf-8") + b"\n")
        return b"".join(new)


class SshTarget:
    kind = "ssh"
    look_in_check = False

    def __init__(self, settings: Settings, *, host: str, env_file: str, user: str | None = None,
                 port: int = 22, key_filename: str | list[str] | None = None, known_hosts: str | None = None,
                 restart: str = "", key: str = "MTN_SESSION", name: str = ""):
        self.settings, self.host, self.env_file, self.user, self.port = settings, host, env_file, user, port
        self.key_filename, self.known_hosts, self.restart, self.key = key_filename, known_hosts, restart, key
        self.name = name or f"ssh {user + '@' if user else ''}{host}:{env_file}"
        self._conn: Any = None
        self._sftp: Any = None

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
        known = raw.get("known_hosts")
        return cls(settings, host=str(raw["host"]), env_file=str(raw["env_file"]),
                   user=str(raw["user"]) if raw.get("user") else None, port=port, key_filename=keys,
                   known_hosts=os.path.expanduser(str(known)) if known else None,
                   restart=str(raw.get("restart") or ""), key=str(raw.get("key") or "MTN_SESSION"),
                   name=str(raw.get("name") or ""))

    def describe(self) -> str:
        restart = f" and run `{self.restart}`" if self.restart else ""
        return f"replace the {self.key} line of {self.env_file} on {self.host} (mode 0600){restart}"

    def preflight(self) -> str:
        try:
            env, st = self._load()
        finally:
            self.close()
        mode = stat.S_IMODE(st.st_mode)
        return (f"connected; {self.env_file} has {'a' if env.values() else 'no'} {self.key} line, "
                f"mode {mode:04o}{'' if mode == MODE else ' (push sets 0600)'}")

    # -- the connection --------------------------------------------------------------------
    def _open(self) -> Any:
        if self._sftp is not None:
            return self._sftp
        import paramiko
        from fabric import Connection

        connect_kwargs: dict[str, Any] = {}
        if self.key_filename:
            # only the configured key: not whatever an agent or ~/.ssh happens to offer
            connect_kwargs.update(key_filename=self.key_filename, look_for_keys=False, allow_agent=False)
        conn = Connection(self.host, user=self.user, port=self.port, connect_timeout=15,
                          connect_kwargs=connect_kwargs)
        if self.known_hosts:
            conn.client.load_host_keys(self.known_hosts)
            conn.client.set_missing_host_key_policy(paramiko.RejectPolicy())
        where = f"{self.user + '@' if self.user else ''}{self.host}:{self.port}"
        try:
            conn.open()
        except paramiko.AuthenticationException:
            raise ConfigError(f"{self.name}: SSH authentication as {where} failed",
                              "check user and key_filename of this target in invoke.yaml") from None
        except paramiko.SSHException as e:
            raise ServiceError(f"{self.name}: SSH to {where} failed: {e}",
                               "check host, port and known_hosts of this target in invoke.yaml") from None
        except OSError as e:
            raise ServiceError(f"{self.name}: cannot connect to {where}: {e.strerror or type(e).__name__}",
                               "check host and port of this target, and that sshd runs there") from None
        self._conn, self._sftp = conn, conn.sftp()
        return self._sftp

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = self._sftp = None

    def _load(self) -> tuple[EnvFile, Any]:
        sftp = self._open()
        try:
            st = sftp.stat(self.env_file)
            with sftp.open(self.env_file, "rb") as f:
                content = f.read()
        except FileNotFoundError:
            # a typo'd path would otherwise leave a stray file holding the secret
            raise ConfigError(f"{self.name}: {self.env_file} does not exist on {self.host}",
                              "create it (the app's env file) or fix env_file in invoke.yaml") from None
        except PermissionError:
            raise ConfigError(f"{self.name}: {self.env_file} on {self.host} is not readable as this user",
                              "use a user that owns the env file") from None
        return EnvFile(content, self.key), st

    # -- look, act, look again -------------------------------------------------------------
    def read(self, value: str) -> Current:
        env, st = self._load()
        values = env.values()
        right_mode = stat.S_IMODE(st.st_mode) == MODE
        holds = bool(values) and all(v == value for v in values) and right_mode
        plan = self.describe().replace("replace the", "append a" if not values else "replace the", 1)
        return Current(holds, plan, {"env": env, "stat": st})

    def put(self, value: str, current: Current) -> None:
        sftp, env, st = self._sftp, current.state["env"], current.state["stat"]
        directory, base = os.path.split(self.env_file)
        tmp = os.path.join(directory, f".{base}.mtn-runbook-{secrets.token_hex(4)}")
        new = env.with_value(value)
        current.state["expected"] = new
        try:
            with sftp.open(tmp, "wx") as f:
                sftp.chmod(tmp, MODE)  # before it holds anything
                f.write(new)
                f.flush()
            if (st.st_uid, st.st_gid) != (sftp.stat(tmp).st_uid, sftp.stat(tmp).st_gid):
                try:
                    sftp.chown(tmp, st.st_uid, st.st_gid)  # keep the owner the app runs as
                except OSError:
                    pass  # not allowed as this user: the file stays ours, still 0600
            self._run(f"mv -f -- {shlex.quote(tmp)} {shlex.quote(self.env_file)}", "moving the new file in place",
                      "the old file is untouched; check the directory's permissions")
        except BaseException:
            try:
                sftp.remove(tmp)
            except OSError:
                pass
            raise

    def verify(self, value: str, current: Current) -> str:
        env, st = self._load()
        if env.content != current.state["expected"]:
            raise ServiceError(f"{self.name}: {self.env_file} reads back different from what was written",
                               "another process may be editing it; rerun `inv push.ssh`")
        if stat.S_IMODE(st.st_mode) != MODE:
            raise ServiceError(f"{self.name}: {self.env_file} has mode {stat.S_IMODE(st.st_mode):04o}, not 0600",
                               "check the host's filesystem (ACLs, mount options)")
        return "file updated (0600)" if self.restart else "file updated (0600); no restart configured"

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
            result = self._conn.run(command, hide=True, warn=True, in_stream=False, timeout=600)
        except CommandTimedOut:
            raise ServiceError(f"{self.name}: {what} `{command}` did not finish within 600 s", hint) from None
        if result.exited != 0:
            last = (result.stderr.strip() or result.stdout.strip()).splitlines()[-1:] or [""]
            raise ServiceError(f"{self.name}: {what} `{command}` exited {result.exited}: {last[0][:200]}".rstrip(": "),
                               hint)

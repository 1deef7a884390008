"""The watcher: `inv keepalive` and `inv monitor` on a host the user owns, run by user systemd
timers (watcher_units.py), installed, shown and removed over SSH with Fabric. No root: the
runbook goes in a venv in the watcher's folder (default ~/.local/share/mtn-runbook), the units
in ~/.config/systemd/user. The host's keepalive and monitor write the lifespan ledger (the
GitHub issue when the folder's `.env` has GITHUB_TOKEN and GITHUB_REPOSITORY); GitHub's
scheduled workflow stays the backstop.

Install: upload this runbook's source (src/, pyproject.toml, README.md), make the venv with the
host's python3, `pip install` it (the host's package index, or `--pip-args`), write the four
units, check them with `systemd-analyze verify` when the host has it, then copy `--env-file` to
the folder's `.env` (last, so a refused unit leaves no secret there; never through a symbolic
link, checked with SFTP lstat), then `systemctl --user enable --now` the timers (if that fails,
the `.env` just copied is removed). Where the user's systemd is not running (a container, no lingering
session) the files stay written and checked, and the line says so (exit 1: nothing runs yet).
The host's key must be known (targets/host_keys.py), as for an SSH target.
"""

from __future__ import annotations

import contextlib
import io
import shlex
import stat
import tarfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..core.config import Settings
from ..core.errors import ConfigError, ServiceError
from ..targets.remote_file import replace_file
from .watcher_units import TIMERS, units

DEFAULT_FOLDER = "~/.local/share/mtn-runbook"
DEFAULT_UNIT_DIR = "~/.config/systemd/user"
NO_USER_SYSTEMD = "systemd --user is not available"



def check_env_file(env_file: str | None) -> Path | None:
    """The local file `--env-file` names, or a ConfigError (exit 2) before any connection."""
    if not env_file:
        return None
    local = Path(env_file).expanduser()
    if not local.is_file():
        raise ConfigError(f"--env-file {env_file} is not a file", "give the path of the .env to copy to the watcher")
    return local

@dataclass
class Report:
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


def source_tar() -> bytes:
    """This runbook's source, as pip installs it: pyproject.toml, README.md and src/."""
    root = Path(__file__).resolve().parents[3]          # src/mtn_runbook/watch/watcher.py
    if not (root / "pyproject.toml").is_file():
        raise ConfigError(f"cannot find this runbook's source (no pyproject.toml in {root})",
                          "run watch.install from a checkout of mtn-runbook")
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w:gz") as tar:
        skip = ("__pycache__", ".egg-info")
        for name in ("pyproject.toml", "README.md", "src"):
            tar.add(root / name, arcname=f"mtn-runbook/{name}",
                    filter=lambda t: None if any(s in t.name for s in skip) else t)
    return out.getvalue()


class Watcher:
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
    def __enter__(self) -> "Watcher":
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

    # -- check mode: what would be done, without a connection ----------------------------------
    def plan_install(self, *, every_minutes: float, env_file: str | None = None) -> str:
        copy = f", copy {env_file} to {self.folder_arg}/.env (0600)" if env_file else ""
        return (f"would install mtn-runbook in {self.folder_arg}/venv on {self.host}, write the four units "
                f"to {self.unit_dir_arg}{copy} and start the timers (keepalive every {every_minutes:g} min, monitor "
                "every 15 min)")

    def plan_remove(self) -> str:
        return (f"would stop the watcher's timers on {self.host}, then remove its units from {self.unit_dir_arg} "
                f"and {self.folder_arg} (venv, .env, journal)")

    # -- install, status, remove ----------------------------------------------------------------
    def install(self, *, every_minutes: float, env_file: str | None = None, pip_args: str = "") -> Report:
        report = Report()
        q = shlex.quote
        folder, unit_dir = self.folder, self.unit_dir
        self.run(f"mkdir -p -m 700 {q(folder)} {q(unit_dir)}", f"make {folder}")
        sftp = self._conn.sftp()
        local = check_env_file(env_file)
        if local is not None:
            self._no_link(sftp, f"{folder}/.env")   # before any work: a link would be refused at the end
        with sftp.open(f"{folder}/source.tar.gz", "wb") as f:
            f.write(source_tar())
        self.run(f"cd {q(folder)} && rm -rf mtn-runbook && tar -xzf source.tar.gz && rm source.tar.gz",
                 "unpack the runbook's source")
        self.run(f"test -x {q(folder)}/venv/bin/python || python3 -m venv {q(folder)}/venv",
                 "make a venv with python3 (package python3-venv)")
        self.run(f"{q(folder)}/venv/bin/pip install --quiet --disable-pip-version-check {pip_args} {q(folder)}/mtn-runbook",
                 "pip install the runbook")
        report.add(f"✔ runbook installed in {folder}/venv")
        written = units(folder, every_minutes)
        for name, text in written.items():
            with sftp.open(f"{unit_dir}/{name}", "w") as f:
                f.chmod(0o644)
                f.write(text)
        report.add(f"✔ units written to {unit_dir}: {', '.join(written)}")
        report.add(self.verify(list(written)))
        if local is not None:   # the secrets last, once the units are accepted
            self._upload_env(sftp, local, f"{folder}/.env")
            report.add(f"✔ {env_file} copied to {folder}/.env (0600)")
        elif not self._exists(f"{folder}/.env"):
            report.add(f"⚠ no {folder}/.env yet: put MTN_SESSION (or the session file in .cache/), MTN_API_KEY, "
                       "GITHUB_TOKEN, GITHUB_REPOSITORY and ALERT_WEBHOOK_URL there (mode 0600)")
        try:
            if self.systemctl("daemon-reload", "reload the user units", report):
                self.systemctl(f"enable --now {' '.join(TIMERS)}", "start the timers", report)
                report.running = True
                report.add(f"✔ timers started: keepalive every {every_minutes:g} min, monitor every 15 min")
            else:
                report.why = (f"installed in {folder}, but the timers were not started ({NO_USER_SYSTEMD} there); "
                              "start them as the ⚠ line says")
        except BaseException:
            if local is not None:   # a failed install leaves no secret behind
                with contextlib.suppress(OSError):
                    sftp.remove(f"{folder}/.env")
            raise
        return report

    def _no_link(self, sftp: Any, path: str) -> None:
        """Refuse a remote path that is a symbolic link: writing through it would put the secrets
        in whatever file it points at (another app's settings), with that file's mode changed."""
        try:
            mode = sftp.lstat(path).st_mode
        except FileNotFoundError:
            return
        if stat.S_ISLNK(mode):
            try:
                target = sftp.readlink(path)
            except OSError:
                target = "?"
            raise ConfigError(f"{self.name}: {path} is a symbolic link (to {target}): refusing to write secrets "
                              "through it", f"remove the link on {self.host}, or give another --folder")
        if not stat.S_ISREG(mode):
            raise ConfigError(f"{self.name}: {path} is not a regular file", f"remove it on {self.host}")

    def _upload_env(self, sftp: Any, local: Path, path: str) -> None:
        """Written whole or not at all (targets/remote_file.py): a rename replaces a link itself,
        never its target; checked again just before."""
        self._no_link(sftp, path)
        replace_file(sftp, path, local.read_bytes())

    def verify(self, names: list[str]) -> str:
        q = shlex.quote
        has = self.run("command -v systemd-analyze || true", "look for systemd-analyze").stdout.strip()
        if not has:
            return f"⚠ unit files not verified: {self.host} has no systemd-analyze (package systemd)"
        files = " ".join(q(f"{self.unit_dir}/{n}") for n in names)
        result = self.run(f"cd {q(self.unit_dir)} && XDG_RUNTIME_DIR=${{XDG_RUNTIME_DIR:-$(mktemp -d)}} "
                          f"systemd-analyze --user verify {files} 2>&1", "verify the units", check=False)
        if result.exited != 0:
            raise ServiceError(f"{self.name}: systemd-analyze verify refused the units: "
                               f"{result.stdout.strip().splitlines()[-1:] or result.exited}")
        return "✔ systemd-analyze verify: the units are valid"

    def _exists(self, path: str) -> bool:
        return self.run(f"test -e {shlex.quote(path)} && echo yes || echo no", f"look at {path}").stdout.strip() == "yes"

    def status(self) -> Report:
        report = Report()
        q = shlex.quote
        folder = self.folder
        version = self.run(f"{q(folder)}/venv/bin/pip show mtn-runbook 2>/dev/null | sed -n 's/^Version: //p'",
                           "ask pip", check=False).stdout.strip()
        report.add(f"{'✔' if version else '✘'} runbook: " + (f"mtn-runbook {version} in {folder}/venv" if version
                                                              else f"not installed in {folder} (`inv watch.install`)"))
        present = [n for n in units(folder, 10) if self._exists(f"{self.unit_dir}/{n}")]
        report.add(f"{'✔' if len(present) == 4 else '✘'} units in {self.unit_dir}: {len(present)} of 4"
                   + (f" ({', '.join(present)})" if present else ""))
        if self.user_systemd():
            states = self.run(f"systemctl --user is-active {' '.join(TIMERS)}", "ask systemd", check=False)
            active = dict(zip(TIMERS, states.stdout.split()))
            report.running = all(v == "active" for v in active.values()) and len(active) == 2
            report.add(f"{'✔' if report.running else '✘'} timers: " + ", ".join(f"{k} {v}" for k, v in active.items()))
        else:
            report.add(f"⚠ {NO_USER_SYSTEMD} on {self.host}: the timers cannot run there")
            report.why = f"{NO_USER_SYSTEMD} there, so its timers cannot run"
        last = self.run(f"grep '\"kind\": \"keepalive\"' {q(folder)}/.cache/journal.jsonl 2>/dev/null | tail -n 1",
                        "read the journal", check=False).stdout.strip()
        report.add(f"last keepalive ping: {_ping_line(last)}" if last else "last keepalive ping: none yet")
        return report

    def remove(self) -> Report:
        """Stop, then delete what is there; each line says what was removed, or that nothing was."""
        report = Report()
        q = shlex.quote
        present = [n for n in units(self.folder, 10) if self._exists(f"{self.unit_dir}/{n}")]
        systemd = self.user_systemd()
        if not systemd:
            report.add(f"– {NO_USER_SYSTEMD} on {self.host}: no timer of the watcher can be running, nothing to stop")
        elif present:
            self.run(f"systemctl --user disable --now {' '.join(TIMERS)}", "stop the timers")
            report.add("✔ timers stopped and disabled")
        if present:
            self.run(f"cd {q(self.unit_dir)} && rm -f {' '.join(q(n) for n in present)}", "remove the units")
            report.add(f"✔ units removed from {self.unit_dir}: {', '.join(present)}")
            if systemd:
                self.run("systemctl --user daemon-reload", "reload the user units")
        else:
            report.add(f"– no watcher units in {self.unit_dir}: nothing to remove")
        had_folder = self._exists(self.folder)
        if had_folder:
            self.run(f"rm -rf {q(self.folder)}", f"remove {self.folder}")
            report.add(f"✔ {self.folder} removed (venv, .env, journal; the ledger keeps what it learned)")
        else:
            report.add(f"– no {self.folder} on {self.host}: nothing to remove")
        report.removed = bool(present) or had_folder
        return report


def _ping_line(raw: str) -> str:
    import json

    try:
        e = json.loads(raw)
    except ValueError:
        return "unreadable"
    return f"{e.get('ts')}: {e.get('verdict')} (every {e.get('every')} min, session {e.get('fingerprint')})"


def _same_host(a: str, b: str) -> bool:
    """`me@h:22` and `h` are the same watcher host; `you@h` is not `me@h`."""
    try:
        (ua, ha, pa), (ub, hb, pb) = parse_host(a), parse_host(b)
    except ConfigError:
        return a == b
    return ha == hb and pa == pb and (ua is None or ub is None or ua == ub)


def last_install(settings: Settings, host: str | None = None) -> dict | None:
    """The watcher this machine installed (on HOST, when given), as journaled, unless removed since:
    `inv doctor` reports it, and watch.status/remove look in its folder and unit folder."""
    from ..core.journal import Journal

    found = [e for e in Journal(settings.journal_file).entries("watcher")
             if host is None or _same_host(str(e.get("host", "")), host)]
    last = found[-1] if found else None
    return last if last and last.get("event") == "installed" else None


def journal_install(settings: Settings, host: str, event: str, **fields: Any) -> None:
    """Remember locally which host watches (doctor reports it)."""
    import contextlib

    from ..core.journal import Journal

    with contextlib.suppress(OSError):
        Journal(settings.journal_file).write("watcher", event=event, host=host, **fields)


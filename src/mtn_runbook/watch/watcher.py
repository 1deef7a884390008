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
The host's key must be known (targets/host_keys.py), as for an SSH target. The connection and the
user's systemd: watcher_host.py; what is sent: watcher_upload.py; which host watches: watcher_journal.py.
"""

from __future__ import annotations

import contextlib
import shlex

from ..core.errors import ServiceError
from .watcher_host import NO_USER_SYSTEMD, Report, WatcherHost
from .watcher_units import TIMERS, units
from .watcher_upload import check_env_file, refuse_link, source_tar, upload_env


class Watcher(WatcherHost):
    """`inv watch.install/status/remove` on one host (open it with `with`); the plans need no connection."""

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
        if local is not None:   # before any work: a link would be refused at the end
            refuse_link(sftp, f"{folder}/.env", self.name, self.host)
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
            upload_env(sftp, local, f"{folder}/.env", self.name, self.host)
            report.add(f"✔ {env_file} copied to {folder}/.env (0600)")
        elif not self.exists(f"{folder}/.env"):
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

    def status(self) -> Report:
        report = Report()
        q = shlex.quote
        folder = self.folder
        version = self.run(f"{q(folder)}/venv/bin/pip show mtn-runbook 2>/dev/null | sed -n 's/^Version: //p'",
                           "ask pip", check=False).stdout.strip()
        report.add(f"{'✔' if version else '✘'} runbook: " + (f"mtn-runbook {version} in {folder}/venv" if version
                                                              else f"not installed in {folder} (`inv watch.install`)"))
        present = [n for n in units(folder, 10) if self.exists(f"{self.unit_dir}/{n}")]
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
        present = [n for n in units(self.folder, 10) if self.exists(f"{self.unit_dir}/{n}")]
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
        had_folder = self.exists(self.folder)
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

"""`inv watch.install HOST`, `watch.status HOST`, `watch.remove HOST`: keepalive and monitor on a
host the user owns, under user systemd timers (watch/watcher.py)."""

from __future__ import annotations

from invoke import Collection, Context

from ..core.errors import ExitCode
from .base import READ_ONLY_CHECK, runbook_task, settings

CONNECTION_HELP = {
    "key_filename": "the SSH private key to use (default: the agent and ~/.ssh)",
    "known_hosts": "the known_hosts file that must hold the host's key (default ~/.ssh/known_hosts)",
    "folder": "the watcher's folder on the host: venv, .env, .cache (default: where watch.install put it from "
              "here, else ~/.local/share/mtn-runbook)",
    "unit_dir": "where the user units go (default: where watch.install put them from here, else "
                "~/.config/systemd/user, where systemd --user reads them)",
}


def _open(s, host, key_filename, known_hosts, folder, unit_dir, *, installed=False):
    """The Watcher for HOST. `installed`: without --folder/--unit-dir, look where this machine's
    watch.install put them (the journal, as `inv doctor` reports it), not only at the defaults."""
    from ..watch.watcher import Watcher
    from ..watch.watcher_host import DEFAULT_FOLDER, DEFAULT_UNIT_DIR
    from ..watch.watcher_journal import last_install

    known = (last_install(s, host) or {}) if installed else {}
    return Watcher(s, host, key_filename=key_filename, known_hosts=known_hosts,
                   folder=folder or known.get("folder") or DEFAULT_FOLDER,
                   unit_dir=unit_dir or known.get("unit_dir") or DEFAULT_UNIT_DIR)


def _print(report, host: str, done: str, code_if_not_running: int):
    from invoke import Exit

    from ..core.console import Console

    out = Console()
    for line in report.lines:
        out.line(line)
    if not report.running:
        raise Exit(f"✘ watcher not running on {host}: {report.why or 'see the ✘ lines above'}", code_if_not_running)
    out.line(done)


@runbook_task(help={
    "host": "[user@]host[:port] to install on (its key must be in known_hosts)",
    "every": "minutes between keepalive pings (default KEEPALIVE_MINUTES, 10)",
    "env_file": "a local .env to copy to the watcher's folder (0600): its MTN_SESSION, tokens and webhook",
    "pip_args": "extra arguments for pip on the host (e.g. '--no-index --find-links DIR' without internet)",
    "check": "check the flags and files, say what would be installed where; open no SSH connection",
    **CONNECTION_HELP,
})
def install(c: Context, host: str, every: float | None = None, env_file: str | None = None, pip_args: str = "",
            key_filename: str | None = None, known_hosts: str | None = None, folder: str | None = None,
            unit_dir: str | None = None, check: bool = False) -> None:
    """Install mtn-runbook and two user systemd timers (keepalive every N min, monitor every 15 min) on HOST; no root."""
    from ..core.console import Console
    from ..watch.keepalive import check_minutes
    from ..watch.watcher_journal import journal_install
    from ..watch.watcher_upload import check_env_file

    s = settings(c)
    minutes = check_minutes(every if every is not None else s.keepalive_minutes)
    check_env_file(env_file)   # bad input: one line before anything is sent to the host
    watcher = _open(s, host, key_filename, known_hosts, folder, unit_dir)
    if check:
        Console().line(f"check: {watcher.plan_install(every_minutes=minutes, env_file=env_file)}; "
                       "no SSH connection opened, nothing sent")
        return
    with watcher:
        report = watcher.install(every_minutes=minutes, env_file=env_file, pip_args=pip_args)
        journal_install(s, host, "installed", every=minutes, folder=watcher.folder, unit_dir=watcher.unit_dir,
                        running=report.running)
    _print(report, host, f"✔ watcher running on {host}; GitHub's scheduled workflow stays the backstop",
           ExitCode.SERVICE_FAILED)


@runbook_task(read_only="watch.status", help={"host": "[user@]host[:port] of the watcher", "check": READ_ONLY_CHECK,
                                              **CONNECTION_HELP})
def status(c: Context, host: str, key_filename: str | None = None, known_hosts: str | None = None,
           folder: str | None = None, unit_dir: str | None = None, check: bool = False) -> None:
    """What the watcher on HOST has: the runbook, its units, the timers, the last keepalive ping. Exit 1 when not running."""
    with _open(settings(c), host, key_filename, known_hosts, folder, unit_dir, installed=True) as watcher:
        report = watcher.status()
    _print(report, host, f"✔ watcher running on {host}", ExitCode.SERVICE_FAILED)


@runbook_task(help={"host": "[user@]host[:port] of the watcher",
                    "check": "say what would be stopped and removed; open no SSH connection", **CONNECTION_HELP})
def remove(c: Context, host: str, key_filename: str | None = None, known_hosts: str | None = None,
           folder: str | None = None, unit_dir: str | None = None, check: bool = False) -> None:
    """Stop and remove the watcher's timers, units and folder on HOST."""
    from ..core.console import Console
    from ..watch.watcher_journal import journal_install

    s = settings(c)
    watcher = _open(s, host, key_filename, known_hosts, folder, unit_dir, installed=True)
    if check:
        Console().line(f"check: {watcher.plan_remove()}; no SSH connection opened, nothing removed")
        return
    with watcher:
        report = watcher.remove()
    journal_install(s, host, "removed")
    report.running = True   # nothing is meant to run any more
    _print(report, host, f"✔ watcher removed from {host}" if report.removed
           else f"✔ nothing to remove on {host}: no watcher units in {watcher.unit_dir}, no {watcher.folder}",
           ExitCode.DONE)


ns = Collection("watch")
ns.add_task(install)
ns.add_task(status)
ns.add_task(remove)

"""`inv watch.install HOST`, `watch.status HOST`, `watch.remove HOST`: keepalive and monitor on a
host the user owns, under user systemd timers (health/watcher.py)."""

from __future__ import annotations

from invoke import Collection

from .base import runbook_task, settings

CONNECTION_HELP = {
    "key_filename": "the SSH private key to use (default: the agent and ~/.ssh)",
    "known_hosts": "the known_hosts file that must hold the host's key (default ~/.ssh/known_hosts)",
    "folder": "the watcher's folder on the host: venv, .env, .cache (default ~/.local/share/mtn-runbook)",
    "unit_dir": "where the user units go (default ~/.config/systemd/user, where systemd --user reads them)",
}


def _open(c, host, key_filename, known_hosts, folder, unit_dir):
    from ..health.watcher import DEFAULT_FOLDER, DEFAULT_UNIT_DIR, Watcher

    return Watcher(settings(c), host, key_filename=key_filename, known_hosts=known_hosts,
                   folder=folder or DEFAULT_FOLDER, unit_dir=unit_dir or DEFAULT_UNIT_DIR)


def _print(report, done: str, code_if_not_running: int):
    from invoke import Exit

    from ..core.console import Console

    out = Console()
    for line in report.lines:
        out.line(line)
    if not report.running:
        raise Exit(code=code_if_not_running)
    out.line(done)


@runbook_task(help={
    "host": "[user@]host[:port] to install on (its key must be in known_hosts)",
    "every": "minutes between keepalive pings (default KEEPALIVE_MINUTES, 10)",
    "env_file": "a local .env to copy to the watcher's folder (0600): its MTN_SESSION, tokens and webhook",
    "pip_args": "extra arguments for pip on the host (e.g. '--no-index --find-links DIR' without internet)",
    **CONNECTION_HELP,
})
def install(c, host, every=None, env_file=None, pip_args="", key_filename=None, known_hosts=None, folder=None,
            unit_dir=None):
    """Install mtn-runbook and two user systemd timers (keepalive every N min, monitor every 15 min) on HOST; no root."""
    from ..health.keepalive import check_minutes
    from ..health.watcher import check_env_file, journal_install

    s = settings(c)
    minutes = check_minutes(every if every is not None else s.keepalive_minutes)
    check_env_file(env_file)   # bad input: one line before anything is sent to the host
    with _open(c, host, key_filename, known_hosts, folder, unit_dir) as watcher:
        report = watcher.install(every_minutes=minutes, env_file=env_file, pip_args=pip_args)
        journal_install(s, host, "installed", every=minutes, folder=watcher.folder, running=report.running)
    _print(report, f"✔ watcher running on {host}; GitHub's scheduled workflow stays the backstop", 1)


@runbook_task(help={"host": "[user@]host[:port] of the watcher", **CONNECTION_HELP})
def status(c, host, key_filename=None, known_hosts=None, folder=None, unit_dir=None):
    """What the watcher on HOST has: the runbook, its units, the timers, the last keepalive ping. Exit 1 when not running."""
    with _open(c, host, key_filename, known_hosts, folder, unit_dir) as watcher:
        report = watcher.status()
    _print(report, f"✔ watcher running on {host}", 1)


@runbook_task(help={"host": "[user@]host[:port] of the watcher", **CONNECTION_HELP})
def remove(c, host, key_filename=None, known_hosts=None, folder=None, unit_dir=None):
    """Stop and remove the watcher's timers, units and folder on HOST."""
    from ..health.watcher import journal_install

    with _open(c, host, key_filename, known_hosts, folder, unit_dir) as watcher:
        report = watcher.remove()
    journal_install(settings(c), host, "removed")
    report.running = True   # nothing is meant to run any more
    _print(report, f"✔ watcher removed from {host}", 0)


ns = Collection("watch")
ns.add_task(install)
ns.add_task(status)
ns.add_task(remove)

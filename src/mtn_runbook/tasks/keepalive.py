"""`inv keepalive`: validate the session in hand every N minutes until stopped (watch/keepalive.py)."""

from __future__ import annotations

from invoke import Context

from ..core.errors import ExitCode
from .base import runbook_task, settings

__all__ = ["keepalive"]


@runbook_task(help={
    "every": "minutes between pings (default KEEPALIVE_MINUTES, 10); fractions are for sandbox rehearsals",
    "count": "stop after this many pings (0: until stopped; the watcher's timer runs 1 per activation)",
    "file": "use this session file instead of MTN_SESSION_FILE (.cache/mtn-session.json)",
    "env": "use MTN_SESSION (base64) even when the session file exists",
    "check": "say which session it would ping, how often, and where it records and pages; send nothing",
})
def keepalive(c: Context, every: float | None = None, count: int = 0, file: str | None = None, env: bool = False,
              check: bool = False) -> None:
    """Validate the session every N minutes; stop and page the moment MTN refuses it. Exit 3 refused, 130 Ctrl-C."""
    from invoke import Exit

    from ..core.console import Console
    from ..core.deadline import Cancelled
    from ..watch.keepalive import Keepalive

    s = settings(c)
    out = Console()
    job = Keepalive(s, minutes=every if every is not None else s.keepalive_minutes, count=int(count),
                    file=file, env=env, say=out.line)
    if check:
        out.line(f"check: {job.plan()}; nothing sent, nothing recorded")
        return
    try:
        run = job.start()
    except (KeyboardInterrupt, Cancelled):
        run = job.run
        seen = f"last seen alive {run.last_alive}" if run.last_alive else "not seen alive"
        raise Exit(f"✘ keepalive stopped (interrupted) after {run.pings} ping(s); {seen}", ExitCode.INTERRUPTED) from None
    for line in run.paged:
        out.line(f"  {line}")
    if run.refused:
        raise Exit(f"✘ keepalive stopped: the MTN API refused session {run.short_id} "
                   f"after {run.pings} ping(s); "
                   "`inv recover`", ExitCode.SESSION_INVALID)
    out.line(f"keepalive: {run.pings} ping(s) done" + (f", last seen alive {run.last_alive}" if run.last_alive else ""))
    if run.exit_code:
        raise Exit(code=run.exit_code)

"""`inv doctor`: is everything in place for the next incident?"""

from __future__ import annotations

from invoke import Context

from ..core.errors import ExitCode
from .base import READ_ONLY_CHECK, runbook_task, settings

__all__ = ["doctor"]


@runbook_task(read_only="doctor", help={
    "json": "print the checks as JSON on stdout",
    "no_browser": "skip starting the browser (e.g. on a machine without a display)",
    "check": READ_ONLY_CHECK,
})
def doctor(c: Context, json: bool = False, no_browser: bool = False, check: bool = False) -> None:
    """Preflight: credentials, browser, tokens and rights, project and repo, .gitignore, file mode, monitor workflow."""
    from pathlib import Path

    from invoke import Exit

    from ..core.console import Console
    from ..monitor.doctor import run_checks

    out = Console(json_mode=json)
    checks = run_checks(settings(c), Path.cwd(), skip_browser=no_browser)
    failed = [ch for ch in checks if not ch.ok]
    if json:
        out.json({"ok": not failed, "checks": [ch.to_json() for ch in checks]})
    for ch in checks:
        kind = "failed" if not ch.ok else ("warn" if ch.warning else "ok")
        out.step(kind, ch.name, ch.detail + (f" — {ch.hint}" if not ch.ok and ch.hint else ""))
    if failed:
        raise Exit(f"✘ {len(failed)} of {len(checks)} checks failed: {', '.join(ch.name for ch in failed)}", ExitCode.BAD_INPUT)
    out.ok(f"all {len(checks)} checks passed")

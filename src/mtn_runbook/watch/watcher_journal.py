"""Which host watches: the watcher this machine installed, journaled locally (kind "watcher") so
that `inv doctor` reports it and watch.status/remove look in its folder and unit folder.
"""

from __future__ import annotations

import contextlib
from typing import Any

from ..core.config import Settings
from ..core.errors import ConfigError
from .watcher_host import parse_host


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
    from ..core.journal import Journal

    with contextlib.suppress(OSError):
        Journal(settings.journal_file).write("watcher", event=event, host=host, **fields)


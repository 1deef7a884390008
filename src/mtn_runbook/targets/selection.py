"""`--only NAME` / `--skip-target NAME` (Ansible's `--limit`): which configured targets a push,
recover or refresh works on, and which of them production reads.

A NAME is a target's name as the push lines print it (`ssh deploy@app1:/srv/app/.env`), its
kind (`ssh`), or a shell-style pattern of names or of "kind name" (`'ssh *'`, which also matches
an SSH target named `app1`). A NAME that matches nothing is bad
input (exit 2): a typo must not silently push everywhere, or nowhere.
"""

from __future__ import annotations

import fnmatch
import shlex
from typing import Iterable, Sequence

from ..core.errors import ConfigError
from .target import Target


def _matches(target: Target, name: str) -> bool:
    """Its name, its kind, or a pattern of its name, or of kind and name (`'ssh *'` also matches
    an SSH target named `app1`)."""
    return name in (target.name, target.kind) or fnmatch.fnmatchcase(target.name, name) \
        or fnmatch.fnmatchcase(f"{target.kind} {target.name}", name)


def select(targets: Sequence[Target], *, only: Iterable[str] = (), skip: Iterable[str] = ()) -> list[Target]:
    only, skip = list(only or ()), list(skip or ())
    for flag, names in (("--only", only), ("--skip-target", skip)):
        for name in names:
            if not any(_matches(t, name) for t in targets):
                raise ConfigError(f"{flag} {name!r} matches no configured target",
                                  f"the targets are: {'; '.join(t.name for t in targets)}")
    chosen = [t for t in targets
              if (not only or any(_matches(t, n) for n in only)) and not any(_matches(t, n) for n in skip)]
    if not chosen:
        raise ConfigError("--only/--skip-target leave no target to push to",
                          f"the targets are: {'; '.join(t.name for t in targets)}")
    return chosen


def production_reads(target: Target) -> bool:
    """Whether production (the Vercel deployment or the Coolify application `deploy` redeploys)
    reads this target's value."""
    if target.kind == "coolify":
        return True
    return target.kind == "vercel" and "production" in getattr(target, "environments", ("production",))


def finish_command(names: Iterable[str]) -> str:
    """The exact command that pushes to these targets only."""
    return "inv push " + " ".join(f"--only {shlex.quote(n)}" for n in names)

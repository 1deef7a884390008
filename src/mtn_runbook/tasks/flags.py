"""The short flags, chosen once for every task.

Invoke would give each flag the first free letter of its name, which made `-h` mean
`--headless` (so `inv recover -h` ran a whole recovery) or `--hours`, and `-e` shadow Invoke's
own `-e/--echo`. Here a letter means one thing in every task; a flag not listed has only its long
name. `-h` and `-e` stay Invoke's (help, echo), and `-c` is always `--check`.
"""

from __future__ import annotations

import inspect
from typing import Any

from invoke import Task

SHORT_FLAGS = {
    "check": "c",
    "json": "j",
    "file": "f",
    "env": "E",
    "stdout": "s",
    "output": "o",
    "headless": "H",
    "timeout": "t",
    "resume": "r",
    "from_": "F",
    "sandbox": "S",
    "wait": "w",
    "no_alert": "n",
    "no_browser": "b",
}
RESERVED = frozenset({"h", "e"})  # Invoke's --help and --echo, wherever they are typed
assert not RESERVED & set(SHORT_FLAGS.values()) and len(set(SHORT_FLAGS.values())) == len(SHORT_FLAGS)


class RunbookTask(Task):
    """An Invoke task whose short flags come from SHORT_FLAGS, never from the first free letter."""

    def __init__(self, *args: Any, **kwargs: Any):
        kwargs["auto_shortflags"] = False
        super().__init__(*args, **kwargs)

    def arg_opts(self, name: str, default: Any, taken_names: set) -> dict:
        opts = super().arg_opts(name, default, taken_names)
        short = SHORT_FLAGS.get(name)
        if short and short not in taken_names:
            opts["names"] = [*opts["names"], short]
        return opts


def takes_check(fn: Any) -> bool:
    return "check" in inspect.signature(fn).parameters


def dry_as_check(fn: Any, kw: dict) -> dict:
    """Invoke's `--dry` only stops `c.run`, which these tasks never use: read it as `--check`
    where the task has one, and refuse it elsewhere, so `inv --dry TASK` never changes anything."""
    from ..core.errors import ConfigError

    name = fn.__name__.rstrip("_").replace("_", "-")
    if not takes_check(fn):
        raise ConfigError(f"Invoke's --dry: `{name}` has no check mode, so it does not run under --dry",
                          "run it without --dry")
    from ..core.console import Console

    Console(stderr=True).line("--dry: running in check mode (as --check): nothing is changed")
    return {**kw, "check": True}

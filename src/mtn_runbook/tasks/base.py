"""What every task shares: loading Settings, and the one place errors become exit codes."""

from __future__ import annotations

import functools
import os
from typing import Any, Callable

from invoke import Exit, task

from ..config import Settings
from ..console import protect, scrub
from ..errors import RunbookError


def settings(c: Any, **flags: Any) -> Settings:
    """Settings for this run, with every secret registered so no output can show it."""
    loaded = Settings.load(c.config, **flags)
    protect(*loaded.secrets())
    return loaded


def runbook_task(*args: Any, **kwargs: Any) -> Callable:
    """`@task`, plus: a RunbookError ends in one line and its exit code, never a traceback.
    MTN_RUNBOOK_DEBUG=1 lets the traceback through."""

    def decorate(fn: Callable) -> Any:
        @functools.wraps(fn)
        def body(c: Any, *a: Any, **kw: Any) -> Any:
            debug = os.environ.get("MTN_RUNBOOK_DEBUG") == "1"
            try:
                return fn(c, *a, **kw)
            except Exit:
                raise
            except RunbookError as e:
                if debug:
                    raise
                raise Exit(scrub(f"✘ {e.line()}"), e.exit_code) from None
            except KeyboardInterrupt:
                raise Exit("✘ interrupted — nothing was left half-written; `inv recover --resume` continues", 130) from None
            except Exception as e:  # a bug: still one line, still no secret
                if debug:
                    raise
                raise Exit(scrub(f"✘ internal error: {type(e).__name__}: {e} — rerun with MTN_RUNBOOK_DEBUG=1 "
                                 "for a traceback"), 1) from None

        if args and callable(args[0]) and not kwargs:
            return task(body)
        return task(*args, **kwargs)(body)

    if args and callable(args[0]) and not kwargs:
        return decorate(args[0])
    return decorate

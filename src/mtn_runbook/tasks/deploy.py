"""`inv deploy` (redeploy production on Vercel and/or Coolify, wait for it, then verify) and `inv verify`.

Heavy imports happen inside the task bodies, so `inv --list` stays fast.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from invoke import Context

from ..core.errors import ExitCode
from .base import READ_ONLY_CHECK, runbook_task, settings

if TYPE_CHECKING:
    from ..core.config import Settings
    from ..core.console import Console
    from ..core.session import Session
    from ..runner.platforms import Platforms

__all__ = ["deploy", "verify"]

SOURCE_HELP = {
    "file": "compare production with this session file instead of MTN_SESSION_FILE",
    "env": "compare production with MTN_SESSION (base64) instead of the session file",
}


def _expected(s: Settings, out: Console, file: str | None, env: bool) -> Session | None:
    """The session production should run: the local one, or None (then only /products counts)."""
    from ..core.errors import ConfigError
    from ..mtn.source import open_session

    try:
        loaded = open_session(s, out, file=file, env=env)
    except ConfigError as e:
        if file or env:
            raise
        out.warn(f"no local session to compare with ({e.message}); checking /products only")
        return None
    return loaded.session


def run_verify(c: Context, out: Console, *, file: str | None = None, env: bool = False,
               window: float | None = None) -> None:
    """`window` None: VERIFY_WINDOW_SECONDS, as right after a deployment turns READY."""
    from invoke import Exit

    from ..services.production import verified

    s = settings(c)
    expected = _expected(s, out, file, env)
    health = verified(s, expected, out, window=window)
    auth = health.auth or {}
    if health.ok:
        what = f"session {auth.get('sessionId')}" + (" (the pushed one)" if expected else "")
        out.step("ok", "verify", f"production runs {what}; /products answers {health.products_status} "
                                 "with error_code 200")
        return
    for problem in health.problems:
        out.fail(problem)
    raise Exit("✘ verify failed: production is not serving a working MTN session "
               "— see runbooks/ (troubleshooting: verify failing)", ExitCode.SERVICE_FAILED)


@runbook_task(help={
    "wait": "wait for the deployment to be READY (Coolify: finished), then verify (default; --no-wait returns at once)",
    "check": "say which deployment would be redeployed; send nothing",
    "timeout": "seconds to wait for READY (default 600)",
    **SOURCE_HELP,
})
def deploy(c: Context, wait: bool = True, check: bool = False, timeout: float = 600.0, file: str | None = None,
           env: bool = False) -> None:
    """Redeploy production (Vercel, or each Coolify application) so the app reads the new MTN_SESSION, wait, then verify."""
    import time

    from ..core.console import Console
    from ..services.redeploy import redeploy

    s = settings(c)
    out = Console()
    start = time.monotonic()
    from ..runner.platforms import configured_platforms

    platforms = configured_platforms(s)
    if platforms.coolify:
        return _deploy_platforms(c, s, out, platforms, wait=wait, check=check, timeout=timeout, file=file, env=env)
    deployment = redeploy(s, console=out, wait=wait and not check, check=check, timeout=float(timeout))
    if check:
        out.step("would", "deploy", f"would redeploy production deployment {deployment.id} ({deployment.url}), "
                                    "wait for READY, then verify")
        return
    seconds = time.monotonic() - start
    if not wait:
        out.step("changed", "deploy", f"deployment {deployment.id} started ({deployment.state}); "
                                      f"follow it at {deployment.inspector_url}", seconds)
        return
    out.step("changed", "deploy", f"deployment {deployment.id} is READY ({deployment.url})", seconds)
    run_verify(c, out, file=file, env=env)


def _deploy_platforms(c: Context, s: Settings, out: Console, platforms: Platforms, *, wait: bool, check: bool,
                      timeout: float, file: str | None, env: bool) -> None:
    """Production on Coolify (and maybe Vercel too): each platform redeployed in turn, then verify."""
    import time

    from ..runner.platforms import redeploy

    start = time.monotonic()
    done = redeploy(s, platforms, console=out, wait=wait and not check, check=check, timeout=float(timeout))
    if check:
        out.step("would", "deploy", f"would redeploy production on {', '.join(platforms.names())}, "
                                    "wait for each, then verify")
        return
    seconds = time.monotonic() - start
    what = "; ".join(f"deployment {d.id} ({d.url}) is {d.state}" for d in done)
    if not wait:
        out.step("changed", "deploy", f"started: {what}", seconds)
        return
    out.step("changed", "deploy", what, seconds)
    run_verify(c, out, file=file, env=env)


@runbook_task(read_only="verify", help={
    "window": "keep retrying for up to this many seconds until production passes (default 0: once)",
    "check": READ_ONLY_CHECK,
    **SOURCE_HELP,
})
def verify(c: Context, window: float = 0.0, file: str | None = None, env: bool = False, check: bool = False) -> None:
    """Check production: /auth reports the local session's id and /products answers 200 (exit 1 if not)."""
    from ..core.console import Console

    run_verify(c, Console(), file=file, env=env, window=window)

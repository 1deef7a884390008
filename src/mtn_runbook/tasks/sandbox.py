"""`inv sandbox`: run the stand-ins in the foreground for a rehearsal."""

from __future__ import annotations

from invoke import Context

from .base import runbook_task

__all__ = ["sandbox"]


@runbook_task(help={
    "captcha_delay": "seconds until the stand-in captcha solves itself (default 3; negative: never)",
    "captcha": "self (default): the stand-in captcha solves itself; tap: it waits for a click or tap on its "
               "box, to rehearse `--link` from a phone",
    "deploy_seconds": "how long a stand-in deployment takes to become READY (default 3)",
    "env_file": "also write the variables to this file (dotenv format) for another shell",
    "session_hours": "MTN kills each session after this many hours, or a draw: normal:24,6 / lognormal:72,1.0",
    "session_idle_hours": "MTN kills a session after this many hours without an accepted API call (sliding)",
    "time_scale": "sandbox seconds per wall-clock second for session lifetimes (3600: an hour a second)",
    "check": "check the options and say what would start and be written; start nothing, write nothing",
    "production": "where the app runs: vercel (default) or coolify (prints COOLIFY_* instead of VERCEL_*)",
})
def sandbox(c: Context, captcha_delay: float = 3.0, deploy_seconds: float = 3.0, env_file: str | None = None,
            session_hours: float | None = None, time_scale: float = 1.0, session_idle_hours: float | None = None,
            check: bool = False, production: str = "vercel", captcha: str = "self") -> None:
    """Run local stand-ins for MTN SSO, the MTN API, Vercel, GitHub, Coolify and the app until Ctrl-C."""
    from ..sandbox.__main__ import serve

    serve(captcha_delay=float(captcha_delay), deploy_seconds=float(deploy_seconds), env_file=env_file,
          session_hours=session_hours, time_scale=float(time_scale), session_idle_hours=session_idle_hours,
          check=check, production=production, captcha=captcha)

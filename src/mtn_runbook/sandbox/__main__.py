"""`python -m mtn_runbook.sandbox`: run the stand-ins in the foreground and print the variables
that point at them (`export` lines for a shell; `--env-file` writes them in dotenv form)."""

from __future__ import annotations

import argparse
import shlex
import threading
from pathlib import Path

from . import Sandbox
from .shell import SHELL_MARKER, shell_env

CAPTCHA_MODES = {"self": "self", "tap": "click"}  # --captcha -> Options.captcha


def serve(captcha_delay: float = 3.0, deploy_seconds: float = 3.0, env_file: str | None = None,
          stop: threading.Event | None = None, session_hours: str | float | None = None,
          time_scale: float = 1.0, session_idle_hours: str | float | None = None, check: bool = False,
          production: str = "vercel", captcha: str = "self") -> None:
    from ..core.console import Console
    from ..core.session import write_private

    out = Console()
    from .lifetimes import drawer

    delay = None if captcha_delay < 0 else captcha_delay
    try:  # a plain number of hours, or a draw spec
        session_hours = float(session_hours) if session_hours not in (None, "") else None
    except (TypeError, ValueError):
        pass
    drawer(session_hours)  # a bad spec is one line, exit 2, before anything starts
    from ..core.errors import ConfigError

    if time_scale <= 0:
        raise ConfigError(f"--time-scale {time_scale:g} must be above 0")
    if session_idle_hours not in (None, ""):
        try:
            session_idle_hours = float(session_idle_hours)
        except (TypeError, ValueError):
            session_idle_hours = -1.0
        if not session_idle_hours > 0:
            raise ConfigError("--session-idle-hours must be a number of hours above 0")
    else:
        session_idle_hours = None
    if production not in ("vercel", "coolify"):
        raise ConfigError(f"--production {production!r} must be vercel or coolify")
    if captcha not in CAPTCHA_MODES:
        raise ConfigError(f"--captcha {captcha!r} is not a captcha mode", "use --captcha self (the default) or --captcha tap")
    check_env_file(env_file)
    if check:
        out.line("check: would run the stand-ins on loopback until Ctrl-C"
                 + (f" and write their variables to {env_file} (0600)" if env_file else "")
                 + "; nothing started, nothing written")
        return
    with Sandbox(production=production, captcha_delay=delay, deploy_seconds=deploy_seconds, session_hours=session_hours,
                 time_scale=time_scale, session_idle_hours=session_idle_hours, captcha=CAPTCHA_MODES[captcha],
                 tls=True) as sb:   # gh by hand
        env = shell_env(sb.env())
        lines = [f"export {k}={shlex.quote(v)}" for k, v in env.items()]
        if env_file:
            # quoted: the file is sourced by a shell (`set -a; . file`) and read as dotenv; the
            # Coolify token `3|…` unquoted was a pipe to the shell
            write_private(Path(env_file), "".join(f"{k}={shlex.quote(v)}\n" for k, v in env.items()))
        out.line("Sandbox running on loopback (sandbox credentials only; nothing here is real).")
        out.line(f"A shell with these variables ({SHELL_MARKER}=1) uses only the sandbox: its session "
                 f"and journal under .cache/sandbox/, no .env, no invoke.yaml targets, no webhook.")
        for line in lines:
            out.data(line + "\n")
        if captcha == "tap":
            out.line("The stand-in captcha waits for a click or tap on its box (--captcha tap): "
                     "rehearse `inv recover --link` and solve it from your phone.")
        out.line(f"Admin: {sb.urls['admin']}/admin/state — Ctrl-C to stop.")
        try:
            (stop or threading.Event()).wait()
        except KeyboardInterrupt:
            pass


def check_env_file(env_file: str | None) -> None:
    """`--env-file` goes in a folder that exists (or the runbook's own `.cache/` here, made as every
    task makes it): a typo is one line, not a new folder tree."""
    from ..core.errors import ConfigError

    if not env_file:
        return
    path = Path(env_file).expanduser()
    if path.is_dir():
        raise ConfigError(f"--env-file {env_file} is a folder", "name a file, e.g. --env-file .cache/sandbox.env")
    if not path.parent.is_dir() and path.parent.resolve() != Path(".cache").resolve():
        raise ConfigError(f"--env-file {env_file}: the folder {path.parent} does not exist; nothing was started",
                          f"`mkdir -p {path.parent}` if that is the folder you meant, then run it again")


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m mtn_runbook.sandbox", description=__doc__)
    parser.add_argument("--captcha-delay", type=float, default=3.0)
    parser.add_argument("--deploy-seconds", type=float, default=3.0)
    parser.add_argument("--env-file")
    parser.add_argument("--session-hours", help="hours, or normal:MEAN,SD / lognormal:MEDIAN,SIGMA")
    parser.add_argument("--time-scale", type=float, default=1.0)
    parser.add_argument("--session-idle-hours", help="hours without an accepted API call after which a session dies")
    parser.add_argument("--production", default="vercel", choices=("vercel", "coolify"),
                        help="where the app runs: coolify prints COOLIFY_* instead of VERCEL_*")
    parser.add_argument("--captcha", default="self", choices=sorted(CAPTCHA_MODES),
                        help="self: the stand-in captcha solves itself; tap: it waits for a click or tap")
    args = parser.parse_args()
    serve(args.captcha_delay, args.deploy_seconds, args.env_file, session_hours=args.session_hours,
          time_scale=args.time_scale, session_idle_hours=args.session_idle_hours, production=args.production,
          captcha=args.captcha)


if __name__ == "__main__":
    main()

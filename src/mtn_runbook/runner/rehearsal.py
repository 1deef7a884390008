"""Rehearsals against the sandbox, never against the real configuration.

`--sandbox` runs a task against fresh local stand-ins instead of MTN, Vercel and GitHub. A
*sandbox shell* (one that sourced the env file `inv sandbox --env-file` writes, which sets
MTN_RUNBOOK_SANDBOX=1) gets the same isolation for every task it runs by hand. Either way nothing
of the real configuration leaks in: no `.env`, no invoke.yaml targets or values, no webhook, and a
separate session file and journal, so a rehearsal never touches the real session, the real journal
or a real sink. The two rehearsals keep apart too: a sandbox shell's files are under
`.cache/sandbox/`, a `--sandbox` run's under `.cache/rehearsal/` (its stand-ins live only as long
as the run), so `scripts/demo` in one terminal never replaces the session of a sandbox shell open
in another.
"""

from __future__ import annotations

import contextlib
import os
from typing import Any, Iterator, Mapping
from urllib.parse import urlsplit

from ..core.config import SANDBOX_SHELL_MARKER as SHELL_MARKER
from ..core.config import VARIABLES, Settings
from ..core.errors import ConfigError

URL_VARIABLES = ("MTN_SSO_LOGIN_URL", "MTN_API_BASE_URL", "VERCEL_API_URL", "GITHUB_API_URL", "COOLIFY_API_URL",
                 "PRODUCTION_URL")
# a platform the shell leaves out (neither URL nor token: the Coolify sandbox blanks VERCEL_*, the
# Vercel one COOLIFY_*) makes no target, so its unset URL reaches nothing
OPTIONAL_URLS = {"VERCEL_API_URL": "VERCEL_TOKEN", "COOLIFY_API_URL": "COOLIFY_TOKEN"}
LOOPBACK = {"127.0.0.1", "localhost", "::1"}
REHEARSAL_FOLDER = "rehearsal"   # a --sandbox run's session, journal and lock: not a sandbox shell's .cache/sandbox/


@contextlib.contextmanager
def sandbox_settings(base: Settings, captcha_delay: float | None = 1.0,
                     deploy_seconds: float = 2.0, captcha: str = "self") -> Iterator[Settings]:
    from ..sandbox import Sandbox

    with Sandbox(captcha_delay=captcha_delay, deploy_seconds=deploy_seconds, captcha=captcha) as sb:
        env = dict(sb.env())
        env["MTN_SESSION_FILE"] = str(base.cache_dir / REHEARSAL_FOLDER / "mtn-session.json")
        if base.chromium_path:
            env["PLAYWRIGHT_CHROMIUM_EXECUTABLE_PATH"] = base.chromium_path
        yield Settings.load({}, environ=env, use_dotenv=False)


def in_sandbox_shell(environ: Mapping[str, str] | None = None) -> bool:
    return (os.environ if environ is None else environ).get(SHELL_MARKER) == "1"


def shell_settings(environ: Mapping[str, str] | None = None, **flags: Any) -> Settings | None:
    """Settings for a task run in a sandbox shell (None outside one): only the shell's sandbox
    variables, whatever `.env` and invoke.yaml say, and refused when a URL leaves loopback."""
    environ = os.environ if environ is None else environ
    if not in_sandbox_shell(environ):
        return None   # every task asks: outside a sandbox shell, no part of the sandbox is loaded
    from ..sandbox.shell import FORCED

    env = {name: environ.get(name, "") for name in VARIABLES}
    env.update(FORCED)
    for name in URL_VARIABLES:
        if not env[name] and name in OPTIONAL_URLS and not env[OPTIONAL_URLS[name]]:
            continue
        host = urlsplit(env[name]).hostname if env[name] else None
        if host not in LOOPBACK:
            raise ConfigError(
                f"sandbox shell ({SHELL_MARKER}=1), but {name} {'is not set' if not env[name] else 'is not on loopback'}: "
                "this shell would reach a real service",
                "start `inv sandbox --env-file .cache/sandbox.env` and source that file again, "
                f"or leave the sandbox shell (`unset {SHELL_MARKER}`)")
    return Settings.load({}, environ=env, use_dotenv=False, **flags)

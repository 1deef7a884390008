"""`--sandbox`: run a task against fresh local stand-ins instead of MTN, Vercel and GitHub.

Nothing of the real configuration leaks in: no `.env`, no invoke.yaml targets, no webhook, and a
separate session file and journal under `.cache/sandbox/`, so a rehearsal never touches the real
session.
"""

from __future__ import annotations

import contextlib
from typing import Iterator

from ..core.config import Settings


@contextlib.contextmanager
def sandbox_settings(base: Settings, captcha_delay: float | None = 1.0,
                     deploy_seconds: float = 2.0) -> Iterator[Settings]:
    from ..sandbox import Sandbox

    with Sandbox(captcha_delay=captcha_delay, deploy_seconds=deploy_seconds) as sb:
        env = dict(sb.env())
        env["MTN_SESSION_FILE"] = str(base.cache_dir / "sandbox" / "mtn-session.json")
        if base.chromium_path:
            env["PLAYWRIGHT_CHROMIUM_EXECUTABLE_PATH"] = base.chromium_path
        yield Settings.load({}, environ=env, use_dotenv=False)

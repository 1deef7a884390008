"""The variables a sandbox shell sources (`inv sandbox --env-file`, then `set -a; . FILE`).

Besides the stand-ins' URLs and credentials they carry the marker MTN_RUNBOOK_SANDBOX=1, which
makes every task in that shell read nothing of the real configuration (runner/rehearsal.py), the
sandbox's own session file, and every other variable of the design set empty, so a real value
exported earlier in the same shell (a token, a webhook) is cleared.
"""

from __future__ import annotations

from pathlib import Path
from typing import Mapping

from ..core.config import SANDBOX_SHELL_MARKER as SHELL_MARKER
from ..core.config import VARIABLES

SANDBOX_SESSION_FILE = Path(".cache/sandbox/mtn-session.json")
# what a sandbox shell never takes from anywhere: its own files, and no alert sink at all
FORCED = {"MTN_SESSION_FILE": str(SANDBOX_SESSION_FILE), "ALERT_WEBHOOK_URL": ""}


def shell_env(sandbox_env: Mapping[str, str]) -> dict[str, str]:
    env = {SHELL_MARKER: "1", **{name: "" for name in VARIABLES}, **sandbox_env, **FORCED}
    env.pop("PLAYWRIGHT_CHROMIUM_EXECUTABLE_PATH", None)  # the shell's own browser setting is fine
    return env

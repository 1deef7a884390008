"""Invoke entry point: `inv --list` shows the runbook's tasks (see runbooks/)."""

from mtn_runbook.tasks import ns  # noqa: F401
from mtn_runbook.tasks.base import install_crash_hook

install_crash_hook()

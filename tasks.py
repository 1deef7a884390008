"""Invoke entry point: `inv --list` shows the runbook's tasks (see runbooks/)."""

from mtn_runbook.tasks import ns  # noqa: F401

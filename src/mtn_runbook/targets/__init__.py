"""Where a session goes: Vercel env vars, Coolify env vars, GitHub secrets, env files on SSH hosts.

Every target follows one shape (target.py; look, act unless --check, look again):

    read(value)            -> Current   what it holds now; whether that is already `value`
    put(value, current)                 store `value` (never delete-then-add)
    verify(value, current)              read back: raise when the target does not hold it
    activate()                          make it live where that is part of the push (SSH restart)

A target reads what it holds once before its write and once after it. `read` fills
`Current.before` and `verify` fills `Current.after` (a targets/holding.py Holding): the run's
two-operator guard compares the first with what it noted as the run started, and the recap
reports the second; neither needs a read of its own. A target object keeps what it learnt
(Vercel's env ids and values, GitHub's public key) for the rest of the run.

`configured(settings, kind)` (registry.py) builds the targets from invoke.yaml `targets:`
(entry.py checks each entry) or, with none listed, from VERCEL_* / GITHUB_* / COOLIFY_* variables.
`push(settings, value, ...)` (pushing.py) pushes to all of them concurrently; one target's
failure does not stop the others. The caller validates the session first (tasks/push.py):
nothing here decides whether a session deserves pushing.
"""

from __future__ import annotations

from .pushing import push
from .registry import configured
from .target import Current, PushResult, Target

__all__ = ["Current", "PushResult", "Target", "configured", "push"]

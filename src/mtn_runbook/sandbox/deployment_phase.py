"""Where a stand-in's deployment is in its build, from the time alone: queued for the first third
of its duration, building for the rest, then in its final state for good (Vercel's QUEUED ->
BUILDING -> READY|ERROR|CANCELED, Coolify's queued -> in_progress -> finished|failed).

A deployment here is a dict with `created` (a time.time()), `duration` (seconds, read from the
options when it was created) and `final` (the state it ends in).
"""

from __future__ import annotations


def phase(dep: dict, now: float, queued: str, building: str) -> str:
    """The deployment's state at `now`, named with the stand-in's own words for the first two."""
    elapsed = now - dep["created"]
    if elapsed >= dep["duration"]:
        return dep["final"]
    return queued if elapsed < dep["duration"] / 3 else building


def building_at(dep: dict) -> float:
    """When the deployment left the queue (or will)."""
    return dep["created"] + dep["duration"] / 3

"""Two operators at once: what each target holds, read from the target itself.

The session lock is local: a second operator on another machine cannot see it. So a run notes what
every target holds when it starts (`look`), looks again just before pushing and refuses when a
target changed in between (`changed`: someone else pushed), and its recap reports what each
target holds after the run, read back (`look` again), not what was sent.

A target that can say what it holds has `holding() -> Holding` (Vercel: the variables' ids,
`updatedAt` and, where readable, the value's fingerprint; GitHub: the secret's `updated_at`; SSH:
the fingerprint of the env file's MTN_SESSION value and the file's mtime).
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from ..core import deadline
from ..core.errors import LockHeld, RunbookError


@dataclass(frozen=True)
class Holding:
    stamp: str | None = None         # changes whenever the stored value changes; None: cannot tell
    fingerprint: str | None = None   # of the stored value, where the service gives it back
    updated: str | None = None       # when it last changed, as the service says
    problem: str | None = None       # why it could not be read
    error: Any = field(default=None, compare=False, repr=False)  # the RunbookError behind `problem`

    def describe(self, ours: str | None, pushed: "Holding | None" = None) -> str:
        """What the recap says the target holds; `pushed`: what it held right after this run's push
        (a value that cannot be read back is this run's while it has not changed since)."""
        if self.problem:
            return f"unknown ({self.problem})"
        if self.fingerprint:
            return self.fingerprint if self.fingerprint == ours else f"{self.fingerprint} (NOT this run's {ours})"
        if pushed is not None and pushed.stamp is not None and pushed.stamp == self.stamp and ours:
            return ours
        if self.updated:
            later = ", after this run's push (another run?)" if pushed is not None else ""
            return f"not readable; last written {self.updated}{later}"
        return "nothing" if self.stamp == "absent" else "unknown"


class TargetChanged(LockHeld):
    """Exit 5, as for a run holding the lock: another run is changing the same targets."""
    default_hint = ("another operator may be recovering at the same time: agree who goes on, "
                    "then `inv recover --resume` pushes this run's session anyway")


LOOK_DEADLINE = 15.0   # seconds one look may take: it must not hold up an incident


def _look_one(target: Any) -> Holding:
    if not hasattr(target, "holding"):
        return Holding()
    try:
        with deadline.within(LOOK_DEADLINE):
            return target.holding()
    except RunbookError as e:
        return Holding(problem=e.message, error=e)
    finally:
        target.close()


def look(targets: list[Any]) -> dict[str, Holding]:
    """What each target holds now (read-only, concurrently), by target name."""
    if not targets:
        return {}
    with ThreadPoolExecutor(max_workers=len(targets)) as pool:
        found = list(pool.map(_look_one, targets))
    return {t.name: h for t, h in zip(targets, found)}


def changed(before: dict[str, Holding], now: dict[str, Holding], ours: str) -> list[str]:
    """One line per target whose value changed between the two looks to something that is not
    `ours` (a fingerprint): another run pushed there."""
    lines = []
    for name, was in before.items():
        is_ = now.get(name)
        if is_ is None or was.stamp is None or is_.stamp is None or was.stamp == is_.stamp:
            continue
        if is_.fingerprint == ours:
            continue  # it already holds this run's session (e.g. a resumed run)
        when = f" at {is_.updated}" if is_.updated else ""
        held = f" (now holds {is_.fingerprint})" if is_.fingerprint else ""
        lines.append(f"{name} was changed{when}{held}")
    return lines


def refuse_if_changed(before: dict[str, Holding], targets: list[Any], ours: str) -> None:
    """Raise TargetChanged naming every target someone else pushed to since `before`."""
    lines = changed(before, look(targets), ours)
    if lines:
        raise TargetChanged(f"not pushing: {'; '.join(lines)} since this run started")

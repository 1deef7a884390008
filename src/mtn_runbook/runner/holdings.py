"""Which targets a run pushes to, and what they hold before and after it.

Before: what every target holds as the run starts, so the push can see whether another operator
pushed meanwhile (targets/holding.py). After: read back for the recap (what each holds, not what
was sent). Both are read-only; a target that cannot be read is not compared.
"""

from __future__ import annotations

from ..core.errors import RunbookError
from .engine import Run


def chosen_targets(run: Run):
    """The configured targets, less those --only/--skip-target leave out."""
    from ..targets import configured
    from ..targets.selection import select

    return select(configured(run.settings), only=run.facts.get("only", ()), skip=run.facts.get("skip", ()))


def preflight_targets(run: Run):
    """The targets the login's preflight checks: the chosen ones, or None for every configured one."""
    return chosen_targets(run) if run.facts.get("only") or run.facts.get("skip") else None


def note_holdings(run: Run) -> None:
    """What every target holds as this run starts (once per run)."""
    if run.check or "holdings" in run.facts:
        return
    held = _look(run)
    run.facts["holdings"] = {} if held is None else held   # bad configuration: the push step says so


def read_back(run: Run) -> None:
    """What every target holds after the run, for the recap (a resumed run that pushed nothing
    itself still says what each target holds)."""
    if run.check or not (run.facts.get("targets") or run.resumed_from):
        return
    held = _look(run)
    if held is not None:
        run.facts["held_after"] = held


def _look(run: Run) -> dict | None:
    """Every configured target's holding, read now; None when the configuration is bad."""
    from ..targets import configured
    from ..targets.holding import look

    try:
        return look(configured(run.settings))
    except RunbookError:
        return None

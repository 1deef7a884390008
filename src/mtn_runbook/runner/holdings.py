"""Which targets a run pushes to, and what they hold before and after it.

A run builds its targets once (`run_targets`): each keeps what it learnt (Vercel's env ids and
values, GitHub's public key) for the rest of the run. Before: what every target holds as the run
starts (`note_holdings`, the first look), so the push can see whether another operator pushed
meanwhile (targets/holding.py): the push's own read before its write is the one compared (`guard`),
not a look of its own. After: the push's read-back, which the recap reports (what each holds,
not what was sent). A target that cannot be read is not compared.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Callable

from ..core.errors import RunbookError
from .engine import Run

if TYPE_CHECKING:
    from ..core.pushed import Pushed
    from ..targets import Current, PushResult, Target
    from ..targets.holding import Holding


def run_targets(run: Run) -> list[Target]:
    """Every configured target, built once per run (raises ConfigError on bad configuration)."""
    built = run.facts.configured
    if built is None:
        from ..targets import configured

        built = run.facts.configured = configured(run.settings)
    return built


def chosen_targets(run: Run) -> list[Target]:
    """The configured targets, less those --only/--skip-target leave out."""
    from ..targets.selection import select

    return select(run_targets(run), only=run.facts.only, skip=run.facts.skip)


def preflight_targets(run: Run) -> list[Target]:
    """The targets the login's preflight checks: the chosen ones, or every configured one."""
    return chosen_targets(run) if run.facts.only or run.facts.skip else run_targets(run)


def note_holdings(run: Run) -> None:
    """What every target holds as this run starts (once per run): the first look."""
    if run.check or run.facts.holdings is not None:
        return
    try:
        # every configured target, chosen or not: a push to one of them is still another operator's
        from ..targets.holding import look

        held = look(run_targets(run))
    except RunbookError:
        held = {}   # bad configuration: the push step says so
    run.facts.holdings = held


def guard(run: Run, ours: str) -> Callable[[dict[str, Holding | None]], None]:
    """The push's two-operator check: what each target held at its read before the write against
    the first look; a target whose read says nothing (`None`) is looked at once more."""
    from ..targets.holding import TargetChanged, changed, look

    def check(now: dict[str, Holding | None]) -> None:
        first = run.facts.holdings or {}
        # a target whose first look told nothing (it failed) has nothing to compare: not looked at again
        silent = [t for t in chosen_targets(run) if now.get(t.name) is None
                  and getattr(first.get(t.name), "stamp", None) is not None]
        held = {**{k: v for k, v in now.items() if v is not None}, **look(silent)}
        lines = changed(first, held, ours)
        if lines:
            raise TargetChanged(f"not pushing: {'; '.join(lines)} since this run started")

    return check


def push_guarded(run: Run, value: Pushed) -> list[PushResult]:
    """Push `value` (core/pushed.py's, validated) to the chosen targets with the two-operator
    guard: each target's read before its write is compared with the first look, and a target
    changed since then stops the push (TargetChanged, exit 5). `inv push` and recover's push
    step both push through here."""
    from ..targets import push as push_all

    guarded, looked, targets = None, None, chosen_targets(run)
    if not run.check:
        note_holdings(run)  # a run that starts at its push (`inv push`, --from, --resume) compares from here
        guarded = guard(run, value.fingerprint)
        looked = taken_ahead(run, value.value) or _read_unless_refused(run, targets, value.value)
    results = push_all(run.settings, value.value, console=run.console, check=run.check, targets=targets,
                       guard=guarded, looked=looked)
    if not run.check:  # what each target holds right after this push (its read-back), for the recap
        note_pushed(run, results)
    return results


def _read_unless_refused(run: Run, targets: list[Target], value: str) -> list[Current | PushResult] | None:
    """The push's reads, less the targets whose first look was refused for bad configuration (a
    wrong token, an unknown host key): they fail with that answer rather than ask again. None (the
    push reads them all) when the first look refused none."""
    from ..core.errors import ConfigError
    from ..targets.pushing import failed, read_all

    first = run.facts.holdings or {}
    refused = {t.name: e for t in targets if isinstance(e := getattr(first.get(t.name), "error", None), ConfigError)}
    if not refused:
        return None
    read = iter(read_all([t for t in targets if t.name not in refused], value))
    return [failed(t, refused[t.name]) if t.name in refused else next(read) for t in targets]


def note_pushed(run: Run, results: list[PushResult]) -> None:
    """What each target held right after the push (its read-back), for the recap."""
    held = {r.name: r.held for r in results if getattr(r, "held", None) is not None}
    run.facts.held_after_push = run.facts.held_after = held


def read_back(run: Run) -> None:
    """For the recap, what every pushed target that read nothing back holds now (the push's
    read-back serves the others); a resumed run that pushed nothing itself still says what each
    target holds."""
    if run.check or not (run.facts.results or run.resumed_from):
        return
    from ..targets.holding import look

    have = run.facts.held_after or {}
    pushed = {r.name for r in run.facts.results or ()}
    try:
        missing = [t for t in chosen_targets(run) if t.name not in have and (t.name in pushed or not pushed)]
    except RunbookError:
        return
    if missing:
        run.facts.held_after = {**have, **look(missing)}


def read_ahead(run: Run, value: str) -> None:
    """Start the push's reads (what each chosen target holds just before its write) on a thread,
    after the first look: they wait on nothing else the run does (the login's adoption, the
    value's validation), so they need not wait for it either. `taken_ahead` collects them."""
    if run.check or run.facts.read_ahead is not None:
        return
    from concurrent.futures import ThreadPoolExecutor

    from ..targets.pushing import read_all

    def read() -> list[Current | PushResult]:
        note_holdings(run)  # the guard compares against the first look: it comes first
        return read_all(chosen_targets(run), value)

    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="read-ahead")
    run.facts.read_ahead = (value.strip(), pool.submit(read))
    pool.shutdown(wait=False)


def taken_ahead(run: Run, value: str) -> list[Current | PushResult] | None:
    """The reads `read_ahead` started for `value`, or None (read them now) when there are none
    for it or they failed as a whole (bad configuration: the push says so)."""
    ahead, run.facts.read_ahead = run.facts.read_ahead, None
    if ahead is None or ahead[0] != value.strip():
        return None
    try:
        return ahead[1].result()
    except RunbookError:
        return None

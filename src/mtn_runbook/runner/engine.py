"""The runbook engine: steps that look, act (unless in check mode) and look again.

A Step is a named function of the Run; it returns a StepResult whose outcome is
"ok" (nothing to do), "changed", "skipped", "would" (check mode: what it would change), or it
raises a RunbookError ("failed"). A plan is an ordered list of steps; `execute` runs it,
prints one line per step, journals every step, and stops at the first failure. Resume picks up
after the last finished step of an unfinished run of the same task.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Callable, Sequence

from ..core.config import Settings
from ..core.console import Console
from ..core.errors import ConfigError, RunbookError
from ..core.journal import Journal
from ..core.session import Session
from ..core.times import iso, now, parse_time
from .state import Facts

FINISHED = ("ok", "changed", "skipped", "would")


@dataclass
class StepResult:
    outcome: str
    detail: str = ""


@dataclass(frozen=True)
class Step:
    name: str
    run: Callable[["Run"], StepResult]
    about: str = ""          # one line for `--check` and the runbooks
    waits_for_person: bool = False


@dataclass
class StepRecord:
    name: str
    outcome: str
    seconds: float
    detail: str = ""


@dataclass
class Run:
    """What the steps of one run share: settings, output, mode, and the session in hand."""
    task: str
    settings: Settings
    console: Console
    check: bool = False
    journal: Journal | None = None
    run_id: str = field(default_factory=lambda: time.strftime("%Y%m%dT%H%M%S") + "-" + secrets.token_hex(3))
    session: Session | None = None
    facts: Facts = field(default_factory=Facts)   # what steps learn for later steps and the recap
    records: list[StepRecord] = field(default_factory=list)
    started: float = field(default_factory=time.monotonic)
    started_at: datetime = field(default_factory=now)
    person_seconds: float = 0.0
    error: RunbookError | None = None
    # an incident can span runs (--resume): when its first run started, and what came before
    incident_started: datetime | None = None
    earlier_person_seconds: float = 0.0
    resumed_from: str | None = None
    skip_reason: str = "done in the interrupted run"
    # a run that brought production back but left targets stale: it ends "partial", naming them,
    # and --resume pushes to those (`finishing`), then verifies
    left_behind: RunbookError | None = None
    left_targets: tuple[str, ...] = ()
    finishing: tuple[str, ...] = ()
    # what to let go of when the run ends, after its last step (the browser a login used)
    closers: list[Callable[[], None]] = field(default_factory=list)

    def __post_init__(self) -> None:
        if self.journal is None:
            self.journal = Journal(self.settings.journal_file)

    @property
    def fingerprint(self) -> str | None:
        return self.session.fingerprint if self.session else None

    @property
    def elapsed(self) -> float:
        return time.monotonic() - self.started

    @property
    def succeeded(self) -> bool:
        return self.error is None

    @property
    def incident_seconds_before(self) -> float:
        """Seconds from the incident's first run's start to this run's start (0 for a fresh run)."""
        if self.incident_started is None:
            return 0.0
        return max(0.0, (self.started_at - self.incident_started).total_seconds())


def execute(run: Run, plan: Sequence[Step], *, start_at: int = 0) -> Run:
    """Run `plan` from index `start_at`; earlier steps are journaled as carried over."""
    if run.check:
        run.console.banner("CHECK MODE: nothing will be changed")
    _record(run, "run", run=run.run_id, task=run.task, event="start", check=run.check,
                      start_at=plan[start_at].name if start_at < len(plan) else None,
                      resumes=run.resumed_from, incident_started=iso(run.incident_started or run.started_at),
                      person_seconds_before=round(run.earlier_person_seconds, 3),
                      **({"finishing": list(run.finishing)} if run.finishing else {}))
    for step in plan[:start_at]:
        run.records.append(StepRecord(step.name, "skipped", 0.0, run.skip_reason))
    try:
        _steps(run, plan[start_at:])
    finally:
        while run.closers:
            run.closers.pop()()
    partial = run.error is None and run.left_behind is not None
    _record(run, "run", run=run.run_id, task=run.task, event="end",
                      outcome="failed" if run.error else "partial" if partial else "done",
                      seconds=round(run.elapsed, 3), fingerprint=run.fingerprint, check=run.check,
                      **({"left": list(run.left_targets)} if partial else {}))
    if run.check:
        run.console.banner("CHECK MODE: nothing was changed")
    return run


def _steps(run: Run, plan: Sequence[Step]) -> None:
    for step in plan:
        began = time.monotonic()
        try:
            result = step.run(run)
        except RunbookError as e:
            result, run.error = StepResult("failed", e.line()), e
        except KeyboardInterrupt:
            from ..core.errors import Interrupted

            run.error = Interrupted(f"interrupted during {step.name}")
            result = StepResult("failed", "interrupted")
        seconds = time.monotonic() - began
        if step.waits_for_person and result.outcome == "changed":
            run.person_seconds += seconds
        run.records.append(StepRecord(step.name, result.outcome, seconds, result.detail))
        _record(run, "step", run=run.run_id, task=run.task, step=step.name, outcome=result.outcome,
                          seconds=round(seconds, 3), detail=result.detail[:300], fingerprint=run.fingerprint,
                          check=run.check)
        # the failing step's line says what failed; its hint is said once, on the run's last line
        run.console.step(result.outcome, step.name, run.error.message if run.error else result.detail, seconds)
        if run.error:
            break


def _record(current: Run, kind: str, /, **fields: Any) -> None:
    """Journal a run's progress; a check run writes nothing (not even the journal)."""
    if not current.check and current.journal is not None:
        current.journal.write(kind, **fields)


def resume_point(journal: Journal, task: str, plan: Sequence[Step]) -> tuple[int, dict[str, Any] | None]:
    """Where to continue the last run of `task`: (index of the first unfinished step, the last
    finished step's entry). A resumed run that finished no step (deploy failed again) continues
    where the run it resumed left off. (0, None) when the last run finished or there is none."""
    runs = [e for e in journal.entries("run", task=task) if not e.get("check")]
    if not runs or runs[-1].get("event") == "end" and runs[-1].get("outcome") == "done":
        return 0, None
    names = [s.name for s in plan]
    run_id, seen = runs[-1]["run"], set()
    while run_id and run_id not in seen:  # a resumed run that finished nothing: the run it resumed
        seen.add(run_id)
        done = [e for e in journal.entries("step", run=run_id) if e.get("step") in names and e.get("outcome") in FINISHED]
        if done:
            return names.index(done[-1]["step"]) + 1, done[-1]
        run_id = (journal.last("run", run=run_id, event="start") or {}).get("resumes")
    return 0, None


def last_run(journal: Journal, task: str) -> dict[str, Any] | None:
    """The last journal entry (start or end) of a real run (not --check) of `task`."""
    runs = [e for e in journal.entries("run", task=task) if not e.get("check")]
    return runs[-1] if runs else None


def finished_run(journal: Journal, task: str) -> dict[str, Any] | None:
    """The end entry of the last real run of `task` when that run finished: nothing to resume."""
    last = last_run(journal, task)
    return last if last and last.get("event") == "end" and last.get("outcome") == "done" else None


def left_undone(journal: Journal, task: str) -> dict[str, Any] | None:
    """The end entry of the partial run (production back, `left` targets stale) that the last run
    of `task` is, or that the last run set out to finish and failed before its push was done."""
    last, seen = last_run(journal, task), set()
    while last and last.get("run") not in seen:
        seen.add(last["run"])
        if last.get("event") == "end" and last.get("outcome") == "partial":
            return last
        start = journal.last("run", run=last["run"], event="start") or {}
        push = journal.last("step", run=last["run"], step="push")
        if not start.get("finishing") or push and push.get("outcome") in FINISHED:
            return None   # not finishing a partial run, or its push is done: an ordinary resume
        last = journal.last("run", run=start.get("resumes"), event="end")
    return None


def carry_over(run: Run, journal: Journal, interrupted: str, plan: Sequence[Step]) -> None:
    """Make `run` the continuation of run `interrupted`: the incident's start, the time already
    spent waiting for the person, and why the steps before it are skipped."""
    start = journal.last("run", run=interrupted, event="start") or {}
    try:
        began = parse_time(start.get("incident_started") or start.get("ts"), "ts")
    except RunbookError:
        began = None
    human = {s.name for s in plan if s.waits_for_person}
    waited = sum(float(e.get("seconds") or 0) for e in journal.entries("step", run=interrupted)
                 if e.get("step") in human and e.get("outcome") == "changed")
    run.incident_started = began
    run.earlier_person_seconds = float(start.get("person_seconds_before") or 0) + waited
    run.resumed_from = interrupted
    run.skip_reason = f"done in the interrupted run {interrupted}"


def start_index(plan: Sequence[Step], name: str) -> int:
    names = [s.name for s in plan]
    if name not in names:
        raise ConfigError(f"no step named {name!r}", f"steps are: {', '.join(names)}")
    return names.index(name)

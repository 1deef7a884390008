"""Where a run of `recover` or `refresh` starts, and the run itself under the session lock:
`--from STEP` (a later step needs the saved session, validated), `--resume` (after the last
finished step of the unfinished run, the same incident; a partial run's stale targets first), or
the beginning. The task only parses flags, prints the recap and maps the result to an exit code."""

from __future__ import annotations

from typing import Any, Sequence

from ..core.config import Settings
from ..core.console import Console
from ..core.session import Session
from .engine import Run, Step, carry_over, execute, finished_run, last_run, left_undone, resume_point, start_index
from .state import Facts


def run_locked(task: str, plan: Sequence[Step], settings: Settings, console: Console, facts: Facts, *,
               check: bool, resume: bool, from_: str | None) -> tuple[Run, bool]:
    """Take the session lock, work out the first step, run the plan. (the run, whether it ran):
    a --resume with nothing to resume has said so and runs nothing."""
    from ..core import session as sessions
    from .holdings import chosen_targets, read_back

    with sessions.lock(settings.session_file, check=check):
        run = Run(task=task, settings=settings, console=console, check=check)
        run.facts = facts
        if facts.only or facts.skip:  # a mistyped NAME: exit 2 now, not after the login
            chosen_targets(run)
        start = start_point(run, plan, resume=resume, from_=from_)
        if start is None:  # --resume with nothing to resume: said so; no browser, nothing journaled
            return run, False
        execute(run, plan, start_at=start)
        run.error = run.error or run.left_behind  # production is back; a target is not
        read_back(run)  # the recap says what each target holds now, not what was sent
    return run, True


def start_point(run: Run, plan: Sequence[Step], *, resume: bool, from_: str | None) -> int | None:
    """Index of the first step to run, for --from and --resume; None when there is nothing to resume."""
    from ..core.errors import ConfigError, SessionExpired
    from ..mtn.api import validate
    from .value import current_session

    if from_:
        index = start_index(plan, from_)
        run.skip_reason = f"not run: --from {from_}"
        if index > 1:
            run.session = current_session(run)
            if run.session is None:
                raise ConfigError(f"--from {from_} needs a saved session", "run `inv auth` first, or start from the beginning")
            verdict = validate(run.settings, run.session, record=not run.check)
            if not verdict.valid:  # never push a session the API has not just accepted
                raise SessionExpired(f"--from {from_}: the saved session does not validate ({verdict.message})",
                                     "run `inv recover` from the beginning")
        return index
    if not resume:
        return 0
    journal = run.journal
    assert journal is not None   # set as the Run is made
    finished = finished_run(journal, run.task)
    run.facts.last_run = finished
    if finished is not None:
        run.console.ok(f"the last run finished at {finished.get('ts')}; nothing to resume "
                       f"(`inv {run.task}` starts a new one)")
        return None
    interrupted = last_run(journal, run.task)
    if interrupted is None:
        run.console.ok(f"no earlier `inv {run.task}` run is recorded; nothing to resume (`inv {run.task}` starts one)")
        return None
    carry_over(run, journal, interrupted["run"], plan)  # same incident, whatever step it resumes at
    partial = left_undone(journal, run.task)
    if partial is not None:
        return _finish(run, plan, partial)
    index, last = resume_point(journal, run.task, plan)
    if index <= 1 or last is None:
        run.console.line(f"The interrupted run {interrupted['run']} finished no step worth keeping: "
                         "starting from the beginning.")
        return 0
    if last.get("run") and last["run"] != interrupted["run"]:
        run.skip_reason = f"done in the interrupted run {last['run']}"  # a resume that failed again
    session = _same_session(run, last.get("fingerprint"), "the interrupted run was using")
    if session is None:
        return 0
    verdict = validate(run.settings, session, record=not run.check)
    if not verdict.valid:
        run.console.warn(f"the interrupted run's session no longer validates ({verdict.message}): starting over")
        return 0
    run.session = session
    # the id the renew line printed (`session 9162…E67F`), not the file's fingerprint, which no other line shows
    run.console.line(f"Resuming {run.task} at step {plan[index].name} with session {session.short_id} "
                     "(still valid: no new login needed).")
    return index


def _same_session(run: Run, fingerprint: str | None, what: str) -> Session | None:
    """The saved session when it is the one the earlier run used (`what` it did), else None: start over."""
    from .value import current_session

    session = current_session(run)
    if session is None or session.fingerprint != fingerprint:
        run.console.warn(f"the saved session is not the one {what}: starting over")
        return None
    return session


def _finish(run: Run, plan: Sequence[Step], partial: dict[str, Any]) -> int:
    """--resume of a run that brought production back but left targets stale: push to those
    (the same session, validated again), then deploy only if production needs it, then verify."""
    from ..core.errors import SessionExpired
    from ..mtn.api import validate

    left = tuple(partial.get("left") or ())
    session = _same_session(run, partial.get("fingerprint"), "the partial run pushed")
    if session is None:
        return 0
    verdict = validate(run.settings, session, record=not run.check)
    if not verdict.valid:
        raise SessionExpired(f"the partial run's session no longer validates ({verdict.message}); "
                             f"{', '.join(left)} still hold the old value",
                             f"run `inv {run.task}` (a new login, pushed everywhere)")
    run.session, run.finishing = session, left
    if not run.facts.only and not run.facts.skip:
        run.facts.only = left
    run.skip_reason = f"done in the partial run {partial['run']}"
    run.console.line(f"Resuming {run.task}: pushing session {session.short_id} to what run {partial['run']} "
                     f"left behind ({', '.join(left)}), then checking production.")
    return start_index(plan, "push")

"""`inv recover` (the incident path) and `inv refresh` (the proactive daily login)."""

from __future__ import annotations

from ..core.errors import ExitCode
from .base import runbook_task, settings

__all__ = ["recover", "refresh"]

COMMON_HELP = {
    "check": "say what each step would change, change nothing (no browser, no writes, no deploy)",
    "resume": "continue the last unfinished run after its last finished step (no second login "
              "while that session still validates)",
    "from_": "start at this step (validate, renew, validate-new, export, push, deploy, verify)",
    "sandbox": "rehearse against fresh local stand-ins (headless; never touches the real session)",
    "headless": "run the browser without a window (only the sandbox's captcha can be solved so)",
    "timeout": "seconds to wait for the person to finish the login (default 300)",
    "json": "print the recap as JSON on stdout (progress goes to stderr)",
    "only": "push only to this target (its name, its kind, or a pattern such as 'ssh *'); repeatable",
    "skip_target": "leave this target out of the push (same forms as --only); repeatable",
    "link": "log in through a one-time link (headless browser here, the captcha solved from any "
            "browser, e.g. a phone); see runbooks/session-refresh.md",
}


@runbook_task(help=COMMON_HELP, iterable=["only", "skip_target"])
def recover(c, check=False, resume=False, from_=None, sandbox=False, headless=False, timeout=300.0, json=False,
            link=False, only=None, skip_target=None):
    """Bring production back: validate → extend or log in → validate → export → push → deploy → verify."""
    from ..runner.recovery import RECOVER

    _run(c, "recover", RECOVER, check=check, resume=resume, from_=from_, sandbox=sandbox,
         headless=headless, timeout=timeout, json=json, link=link, only=only, skip=skip_target)


@runbook_task(help={k: v for k, v in COMMON_HELP.items() if k != "from_"} | {
    "from_": "start at this step (login, validate-new, export, push, deploy, verify)"}, iterable=["only", "skip_target"])
def refresh(c, check=False, resume=False, from_=None, sandbox=False, headless=False, timeout=300.0, json=False,
            link=False, only=None, skip_target=None):
    """Proactive refresh before expiry: always log in again, then validate → export → push → deploy → verify."""
    from ..runner.recovery import REFRESH

    _run(c, "refresh", REFRESH, check=check, resume=resume, from_=from_, sandbox=sandbox,
         headless=headless, timeout=timeout, json=json, link=link, only=only, skip=skip_target)


def _run(c, task, plan, *, check, resume, from_, sandbox, headless, timeout, json, link, only=(), skip=()):
    import contextlib

    from invoke import Exit

    from ..core import session as sessions
    from ..core.console import Console
    from ..core.errors import ConfigError
    from ..runner.recap import print_recap, recap_data
    from ..runner.rehearsal import sandbox_settings
    from ..runner.engine import Run, execute
    from ..runner.state import Facts
    from ..runner.holdings import read_back

    out = Console(json_mode=json)
    base = settings(c)
    if resume and from_:
        raise ConfigError("--resume and --from go separately", "use one of them")
    from ..mtn.sso import login_timeout

    timeout = login_timeout(timeout)
    # with --link, the stand-in captcha waits for the person's tap, as the real one does
    scope = sandbox_settings(base, captcha="click" if link else "self") if sandbox else contextlib.nullcontext(base)
    with scope as active:
        if sandbox:
            out.line("Rehearsal: running against local stand-ins of MTN, Vercel, GitHub and the app."
                     + (" The stand-in captcha waits for your tap through the link." if link else ""))
            from ..core.console import protect

            protect(*active.secrets())
        with sessions.lock(active.session_file, check=check):
            run = Run(task=task, settings=active, console=out, check=check)
            run.facts = Facts(headless=bool(headless or sandbox), timeout=float(timeout), link=bool(link),
                              only=tuple(only or ()), skip=tuple(skip or ()))
            if only or skip:  # a mistyped NAME: exit 2 now, not after the login
                from ..runner.holdings import chosen_targets

                chosen_targets(run)
            start = _start(run, plan, resume=resume, from_=from_)
            if start is None:  # --resume with nothing to resume: said so; no browser, nothing journaled
                if json:
                    out.json({"task": task, "outcome": "nothing to resume", "exitCode": ExitCode.DONE,
                              "lastRun": run.facts.last_run})
                return
            execute(run, plan, start_at=start)
            run.error = run.error or run.left_behind  # production is back; a target is not
            read_back(run)  # the recap says what each target holds now, not what was sent
        if json:
            out.json(recap_data(run))
        else:
            print_recap(run, out)
    if run.error:
        raise Exit(f"✘ {run.error.line()}", run.error.exit_code)


def _start(run, plan, *, resume, from_):
    """Index of the first step to run, for --from and --resume; None when there is nothing to resume."""
    from ..core.errors import ConfigError, SessionExpired
    from ..mtn.api import validate
    from ..runner.recovery import current_session
    from ..runner.engine import carry_over, finished_run, last_run, left_undone, resume_point, start_index

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
    finished = finished_run(run.journal, run.task)
    run.facts.last_run = finished
    if finished is not None:
        run.console.ok(f"the last run finished at {finished.get('ts')}; nothing to resume "
                       f"(`inv {run.task}` starts a new one)")
        return None
    interrupted = last_run(run.journal, run.task)
    if interrupted is None:
        run.console.ok(f"no earlier `inv {run.task}` run is recorded; nothing to resume (`inv {run.task}` starts one)")
        return None
    carry_over(run, run.journal, interrupted["run"], plan)  # same incident, whatever step it resumes at
    partial = left_undone(run.journal, run.task)
    if partial is not None:
        return _finish(run, plan, partial)
    index, last = resume_point(run.journal, run.task, plan)
    if index <= 1 or last is None:
        run.console.line(f"The interrupted run {interrupted['run']} finished no step worth keeping: "
                         "starting from the beginning.")
        return 0
    if last.get("run") and last["run"] != interrupted["run"]:
        run.skip_reason = f"done in the interrupted run {last['run']}"  # a resume that failed again
    session = current_session(run)
    if session is None or session.fingerprint != last.get("fingerprint"):
        run.console.warn("the saved session is not the one the interrupted run was using: starting over")
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


def _finish(run, plan, partial):
    """--resume of a run that brought production back but left targets stale: push to those
    (the same session, validated again), then deploy only if production needs it, then verify."""
    from ..core.errors import SessionExpired
    from ..mtn.api import validate
    from ..runner.engine import start_index
    from ..runner.recovery import current_session

    left = tuple(partial.get("left") or ())
    session = current_session(run)
    if session is None or session.fingerprint != partial.get("fingerprint"):
        run.console.warn("the saved session is not the one the partial run pushed: starting over")
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

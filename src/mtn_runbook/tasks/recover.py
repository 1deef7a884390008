"""`inv recover` (the incident path) and `inv refresh` (the proactive daily login)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Iterable, Sequence

from invoke import Context

from ..core.errors import ExitCode
from .base import runbook_task, settings

if TYPE_CHECKING:
    from ..runner.engine import Step

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
def recover(c: Context, check: bool = False, resume: bool = False, from_: str | None = None, sandbox: bool = False,
            headless: bool = False, timeout: float = 300.0, json: bool = False, link: bool = False,
            only: list[str] | None = None, skip_target: list[str] | None = None) -> None:
    """Bring production back: validate → extend or log in → validate → export → push → deploy → verify."""
    from ..runner.recovery import RECOVER

    _run(c, "recover", RECOVER, check=check, resume=resume, from_=from_, sandbox=sandbox,
         headless=headless, timeout=timeout, json=json, link=link, only=only, skip=skip_target)


@runbook_task(help={k: v for k, v in COMMON_HELP.items() if k != "from_"} | {
    "from_": "start at this step (login, validate-new, export, push, deploy, verify)"}, iterable=["only", "skip_target"])
def refresh(c: Context, check: bool = False, resume: bool = False, from_: str | None = None, sandbox: bool = False,
            headless: bool = False, timeout: float = 300.0, json: bool = False, link: bool = False,
            only: list[str] | None = None, skip_target: list[str] | None = None) -> None:
    """Proactive refresh before expiry: always log in again, then validate → export → push → deploy → verify."""
    from ..runner.recovery import REFRESH

    _run(c, "refresh", REFRESH, check=check, resume=resume, from_=from_, sandbox=sandbox,
         headless=headless, timeout=timeout, json=json, link=link, only=only, skip=skip_target)


def _run(c: Context, task: str, plan: Sequence[Step], *, check: bool, resume: bool, from_: str | None, sandbox: bool,
         headless: bool, timeout: float, json: bool, link: bool, only: Iterable[str] | None = (),
         skip: Iterable[str] | None = ()) -> None:
    import contextlib

    from invoke import Exit

    from ..core.console import Console
    from ..core.errors import ConfigError
    from ..mtn.sso import login_timeout
    from ..runner.launch import run_locked
    from ..runner.recap import print_recap, recap_data
    from ..runner.rehearsal import sandbox_settings
    from ..runner.state import Facts

    out = Console(json_mode=json)
    base = settings(c)
    if resume and from_:
        raise ConfigError("--resume and --from go separately", "use one of them")
    facts = Facts(headless=bool(headless or sandbox), timeout=float(login_timeout(timeout)), link=bool(link),
                  only=tuple(only or ()), skip=tuple(skip or ()))
    # with --link, the stand-in captcha waits for the person's tap, as the real one does
    scope = sandbox_settings(base, captcha="click" if link else "self") if sandbox else contextlib.nullcontext(base)
    with scope as active:
        if sandbox:
            out.line("Rehearsal: running against local stand-ins of MTN, Vercel, GitHub and the app."
                     + (" The stand-in captcha waits for your tap through the link." if link else ""))
            from ..core.console import protect

            protect(*active.secrets())
        run, ran = run_locked(task, plan, active, out, facts, check=check, resume=resume, from_=from_)
        if not ran:  # --resume with nothing to resume: said so; no browser, nothing journaled
            if json:
                out.json({"task": task, "outcome": "nothing to resume", "exitCode": ExitCode.DONE,
                          "lastRun": run.facts.last_run})
            return
        if json:
            out.json(recap_data(run))
        else:
            print_recap(run, out)
    if run.error:
        raise Exit(f"✘ {run.error.line()}", run.error.exit_code)

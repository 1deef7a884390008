"""`inv push` and `push.vercel` / `push.github` / `push.ssh` / `push.coolify`: put MTN_SESSION where production reads it.

What is pushed is core/pushed.py's value (the MTN API host's cookies, expiresAt = the app's gate),
validated against the MTN API first; one the API rejects is never pushed.
Heavy imports happen inside the task bodies, so `inv --list` stays fast.
"""

from __future__ import annotations

from typing import Any, Iterable

from invoke import Collection, Context

from .base import runbook_task, settings

HELP = {
    "file": "push this session file instead of MTN_SESSION_FILE (.cache/mtn-session.json)",
    "env": "push MTN_SESSION (base64) from the environment instead of the session file",
    "check": "say what would change at each target; send no POST/PUT/PATCH, open no SSH connection",
    "only": "push only to this target (its name as the push lines print it, its kind, or a pattern "
            "such as 'ssh *'); repeatable",
    "skip_target": "leave this target out (same forms as --only); repeatable",
}
SELECT = ["only", "skip_target"]


def run_push(c: Context, kind: str | None = None, file: str | None = None, env: bool = False, check: bool = False,
             only: Iterable[str] | None = (), skip: Iterable[str] | None = ()) -> None:
    """Load the session, then recover's steps: validate the value to push, push it with the
    two-operator guard (a target changed since the first look stops it: exit 5); print one line
    per target, exit non-zero on failure."""
    from invoke import Exit

    from ..core import session as sessions
    from ..core.console import Console
    from ..core.errors import RunbookError, ServiceError, SessionExpired
    from ..core.pushed import prepare
    from ..core.times import iso
    from ..mtn.source import open_session
    from ..runner.engine import Run
    from ..runner.state import Facts
    from ..runner.holdings import chosen_targets, note_holdings, push_guarded
    from ..runner.prestart import alongside
    from ..runner.value import pushed
    from ..targets import configured
    from ..targets.target import exit_code
    from ..targets.selection import finish_command

    s = settings(c)
    out = Console()
    loaded = open_session(s, out, file=file, env=env, check=check)
    run = Run("push", s, out, check=check, session=loaded.session)
    run.facts = Facts(configured=configured(s, kind), only=tuple(only or ()), skip=tuple(skip or ()))
    targets = chosen_targets(run)  # bad configuration: exit 2 before anything is sent
    for target in targets:   # what only the service can tell (a Vercel environment's name): one GET, still exit 2
        getattr(target, "check_config", lambda: None)()
    value = run.facts.value = prepare(s, loaded.session)  # API host cookies only; expiresAt = the app's gate

    def refused(verdict) -> RunbookError:
        error = SessionExpired if verdict.exit_code == SessionExpired.exit_code else ServiceError
        return error(f"not pushing session {loaded.session.short_id} from {loaded.source}: {verdict.message}",
                     None if error is SessionExpired else "retry when the MTN API answers (`inv validate`)")

    try:  # the first look at the targets (read-only) goes out while the value is validated
        alongside(lambda: pushed(run, source=loaded.source, refused=refused), lambda: note_holdings(run))
    except RunbookError:
        for target in targets:
            target.close()
        raise
    if value.gate_moved and loaded.path and not check:
        with sessions.lock(loaded.path):  # remember the gate: pushing this session again is the same value
            sessions.save(loaded.path, value.session, keep_prev=False)
    out.ok(f"session {loaded.session.short_id} from {loaded.source} is valid (MTN API 200) "
           "with only the cookies that are pushed")
    out.line(f"  {value.cookies_line()}; expiresAt (the app's gate) {iso(value.app.expires_at)}")
    results = push_guarded(run, value)
    code = exit_code(results)
    if code:
        failed = [r.name for r in results if r.failed]
        raise Exit(f"✘ push failed for {len(failed)} of {len(results)} target(s): {', '.join(failed)} "
                   f"— fix the cause, then `{finish_command(failed)}`", code)
    if check:
        would = sum(r.outcome == "would" for r in results)
        out.line(f"check: {would} of {len(results)} target(s) would change; nothing was sent")
    else:
        changed = sum(r.outcome == "changed" for r in results)
        out.line(f"{changed} of {len(results)} target(s) updated, {len(results) - changed} already held it"
                 + ("; next: `inv deploy` so production reads it" if any(
                     r.kind in ("vercel", "coolify") and r.outcome == "changed" for r in results) else ""))


def push_task(name: str, kind: str | None, doc: str) -> Any:
    """`inv push.<name>`: run_push for one kind of target (None: every kind), with the same flags
    and flag help in every one; `doc` is its line in `inv --list`."""

    def push(c: Context, file: str | None = None, env: bool = False, check: bool = False,
             only: list[str] | None = None, skip_target: list[str] | None = None) -> None:
        run_push(c, kind, file=file, env=env, check=check, only=only, skip=skip_target)

    push.__name__ = push.__qualname__ = name
    push.__doc__ = doc
    return runbook_task(help=HELP, iterable=SELECT)(push)


all_ = push_task("all", None,
                 "Push the validated session to every configured target, concurrently (exit 1 if any failed).")
vercel = push_task("vercel", "vercel",
                   "Upsert MTN_SESSION in the Vercel project's environments (in place, never delete-then-add).")
github = push_task("github", "github",
                   "Set the MTN_SESSION Actions secret (repository, and environments when configured).")
coolify = push_task("coolify", "coolify",
                    "Set MTN_SESSION of each Coolify application in place (PATCH, its flags kept; never deleted).")
ssh = push_task("ssh", "ssh",
                "Replace the MTN_SESSION line of the env file on each SSH host, then run its restart command.")


ns = Collection("push")
ns.add_task(all_, name="all", default=True)
ns.add_task(vercel)
ns.add_task(github)
ns.add_task(ssh)
ns.add_task(coolify)

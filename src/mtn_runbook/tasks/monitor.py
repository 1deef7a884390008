"""`inv monitor` (the scheduled check), `inv monitor.enable`, `inv monitor.trigger`.

Heavy imports happen inside the task bodies, so `inv --list` stays fast.
"""

from __future__ import annotations

from invoke import Collection, Context

from .base import runbook_task, settings


@runbook_task(name="monitor", help={
    "json": "print the result as JSON on stdout (state, checks, secret, production, lifespan, alerts)",
    "no_alert": "only report: open, comment on or close no issue, post no webhook",
    "check": "say what would be opened/commented/closed/posted, send nothing",
    "file": "check this session file (e.g. the one `inv recover` just pushed) instead of MTN_SESSION, "
            "which a stale .env may still hold",
})
def monitor_(c: Context, json: bool = False, no_alert: bool = False, check: bool = False, file: str | None = None) -> None:
    """Health of the MTN_SESSION secret AND of production; alert through a GitHub issue and webhook.
    Exit 0 healthy, warning or refresh-due, 3 unhealthy, 2 bad configuration, 1 an alert was not delivered."""
    import os

    from invoke import Exit

    from ..core.console import Console, protect, scrub
    from ..monitor.actions_output import annotations, write_step_summary
    from ..monitor.monitor import monitor
    from ..core.session import decode
    from ..core.errors import SessionFormatError

    s = settings(c)
    out = Console(json_mode=json)
    if file:  # after a local recover: the session it pushed, not whatever MTN_SESSION .env holds
        from ..mtn.source import open_session

        s = s.with_(mtn_session=open_session(s, out, file=file).session.encode())
    try:  # cookie values and the id, in case any message ever carried one
        protect(*decode(s.mtn_session, "MTN_SESSION")[0].secrets())
    except SessionFormatError:
        pass
    result = monitor(s, alert=not no_alert, check=check, environ=os.environ)
    h = result.health
    for chk in h.checks:
        outcome = "warn" if chk.ok and chk.warning else "ok" if chk.ok else "failed"
        out.step(outcome, chk.name, chk.detail + (f" — {chk.hint}" if chk.hint and not chk.ok else ""))
    {"healthy": out.ok, "warning": out.warn, "refresh-due": out.warn,
     "unhealthy": out.fail}[h.state](f"{h.state}: {h.message}")
    for action in result.actions:
        outcome = "failed" if action.error else "would" if check else "changed"
        out.step(outcome, action.line(check))
    for line in result.ledger:
        out.step("would" if check else "ok", line)
    if not [a for a in result.actions if a.sink != "ledger"]:
        why = {"off": "--no-alert", "check": "nothing to send", "on": "nothing to send"}[result.alerts]
        out.step("skipped", f"alerts: {why} (previous state: {result.previous or 'unknown'})")

    if os.environ.get("GITHUB_ACTIONS") == "true":
        for line in annotations(result):
            if json:
                out.line(line)
            else:
                out.data(scrub(line) + "\n")
        write_step_summary(result, os.environ)
    if json:
        out.json(result.to_json())
    if result.exit_code:
        raise Exit(code=result.exit_code)


@runbook_task(help={"check": "say whether it would enable the workflow, change nothing"})
def enable(c: Context, check: bool = False) -> None:
    """Re-enable the scheduled validate-mtn-session.yml workflow (= gh workflow enable)."""
    from ..core.console import Console
    from ..services.workflow import enable_workflow

    Console().step("would" if check else "ok", "monitor.enable", enable_workflow(settings(c), check=check))


@runbook_task(help={
    "ref": "branch or tag to run on (default: the repository's default branch)",
    "check": "say what would be started, start nothing",
})
def trigger(c: Context, ref: str | None = None, check: bool = False) -> None:
    """Start a validate-mtn-session.yml run now (= gh workflow run)."""
    from ..core.console import Console
    from ..services.workflow import trigger_workflow

    Console().step("would" if check else "ok", "monitor.trigger", trigger_workflow(settings(c), ref=ref, check=check))


ns = Collection("monitor")
ns.add_task(monitor_, name="monitor", default=True)
ns.add_task(enable)
ns.add_task(trigger)

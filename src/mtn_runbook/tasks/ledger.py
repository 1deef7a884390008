"""`inv ledger`: the lifespan ledger, with a chart of observed lifetimes and the refresh-by time."""

from __future__ import annotations

from invoke import Context

from .base import READ_ONLY_CHECK, runbook_task, settings

__all__ = ["ledger"]


@runbook_task(read_only="ledger", help={
    "json": "print the ledger as JSON on stdout (sessions, estimate, current refresh-by)",
    "check": READ_ONLY_CHECK,
})
def ledger(c: Context, json: bool = False, check: bool = False) -> None:
    """Every session the monitor and operators saw, how long each lived, and when to refresh the current one."""
    from ..core.console import Console
    from ..core.errors import RunbookError
    from ..core.times import duration, minutes_until, parse_time
    from ..lifespan.refresh_due import ledger_report
    from ..mtn.source import current_session

    s = settings(c)
    out = Console(json_mode=json)
    try:
        current = current_session(s).session
    except RunbookError:
        current = None
    data = ledger_report(s, current)
    if json:
        out.json(data)
        return
    out.line(f"Lifespan ledger: {data['where']} — {len(data['sessions'])} session(s), {data['deaths']} died, "
             f"{data['censored']} replaced or still alive (censored)")
    for line in data["chart"]:
        out.data(line + "\n")
    out.line(f"Estimate: {data['estimate']['basis']}")
    cur = data["current"]
    if cur is None:
        out.line("Current session: none here (MTN_SESSION or the session file)")
    elif cur["died"]:                             # the line says `inv recover`
        out.line(f"Current session {cur['sessionId']}: {cur['line']}")
    elif cur["decision"] == "prompt" or cur["alreadyPrompted"]:
        out.line(f"Current session {cur['sessionId']}: {cur['line']} — `inv refresh`")
    elif not cur["refreshBy"]:                    # no login needed: nothing to run
        out.line(f"Current session {cur['sessionId']}: {cur['line']}")
    else:
        left = minutes_until(parse_time(cur["refreshBy"], "refresh-by"))
        out.line(f"Current session {cur['sessionId']}: {cur['line']}, in {duration(left)} — then `inv refresh`")

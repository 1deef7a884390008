"""The end-of-run recap: what each step did, what each target now holds, how long it took."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Sequence

from ..core.console import Console
from ..core.errors import ExitCode
from ..core.times import iso
from .engine import Run

if TYPE_CHECKING:
    from ..targets import PushResult


@dataclass(frozen=True)
class Earlier:
    """A target a resumed run did not push to itself: the interrupted run did."""
    name: str
    outcome: str
    detail: str


def _minutes(seconds: float) -> str:
    return f"{seconds:.1f}s" if seconds < 120 else f"{seconds / 60:.1f} min"


def _holds(run: Run, target: PushResult | Earlier) -> str | None:
    """What the target holds after the run, read back (targets/holding.py); without a read-back,
    this run's fingerprint where its push succeeded."""
    value = run.facts.value         # core.pushed.Pushed: targets hold its fingerprint, not the file's
    ours = value.fingerprint if value else run.fingerprint
    held = (run.facts.held_after or {}).get(target.name)
    if held is not None and (held.stamp or held.problem):
        pushed = (run.facts.held_after_push or {}).get(target.name) if target.outcome in ("changed", "ok") else None
        return held.describe(ours, pushed)
    return ours if target.outcome in ("changed", "ok") else None


def _targets(run: Run) -> Sequence[PushResult | Earlier]:
    """This run's push results; for a resumed run that pushed nothing itself, every target as
    read back, its outcome the earlier run's."""
    if run.facts.results or not run.resumed_from:
        return run.facts.results or []
    earlier = f"pushed in {run.resumed_from}"
    return [Earlier(name=name, outcome="pushed earlier", detail=earlier)
            for name in (run.facts.held_after or {})]


def recap_data(run: Run) -> dict[str, Any]:
    """Times cover the whole incident: after --resume they count from the first run's start."""
    targets = _targets(run)
    before = run.incident_seconds_before
    pushed = run.facts.value        # core.pushed.Pushed: what the targets were given
    return {
        "task": run.task,
        "run": run.run_id,
        "check": run.check,
        "outcome": "failed" if run.error else "done",
        "error": run.error.line() if run.error else None,
        "exitCode": run.error.exit_code if run.error else ExitCode.DONE,
        "steps": [{"step": r.name, "outcome": r.outcome, "seconds": round(r.seconds, 3), "detail": r.detail}
                  for r in run.records],
        "targets": [{"target": t.name, "outcome": t.outcome, "detail": t.detail,
                     "holds": _holds(run, t)}
                    for t in targets],
        "sessionId": run.session.short_id if run.session else None,
        "sessionFingerprint": run.fingerprint,
        "pushedFingerprint": pushed.fingerprint if pushed else None,
        "cookiesPushed": len(pushed.app.cookies) if pushed else None,
        "cookiesKeptBack": list(pushed.kept_back) if pushed else None,
        "gateExpiresAt": iso(pushed.app.expires_at) if pushed else None,
        "secondsToRecover": round(before + run.facts.verified_after, 3) if run.facts.verified_after is not None else None,
        "secondsWaitingForPerson": round(run.earlier_person_seconds + run.person_seconds, 3),
        "secondsTotal": round(before + run.elapsed, 3),
        "incidentStarted": iso(run.incident_started or run.started_at),
        "resumedFrom": run.resumed_from,
    }


def print_recap(run: Run, out: Console) -> None:
    data = recap_data(run)
    out.line()
    said = run.error.line() if run.error else None   # the run's last line says it whole: once
    out.table(f"{run.task} recap ({run.run_id})", ("step", "outcome", "time", "detail"),
              [(s["step"], s["outcome"], _minutes(s["seconds"]),
                run.error.message if run.error and said and s["detail"] == said else s["detail"]) for s in data["steps"]])
    if data["targets"]:
        out.line()
        out.table("targets", ("target", "outcome", "holds (value fingerprint)"),
                  [(t["target"], t["outcome"], t["holds"] or "its previous value") for t in data["targets"]])
    if data["cookiesPushed"] is not None:
        out.line()
        out.line(f"MTN_SESSION {'would carry' if run.check else 'carries'} {data['cookiesPushed']} cookie(s) for the "
                 f"MTN API host; {len(data['cookiesKeptBack'])} kept back in the local session file"
                 + (f" ({', '.join(data['cookiesKeptBack'])})" if data["cookiesKeptBack"] else "")
                 + f"; expiresAt (the app's gate) {data['gateExpiresAt']}.")
    out.line()
    if run.check:
        out.line("Check mode: nothing was changed.")
    elif data["secondsToRecover"] is not None:
        span = (f"from the first run's start at {data['incidentStarted']} to verified production, "
                f"across the interrupted run {run.resumed_from} and this one" if run.resumed_from
                else "start to verified production")
        out.ok(f"Time to {'refresh' if data['task'] == 'refresh' else 'recover'}: {_minutes(data['secondsToRecover'])} ({span}), "
               f"of which {_minutes(data['secondsWaitingForPerson'])} waiting for the login")
        if run.session is not None:
            value = f" (value fingerprint {data['pushedFingerprint']}, as the targets table reads it)" \
                if data["pushedFingerprint"] else ""
            out.line(f"Production now runs session {run.session.short_id}{value}.")
    else:
        since = f" (since the first run's start at {data['incidentStarted']})" if run.resumed_from else ""
        failed = next((r.name for r in run.records if r.outcome == "failed"), None)
        what = f"step {failed} failed (the last line says why)" if failed else "see the last line"
        out.fail(f"Not recovered after {_minutes(data['secondsTotal'])}{since}: {what}.")
        out.line(f"Continue with `{resume_command(run)}` once the cause is fixed "
                 "(see runbooks/incident-recovery.md).")


def resume_command(run: Run) -> str:
    """`inv TASK --resume`, with the flags the next login needs: -H in a sandbox shell (no window
    there), --link for a login without a display elsewhere, or as this run had them."""
    from ..core.errors import NoDisplay
    from .rehearsal import in_sandbox_shell

    flags = []
    if run.facts.link:
        flags.append("--link")
    elif isinstance(run.error, NoDisplay):
        flags.append("-H" if in_sandbox_shell() else "--link")
    elif run.facts.headless and in_sandbox_shell():
        flags.append("-H")
    return " ".join([f"inv {run.task} --resume", *flags])

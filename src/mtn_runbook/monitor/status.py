"""`inv status` data: the session's age and tracked expiry, and the last validation.

`verdict(status)` is the headline: ✘ (exit 3) when the last validation of the session in hand saw
it expired, or there is no usable session; ⚠ when something needs a look (the ledger saw it dead, a new
login is due, a configured target does not hold the session, nothing validated it yet); else ✔.
Only the targets configured now are listed: a target once mistyped does not stay forever.

The keepalive experiment's one line (experiment.py) and the lifespan estimate with the current
session's outlook (estimator.py, through refresh_due.py) come from the lifespan ledger: the local
`.cache/ledger.jsonl`, or, when GitHub is configured, its `mtn-ledger` issue (read only: the one
service status asks; a failure is a line, not an error).

`session_status(settings)` returns a JSON-able dict; other parts add their own keys to it
(e.g. each target's last push, observed lifespans) so the task prints one picture.
"""

from __future__ import annotations

from typing import Any

from ..core.config import Settings
from ..core.errors import ExitCode, RunbookError
from ..core.journal import Journal
from ..core.times import iso, now


def session_status(settings: Settings) -> dict[str, Any]:
    """What is known locally, without calling any service."""
    from ..mtn.source import current_session

    at = now()
    status: dict[str, Any] = {"checkedAt": iso(at), "session": None, "problem": None, "warnings": [],
                              "lastValidation": None}
    fingerprint = None
    current = None
    problem_code = ExitCode.DONE
    try:
        loaded = current_session(settings)
    except RunbookError as e:
        status["problem"], problem_code = e.line(), e.exit_code
    else:
        s = current = loaded.session
        fingerprint = s.fingerprint
        created = s.created_at
        status["warnings"] = list(loaded.warnings)
        status["session"] = {
            "source": loaded.source,
            "sessionId": s.short_id,
            "fingerprint": fingerprint,
            "cookies": len(s.cookies),
            "createdAt": iso(created) if created else None,
            "ageMinutes": round((at - created).total_seconds() / 60, 1) if created else None,
            "trackedExpiry": iso(s.expires_at),
            "minutesUntilTrackedExpiry": round(s.minutes_left(at), 1),
            "extendedAt": s.extra.get("extendedAt"),
        }
    journal = Journal(settings.journal_file)
    status["targets"] = last_pushes(journal, fingerprint, configured_names(settings),
                                    _pushed_fingerprint(settings, current))
    last = journal.last("validation")
    if last:
        status["lastValidation"] = {
            "at": last.get("ts"),
            "verdict": last.get("verdict"),
            "apiStatus": last.get("apiStatus"),
            "sessionId": last.get("session"),
            "fingerprint": last.get("fingerprint"),
            "sameSession": same_session(last, current),
        }
    status["experiment"], status["lifespan"] = from_ledger(settings, current)
    status["verdict"] = verdict(status, problem_code)
    return status


def same_session(validation: dict, session) -> bool:
    """Whether a journaled validation was of this login's session: the file, or the value pushed
    from it (same session id, another fingerprint). Older entries carry only a fingerprint."""
    if session is None:
        return False
    if validation.get("session"):
        return validation["session"] == session.short_id
    return validation.get("fingerprint") == session.fingerprint


def from_ledger(settings: Settings, current) -> tuple[dict[str, Any], dict[str, Any]]:
    """The keepalive experiment's verdict (experiment.py) and the lifespan estimate with the current
    session's outlook (refresh_due.py), both from one read of the lifespan ledger."""
    from ..lifespan.experiment import verdict as experiment_verdict
    from ..lifespan.observe import open_store
    from ..lifespan.refresh_due import RefreshSettings, lifespan, outlook

    try:
        store = open_store(settings)
        rs = RefreshSettings.from_settings(settings)
    except RunbookError as e:
        line = f"ledger not readable — {e.message}"
        return {"answer": "unknown", "line": line}, {"summary": line, "current": None}
    try:
        records = store.records()
    except RunbookError as e:
        line = f"ledger ({store.where}) not readable — {e.message}"
        return {"answer": "unknown", "line": line}, {"summary": line, "current": None}
    finally:
        if hasattr(store, "api"):
            store.api.close()
    view = None
    if current is not None:
        from ..lifespan.ledger_lines import session_key

        record = next((r for r in records if r.session == session_key(current)), None)
        view = outlook(current, records, rs, alive=not (record and record.first_dead), where=store.where)
    return experiment_verdict(records), lifespan(view, rs, records)


def configured_names(settings: Settings) -> list[str] | None:
    """The names of the targets configured now (no service is called); None when the
    configuration cannot say (then every target the journal knows is listed)."""
    from ..targets import configured

    try:
        return [t.name for t in configured(settings)]
    except RunbookError:
        return None


def _pushed_fingerprint(settings: Settings, session) -> str | None:
    """Targets hold core/pushed.py's value of the session (pruned, with its gate), not the file."""
    from ..core.pushed import app_value

    return None if session is None else app_value(session, settings.mtn_api_base_url)[0].fingerprint


def last_pushes(journal: Journal, fingerprint: str | None, names: list[str] | None = None,
                pushed: str | None = None) -> list[dict[str, Any]]:
    """Each configured target's last real push (not --check): when, how it ended, and whether it
    holds the session in hand (its own value, or the value pushed for it). A configured target
    never pushed to is listed with outcome None."""
    latest = journal.latest_by("push", "target")

    def row(name: str, e: dict) -> dict[str, Any]:
        return {"target": name, "at": e.get("ts"), "outcome": e.get("outcome"), "fingerprint": e.get("fingerprint"),
                "holdsCurrent": e.get("fingerprint") in {fingerprint, pushed} - {None}
                and e.get("outcome") in ("changed", "ok")}

    return [row(name, latest.get(name, {})) for name in (names if names is not None else latest)]


def verdict(status: dict[str, Any], problem_code: int = ExitCode.SESSION_INVALID) -> dict[str, Any]:
    """The headline: state ok | warning | failed, its symbol, one line, and the exit code (no
    usable session: the code of what stopped it, as every other task would exit)."""
    session, last = status["session"], status["lastValidation"]
    if session is None:
        return _verdict("failed", f"no usable session: {status['problem']}", problem_code or ExitCode.SESSION_INVALID)
    if last and last["sameSession"] and last["verdict"] == "expired":
        return _verdict("failed", f"the last validation ({last['at']}) saw the session expired: `inv recover`", ExitCode.SESSION_INVALID)
    notes = []
    if not last or not last["sameSession"]:
        notes.append("this session has not been validated yet (`inv validate`)")
    elif last["verdict"] == "error":
        notes.append("the last validation could not tell (`inv validate`)")
    outlook = (status.get("lifespan") or {}).get("current") or {}
    if outlook.get("died"):
        notes.append(f"the lifespan ledger saw it dead at {outlook['died']} (`inv recover`)")
    elif outlook.get("decision") == "prompt" or outlook.get("alreadyPrompted"):
        notes.append(f"a new login is due: {outlook['reason']} (`inv refresh`)")
    elif session["minutesUntilTrackedExpiry"] < 0 and not outlook:
        notes.append("its tracked expiry passed")
    behind = [t["target"] for t in status["targets"] if not t["holdsCurrent"]]
    if behind:
        notes.append(f"{len(behind)} target(s) may not hold it: {', '.join(behind)} (`inv push`)")
    if notes:
        return _verdict("warning", "; ".join(notes), ExitCode.DONE)
    return _verdict("ok", f"session {session['sessionId']} validated at {last['at']}; every configured target holds it", ExitCode.DONE)


def _verdict(state: str, line: str, code: int) -> dict[str, Any]:
    return {"state": state, "symbol": {"ok": "✔", "warning": "⚠", "failed": "✘"}[state], "line": line, "exitCode": code}

"""`inv status` data: the session's age and tracked expiry, and the last validation.

`session_status(settings)` returns a JSON-able dict; other parts add their own keys to it
(e.g. each target's last push, observed lifespans) so the task prints one picture.
"""

from __future__ import annotations

from typing import Any

from ..core.config import Settings
from ..core.errors import RunbookError
from ..core.journal import Journal
from .lifespan import lifespan_report
from ..core.session import iso, now


def session_status(settings: Settings) -> dict[str, Any]:
    """What is known locally, without calling any service."""
    from ..mtn.source import current_session

    at = now()
    status: dict[str, Any] = {"checkedAt": iso(at), "session": None, "problem": None, "warnings": [],
                              "lastValidation": None}
    fingerprint = None
    current = None
    try:
        loaded = current_session(settings)
    except RunbookError as e:
        status["problem"] = e.line()
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
    status["lifespan"] = lifespan_report(journal, current, at=at)
    status["targets"] = last_pushes(journal, fingerprint)
    last = journal.last("validation")
    if last:
        status["lastValidation"] = {
            "at": last.get("ts"),
            "verdict": last.get("verdict"),
            "apiStatus": last.get("apiStatus"),
            "fingerprint": last.get("fingerprint"),
            "sameSession": fingerprint is not None and last.get("fingerprint") == fingerprint,
        }
    return status


def last_pushes(journal: Journal, fingerprint: str | None) -> list[dict[str, Any]]:
    """Each target's last real push (not --check): when, how it ended, and whether it holds
    the session in hand."""
    latest: dict[str, dict] = {}
    for entry in journal.entries("push"):
        latest[entry.get("target", "?")] = entry
    return [{"target": name, "at": e.get("ts"), "outcome": e.get("outcome"), "fingerprint": e.get("fingerprint"),
             "holdsCurrent": fingerprint is not None and e.get("fingerprint") == fingerprint
             and e.get("outcome") in ("changed", "ok")}
            for name, e in latest.items()]

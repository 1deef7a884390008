"""`inv status` data: the session's age and tracked expiry, and the last validation.

`session_status(settings)` returns a JSON-able dict; other parts add their own keys to it
(e.g. each target's last push, observed lifespans) so the task prints one picture.
"""

from __future__ import annotations

from typing import Any

from .config import Settings
from .errors import RunbookError
from .journal import Journal
from .session import iso, now


def session_status(settings: Settings) -> dict[str, Any]:
    """What is known locally, without calling any service."""
    from .mtn.source import current_session

    at = now()
    status: dict[str, Any] = {"checkedAt": iso(at), "session": None, "problem": None, "warnings": [],
                              "lastValidation": None}
    fingerprint = None
    try:
        loaded = current_session(settings)
    except RunbookError as e:
        status["problem"] = e.line()
    else:
        s = loaded.session
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
    last = Journal(settings.journal_file).last("validation")
    if last:
        status["lastValidation"] = {
            "at": last.get("ts"),
            "verdict": last.get("verdict"),
            "apiStatus": last.get("apiStatus"),
            "fingerprint": last.get("fingerprint"),
            "sameSession": fingerprint is not None and last.get("fingerprint") == fingerprint,
        }
    return status

"""`inv status` data: the session's age and tracked expiry, and the last validation.

`verdict(status)` is the headline: ✘ (exit 3) when the last validation of the session in hand saw
it expired, or there is no usable session; ⚠ when something needs a look (the tracked or predicted
expiry passed, a configured target does not hold the session, nothing validated it yet); else ✔.
Only the targets configured now are listed: a target once mistyped does not stay forever.

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
    problem_code = 0
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
    status["lifespan"] = lifespan_report(journal, current, at=at)
    status["targets"] = last_pushes(journal, fingerprint, configured_names(settings),
                                    _pushed_fingerprint(settings, current))
    last = journal.last("validation")
    if last:
        status["lastValidation"] = {
            "at": last.get("ts"),
            "verdict": last.get("verdict"),
            "apiStatus": last.get("apiStatus"),
            "fingerprint": last.get("fingerprint"),
            "sameSession": fingerprint is not None and last.get("fingerprint") == fingerprint,
        }
    status["verdict"] = verdict(status, problem_code)
    return status


    status["targets"] = last_pushes(journal, fingerprint, configured_names(settings),
                                    _pushed_fingerprint(settings, current))

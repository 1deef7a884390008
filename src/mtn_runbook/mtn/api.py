"""Does the MTN API still accept a session? And Method 3 of the guide: extend its tracked expiry.

The check calls `GET /api/v1/feasibility/product/wholesale/mns` without following redirects: a
dead session is redirected to the SSO login page, and a client that follows the redirect sees a
200 HTML page (how the original validator misread expiry as a generic error).
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from datetime import datetime
from urllib.parse import urljoin, urlsplit

from ..core.config import Settings
from ..core.errors import ExitCode, ServiceError, SessionExpired
from ..core.journal import Journal
from ..core.session import Session
from ..core.times import iso, now, relative

PRODUCTS_PATH = "/api/v1/feasibility/product/wholesale/mns"
STATES = ("valid", "valid_tracked_expired", "expired", "error")
MAX_EXTEND_HOURS = 8760.0
EXIT_CODES = {"valid": ExitCode.DONE, "valid_tracked_expired": ExitCode.DONE, "expired": ExitCode.SESSION_INVALID,
              "error": ExitCode.SERVICE_FAILED}


@dataclass(frozen=True)
class Verdict:
    state: str                  # one of STATES
    api_status: int | None      # the API's HTTP status; None when it did not answer
    message: str                # one line for the operator (never a secret)
    session: Session
    products: tuple[str, ...] = ()
    checked_at: datetime = field(default_factory=now)

    @property
    def valid(self) -> bool:
        return self.state.startswith("valid")

    @property
    def exit_code(self) -> int:
        return EXIT_CODES[self.state]

    def minutes_left(self) -> float:
        return self.session.minutes_left(self.checked_at)

    def to_json(self) -> dict:
        return {
            "valid": self.valid,
            "sessionId": self.session.short_id,
            "valueFingerprint": self.session.fingerprint,   # of the value validated, not a session name
            "trackedExpiry": iso(self.session.expires_at),
            "minutesUntilTrackedExpiry": round(self.minutes_left(), 1),
            "apiStatus": self.api_status,
            "verdict": self.state,
            "message": self.message,
            "products": len(self.products),
        }


def validate(settings: Settings, session: Session, *, source: str = "", record: bool = True) -> Verdict:
    """Ask the MTN API whether it accepts `session`; journal the verdict (kind="validation")
    unless `record` is False (check mode writes nothing)."""
    verdict = _check(settings, session)
    if not record:
        return verdict
    # `session`: the login's id as output shows it, the same for the file and the value pushed
    entry = {"verdict": verdict.state, "session": session.short_id, "fingerprint": session.fingerprint,
             "apiStatus": verdict.api_status,
             "createdAt": session.extra.get("createdAt"), "expiresAt": iso(session.expires_at)}
    if source:
        entry["source"] = source
    with contextlib.suppress(OSError):  # an unwritable journal must not hide the verdict
        Journal(settings.journal_file).write("validation", **entry)
    return verdict


def _check(settings: Settings, session: Session) -> Verdict:
    from ..core.http import Api

    base = settings.mtn_api_base_url.rstrip("/")
    url = base + PRODUCTS_PATH
    headers = {"Accept": "application/json"}
    if settings.mtn_api_key:
        headers["X-API-Key"] = settings.mtn_api_key
    cookies = session.cookies_for(url)
    if not cookies:
        host = urlsplit(url).hostname
        return Verdict("expired", None, f"the session has no cookie for {host}: the API cannot accept it", session)
    # A Cookie header, not a cookie jar: exactly the API host's cookies, nothing else.
    headers["Cookie"] = "; ".join(f"{name}={value}" for name, value in cookies.items())
    try:
        with Api("MTN API", base, headers=headers, retries=2, deadline=settings.check_deadline) as api:
            response = api.get(PRODUCTS_PATH, expect=range(100, 600), what="the products check")
    except ServiceError as e:
        return Verdict("error", None, e.message, session)
    status = response.status_code
    if status == 200:
        return _answered(settings, session, response)
    if status in (401, 403):
        why = "the session is no longer accepted" + (", or MTN_API_KEY is wrong" if settings.mtn_api_key else "")
        return Verdict("expired", status, f"MTN API answered {status} ({why})", session)
    if 300 <= status < 400:
        location = urljoin(url, response.headers.get("location", ""))
        if _is_sso(settings, location):
            return Verdict("expired", status, f"MTN API redirected to the SSO login ({status}): the session expired",
                           session)
        return Verdict("error", status, f"MTN API redirected ({status}) to {urlsplit(location).hostname}"
                                        f"{urlsplit(location).path}, not the SSO login", session)
    return Verdict("error", status, f"MTN API answered {status} {response.reason_phrase}".rstrip(), session)


def _answered(settings: Settings, session: Session, response) -> Verdict:
    from ..core.http import json_body

    body = json_body(response)   # None also for JSON nested too deeply to parse
    if body is None:
        return Verdict("error", 200, "MTN API answered 200 but not with JSON (a login or error page?)", session)
    if not isinstance(body, dict) or str(body.get("error_code")) != "200":
        code = body.get("error_code") if isinstance(body, dict) else None
        text = body.get("error_message") if isinstance(body, dict) else None
        return Verdict("error", 200, f"MTN API answered error_code {code!r}: {text or 'no message'}", session)
    outputs = body.get("outputs") or []
    products = tuple(str(p.get("name", p)) if isinstance(p, dict) else str(p) for p in outputs)
    left = session.minutes_left()
    if left < 0:
        return Verdict("valid_tracked_expired", 200,
                       f"MTN API accepts the session ({len(products)} products), but its tracked expiry "
                       f"{relative(left)} — `inv extend` moves it forward", session, products)
    return Verdict("valid", 200, f"MTN API accepts the session ({len(products)} products); tracked expiry "
                                 f"{relative(left)}", session, products)


def _is_sso(settings: Settings, location: str) -> bool:
    target = urlsplit(location)
    sso = urlsplit(settings.mtn_sso_login_url)
    return (target.hostname or "") == (sso.hostname or "") or "/login" in target.path


@dataclass(frozen=True)
class Extension:
    verdict: Verdict
    session: Session            # the extended session (or, in check mode, what it would be)
    changed: bool               # False in check mode


def check_hours(hours: float) -> None:
    """Raise ConfigError unless `hours` is a usable extension (nan, inf and 1e12 are not)."""
    from ..core.errors import ConfigError

    if not (0 < hours <= MAX_EXTEND_HOURS):  # also false for nan; inf and 1e12 overflow a date
        raise ConfigError(f"--hours must be a positive number, at most {MAX_EXTEND_HOURS:g} (a year); got {hours:g}")


def extend(settings: Settings, session: Session, *, hours: float = 24.0, check: bool = False) -> Extension:
    """Move expiresAt `hours` from now, only while the API still accepts the session.
    Raises SessionExpired (exit 3) when it does not, ServiceError when the API did not answer.
    Does not save: the caller saves under the session lock."""
    check_hours(hours)
    verdict = validate(settings, session, source="extend", record=not check)
    if verdict.state == "expired":
        raise SessionExpired(f"not extending: {verdict.message}",
                             "a dead session cannot be extended; run `inv auth` (or `inv recover`) to log in again")
    if verdict.state == "error":
        raise ServiceError(f"not extending: could not confirm the session is alive ({verdict.message})",
                           "retry `inv extend` later; never extend a session the API has not accepted")
    return Extension(verdict, session.extended(hours), changed=not check)

"""The value pushed as MTN_SESSION: what production needs, and nothing more.

    cookies     only those a browser would send to the MTN API (RFC 6265 domain and path match,
                secure only over https); CASTGC, the SSO ticket-granting cookie that can mint new
                sessions, and the other SSO-only cookies stay in the local 0600 session file
    sessionId   as in the file
    expiresAt   the app's gate, not the tracked expiry: CircleTel's app uses a session only while
                expiresAt is more than 5 minutes away (isSessionValid), whatever MTN thinks, so a
                push carrying login + 60 min stopped production 55 minutes after every login
    createdAt   not secret; the lifespans group validations by it

The gate is chosen at push time, MTN_GATE_HOURS from now (default 48: a daily refresh plus 24 h),
never less than GATE_MINIMUM (24 h), and remembered in the session file as `gateExpiresAt`, so
pushing the same session twice is the same value. Liveness stays MTN's answer: a value is pushed
only after the MTN API accepted it (the callers validate `Pushed.app`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from .config import Settings
from .errors import ConfigError
from .session import Session
from .times import now, to_ms

API_PATH = "/api/v1/feasibility/product/wholesale/mns"  # what the app and validation call on the API host
GATE_MINIMUM = timedelta(hours=24)         # a push never carries less; verify fails and monitor warns under it
APP_REFUSES_WITHIN = timedelta(minutes=5)  # isSessionValid: expiresAt must be MORE than this away
APP_EXTRA_FIELDS = ("createdAt",)


def gate_hours(settings: Settings) -> float:
    """MTN_GATE_HOURS as a number of hours, at least 24 (exit 2 naming the variable otherwise)."""
    raw = str(settings.gate_hours).strip()
    try:
        hours = float(raw)
    except ValueError:
        raise ConfigError(f"MTN_GATE_HOURS={raw!r} is not a number of hours",
                          "set it to the hours between refreshes plus 24, e.g. 48 (see .env.example)") from None
    if not math.isfinite(hours) or hours < GATE_MINIMUM.total_seconds() / 3600:
        raise ConfigError(f"MTN_GATE_HOURS={raw} is under 24: production's gate would close too soon after a push",
                          "set it to the hours between refreshes plus 24, e.g. 48")
    return hours


@dataclass(frozen=True)
class Pushed:
    """A session ready to push: `session` is the full one with the gate it goes out with (save it,
    so the next push of the same session is the same value); `app` is what production gets."""
    session: Session
    app: Session
    kept_back: tuple[str, ...]          # "CASTGC (sso.host)": names and hosts, never values
    gate_moved: bool = False            # the gate was (re)chosen: save `session` to the file

    @property
    def value(self) -> str:
        return self.app.encode()

    @property
    def fingerprint(self) -> str:
        return self.app.fingerprint

    def cookies_line(self) -> str:
        kept = f" ({', '.join(self.kept_back)})" if self.kept_back else ""
        return (f"{len(self.app.cookies)} cookie(s) for the MTN API host pushed, "
                f"{len(self.kept_back)} kept back in the local session file{kept}")


def for_push(session: Session, api_base_url: str, hours: float, *, at: datetime | None = None,
             renew: bool = False) -> Pushed:
    """The value production gets: the cookies a browser sends to the MTN API, sessionId, createdAt,
    and `expiresAt` = the gate. The gate is kept while it is at least GATE_MINIMUM away (so pushing
    the same session twice is one value), else (or with `renew`) moved `hours` from now."""
    at = to_ms(at or now())
    gated = session
    if renew or session.gate - at < GATE_MINIMUM:
        gated = session.with_gate(at + timedelta(hours=hours))
    app, kept = app_value(gated, api_base_url)
    return Pushed(gated, app, kept, gated is not session)


def app_value(session: Session, api_base_url: str) -> tuple[Session, tuple[str, ...]]:
    """The session as production gets it, with the gate it has now, and the cookies kept back."""
    url = api_base_url.rstrip("/") + API_PATH
    sent = session.cookies_sent_to(url)
    kept = tuple(f"{c['name']} ({c['domain']})" for c in session.cookies if c not in sent)
    extra = {k: session.extra[k] for k in APP_EXTRA_FIELDS if k in session.extra}
    return Session(tuple(sent), session.session_id, session.gate, extra), kept




def prepare(settings: Settings, session: Session, *, at: datetime | None = None, renew: bool = False) -> Pushed:
    """for_push with this configuration's MTN API and MTN_GATE_HOURS."""
    return for_push(session, settings.mtn_api_base_url, gate_hours(settings), at=at, renew=renew)


def extended(settings: Settings, session: Session, *, hours: float = 24.0, tracked: bool = True,
             gate: bool = True) -> Session:
    """The extend step of `inv extend` and recover, once the MTN API has accepted `session`: its
    tracked expiry `hours` from now (`tracked`), and the app's gate MTN_GATE_HOURS (or `hours`, if
    more) from now (`gate`; a gate under 24 h away moves anyway). Saving is the caller's."""
    moved = session.extended(hours) if tracked else session
    return for_push(moved, settings.mtn_api_base_url, max(gate_hours(settings), hours), renew=gate).session

"""Refresh due: the ledger, the survival estimate and the policy put together for one session.

    refresh-by  = the session's start (createdAt, else first seen) + survival.refresh_by(...)
    decision    = policy.decide(now, alive, refresh-by, prompted already?, working hours, interval)

`inv monitor` and `inv validate` read the ledger (and append what they saw: observe.py); `inv ledger` shows it.
The shadow probe: after a refresh the retired session stays in the session file's `.prev` (0600,
on the machine that ran the refresh, where it already was; no second copy goes to CI). `inv monitor`
run there validates it at most every SHADOW_EVERY until MTN rejects it, so its lifetime is
observed instead of censored.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from ..core.config import Settings
from ..core.errors import ConfigError, RunbookError
from ..core.session import Session, iso, now
from .ledger import Record, session_key
from .observe import close, observation, open_store
from .policy import Decision, decide
from .schedule import CHECK_INTERVAL, WorkingHours
from .survival import RefreshBy, refresh_by

SHADOW_EVERY = timedelta(hours=6)


@dataclass(frozen=True)
class RefreshSettings:
    hours: WorkingHours
    risk: float
    min_deaths: int
    prior_hours: float

    @classmethod
    def from_settings(cls, s: Settings) -> "RefreshSettings":
        def number(name: str, value: str, kind: type, low: float, high: float) -> Any:
            try:
                parsed = kind(value)
            except ValueError:
                parsed = None
            if parsed is None or not low <= parsed <= high:
                raise ConfigError(f"{name} {value!r} must be a {'whole ' if kind is int else ''}number "
                                  f"from {low:g} to {high:g}", "see .env.example")
            return parsed
        return cls(WorkingHours.parse(s.monitor_working_hours, s.monitor_timezone),
                   number("MONITOR_REFRESH_RISK", s.monitor_refresh_risk, float, 0.001, 0.9),
                   number("MONITOR_MIN_DEATHS", s.monitor_min_deaths, int, 1, 1000),
                   number("MONITOR_PRIOR_HOURS", s.monitor_prior_hours, float, 0.5, 24 * 90))


def estimate(records: list[Record], rs: RefreshSettings) -> RefreshBy:
    lives = [life for life in (r.lifetime() for r in records) if life is not None]
    return refresh_by(lives, risk=rs.risk, min_deaths=rs.min_deaths, prior_hours=rs.prior_hours)


@dataclass(frozen=True)
class Outlook:
    estimate: RefreshBy
    start: datetime
    refresh_by: datetime
    decision: Decision
    prompted: bool                       # already raised for this session (before this run)
    where: str                           # where the ledger lives

    @property
    def due(self) -> bool:
        return self.decision.action == "prompt" or (self.prompted and self.decision.action == "quiet")

    def line(self, rs: RefreshSettings) -> str:
        local = self.refresh_by.astimezone(rs.hours.tz)
        return f"refresh-by {local:%a %Y-%m-%d %H:%M} {rs.hours.tz.key} ({self.estimate.basis})"

    def to_json(self) -> dict:
        return {"refreshBy": iso(self.refresh_by), "start": iso(self.start), **self.estimate.to_json(),
                "decision": self.decision.action, "reason": self.decision.reason,
                "alreadyPrompted": self.prompted, "ledger": self.where}


def outlook(session: Session, records: list[Record], rs: RefreshSettings, *, alive: bool,
            at: datetime | None = None, where: str = "") -> Outlook:
    at = at or now()
    key = session_key(session)
    record = next((r for r in records if r.session == key), None)
    start = session.created_at or (record.start if record else at)
    est = estimate(records, rs)
    by = start + timedelta(hours=est.hours)
    prompted = bool(record and record.prompted)
    decision = decide(at, alive=alive, refresh_by=by, prompted=prompted, hours=rs.hours, interval=CHECK_INTERVAL)
    return Outlook(est, start, by, decision, prompted, where)


def shadow_probe(settings: Settings, records: list[Record], current: Session | None,
                 at: datetime | None = None) -> tuple[list[dict], str | None]:
    """Validate the retired session in the session file's `.prev`, when it is due."""
    from ..core.session import load, prev_path
    from ..mtn.api import validate

    at = at or now()
    path = prev_path(settings.session_file)
    if not path.exists():
        return [], None
    try:
        retired, _ = load(path)
    except RunbookError:
        return [], None
    if current is not None and session_key(retired) == session_key(current):
        return [], None
    record = next((r for r in records if r.session == session_key(retired)), None)
    if record and (record.first_dead or (record.last_alive and at - record.last_alive < SHADOW_EVERY)):
        return [], None
    verdict = validate(settings, retired, source="shadow")
    found = observation(retired, verdict.state, at=at, ping="none")   # the experiment's unpinged group
    return found, f"shadow probe of the retired session {retired.fingerprint} (.prev): {verdict.state}"


def ledger_report(settings: Settings, current: Session | None) -> dict:
    """For `inv ledger`: every session, the estimate, and the current session's refresh-by."""
    from .ledger_view import ended, terminal_chart

    rs = RefreshSettings.from_settings(settings)
    store = open_store(settings)
    try:
        records = store.records()
    finally:
        close(store)
    est = estimate(records, rs)
    sessions = []
    for r in records:
        life = r.lifetime()
        sessions.append({**r.to_json(), "hours": round(life[0], 2) if life else None,
                         "died": life[1] if life else None, "ended": ended(r)})
    view = outlook(current, records, rs, alive=True, where=store.where) if current is not None else None
    return {"where": store.where, "sessions": sessions, "estimate": est.to_json(),
            "deaths": est.deaths, "censored": est.sessions - est.deaths,
            "current": {**view.to_json(), "sessionId": current.short_id, "fingerprint": current.fingerprint, "line": view.line(rs)} if view else None,
            "chart": terminal_chart(records)}

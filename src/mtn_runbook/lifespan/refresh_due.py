"""Refresh due: the ledger, the estimate and the policy put together for one session.

    estimate    = estimator.py over the lifetimes of the session's own group (experiment.py:
                  pinged sessions from pinged lifetimes, the others from the others')
    decision    = policy.decide(now, alive, age, estimate, prompted already?, working hours, interval)
    interval    = the real check interval: MONITOR_EVERY_MINUTES (60, the hourly workflow; the
                  watcher's monitor runs with 15), or the session's most frequent observer in the
                  ledger (keepalive's pings) when that is shorter
    refresh-by  = policy.next_prompt: the first check at which a login would be asked for (None: none
                  within 30 days: the session is left to run, and a death pages)

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
from ..core.session import Session
from ..core.times import iso, now
from .estimator import Estimate
from .experiment import estimate_for
from .ledger_lines import session_key
from .ledger_records import Record
from .observe import close, observation, open_store
from .policy import Decision, decide, next_prompt
from .schedule import WorkingHours

SHADOW_EVERY = timedelta(hours=6)


@dataclass(frozen=True)
class RefreshSettings:
    hours: WorkingHours
    risk: float
    min_deaths: int
    interval: timedelta           # how often this monitor runs

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
                   timedelta(minutes=number("MONITOR_EVERY_MINUTES", s.monitor_every_minutes, float, 0.05, 24 * 60)))

    @property
    def every(self) -> int:
        return max(1, round(self.interval.total_seconds() / 60))


def interval_for(record: Record | None, rs: RefreshSettings) -> timedelta:
    """The real check interval: this monitor's, or the session's most frequent observer's."""
    if record is not None and record.every:
        return min(rs.interval, timedelta(minutes=record.every))
    return rs.interval


@dataclass(frozen=True)
class Outlook:
    estimate: Estimate
    start: datetime
    refresh_by: datetime | None          # the first check that would ask for a login (None: none soon)
    decision: Decision
    prompted: bool                       # already raised for this session (before this run)
    where: str                           # where the ledger lives
    interval: timedelta
    died: datetime | None = None         # the ledger saw it dead

    @property
    def due(self) -> bool:
        return self.decision.action == "prompt" or (self.prompted and self.decision.action == "quiet")

    def line(self, rs: RefreshSettings) -> str:
        if self.died is not None:
            return f"seen dead at {self.died.astimezone(rs.hours.tz):%a %Y-%m-%d %H:%M} {rs.hours.tz.key}: `inv recover`"
        if self.decision.action == "prompt":
            head = "refresh-by now"
        elif self.prompted:
            head = "refresh-by passed (asked for earlier)"
        elif self.refresh_by is None:
            head = f"no login needed in the next 30 days ({self.decision.reason})"
        else:
            local = self.refresh_by.astimezone(rs.hours.tz)
            head = f"refresh-by {local:%a %Y-%m-%d %H:%M} {rs.hours.tz.key} ({self.decision.reason})"
        return f"{head}; {self.estimate.basis}"

    def to_json(self) -> dict:
        d = self.decision
        return {"refreshBy": iso(self.refresh_by) if self.refresh_by else None, "start": iso(self.start),
                "estimate": self.estimate.to_json(), "decision": d.action, "reason": d.reason,
                "risk": None if d.risk is None else round(d.risk, 4),
                "freshRisk": None if d.fresh is None else round(d.fresh, 4),
                "until": iso(d.until) if d.until else None, "intervalMinutes": self.interval.total_seconds() / 60,
                "alreadyPrompted": self.prompted, "died": iso(self.died) if self.died else None, "ledger": self.where}


def outlook(session: Session, records: list[Record], rs: RefreshSettings, *, alive: bool,
            at: datetime | None = None, where: str = "") -> Outlook:
    at = at or now()
    key = session_key(session)
    record = next((r for r in records if r.session == key), None)
    start = session.created_at or (record.start if record else at)
    est = estimate_for(records, record, rs.min_deaths)
    interval = interval_for(record, rs)
    prompted = bool(record and record.prompted)
    decision = decide(at, alive=alive, age=at - start, estimate=est, prompted=prompted, hours=rs.hours,
                      interval=interval, risk=rs.risk)
    by = None if not alive else next_prompt(at, start=start, estimate=est, hours=rs.hours, interval=interval,
                                            risk=rs.risk)
    died = record.first_dead if record else None
    return Outlook(est, start, by, decision, prompted, where, interval, died)


def lifespan(view: Outlook | None, rs: RefreshSettings, records: list[Record]) -> dict:
    """What status, the monitor's verdict and its job summary show: one line, from the one estimate."""
    if view is None:
        est = estimate_for(records, None, rs.min_deaths)
        return {"method": est.method, "summary": est.basis, "estimate": est.to_json(), "current": None}
    return {"method": view.estimate.method, "summary": view.line(rs), "estimate": view.estimate.to_json(),
            "current": view.to_json()}


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
    return found, f"shadow probe of the retired session {retired.short_id} (.prev): {verdict.state}"


def ledger_report(settings: Settings, current: Session | None) -> dict:
    """For `inv ledger`: every session, the estimate, and the current session's refresh-by."""
    from .ledger_view import ended, terminal_chart

    rs = RefreshSettings.from_settings(settings)
    store = open_store(settings)
    try:
        records = store.records()
    finally:
        close(store)
    sessions = []
    for r in records:
        life = r.lifetime()
        sessions.append({**r.to_json(), "hours": round(life[0], 2) if life else None,
                         "died": life[1] if life else None, "ended": ended(r)})
    view = None
    if current is not None:
        record = next((r for r in records if r.session == session_key(current)), None)
        view = outlook(current, records, rs, alive=not (record and record.first_dead), where=store.where)
    est = view.estimate if view else estimate_for(records, None, rs.min_deaths)
    deaths = sum(1 for s in sessions if s["died"])
    return {"where": store.where, "sessions": sessions, "estimate": est.to_json(),
            "deaths": deaths, "censored": sum(1 for s in sessions if s["died"] is False),
            "current": {**view.to_json(), "sessionId": current.short_id, "fingerprint": current.fingerprint, "line": view.line(rs)} if view else None,
            "chart": terminal_chart(records)}

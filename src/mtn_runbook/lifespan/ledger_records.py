"""The lifespan ledger's sessions: one Record per login, folded from every entry about it (latest
alive, earliest death, unions), its lifetime (a session never seen dead is right-censored), and
the data lines a store keeps, the newest MAX_SESSIONS of them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Iterable

from ..core.times import iso, parse_time_or_none
from .ledger_lines import checked_entry, is_count, is_text, is_time, json_line, ping_value

MAX_SESSIONS = 100


def _is_record(data: Any) -> bool:
    return (isinstance(data, dict) and is_text(data.get("session")) and is_time(data.get("start"), False)
            and all(is_time(data.get(k)) for k in ("lastAlive", "firstDead", "prompted", "paged", "pingAt"))
            and isinstance(data.get("fps", []), list) and all(is_text(f, 64) for f in data.get("fps", []))
            and isinstance(data.get("by", []), list) and all(is_text(b) for b in data.get("by", []))
            and is_count(data.get("every")) and (data.get("ping") is None or ping_value(data["ping"]) is not None)
            and (data.get("sid") is None or is_text(data["sid"], 40)))


def _t(text: Any) -> datetime | None:
    return parse_time_or_none(text)


@dataclass
class Record:
    """One session, folded from every entry about it."""
    session: str
    start: datetime
    fps: list[str] = field(default_factory=list)
    last_alive: datetime | None = None
    first_dead: datetime | None = None
    prompted: datetime | None = None
    paged: datetime | None = None
    by: list[str] = field(default_factory=list)
    every: int | None = None
    ping: float | str | None = None      # the keepalive interval it had last (minutes), or "none"
    ping_at: datetime | None = None      # when that was seen
    sid: str | None = None               # the login's session id as output shows it (Session.short_id)

    def lifetime(self) -> tuple[float, bool] | None:
        """(hours, died): a death is placed midway between last seen alive and first seen dead;
        a session never seen dead lived at least until last seen alive (right-censored)."""
        if self.first_dead is not None:
            seen = self.last_alive if self.last_alive and self.last_alive < self.first_dead else None
            end = seen + (self.first_dead - seen) / 2 if seen else self.first_dead
            return max((end - self.start).total_seconds() / 3600, 0.0), True
        if self.last_alive is not None:
            return max((self.last_alive - self.start).total_seconds() / 3600, 0.0), False
        return None

    def to_json(self) -> dict:
        out = {"session": self.session, "start": iso(self.start), "fps": self.fps[-3:],
               "lastAlive": iso(self.last_alive) if self.last_alive else None,
               "firstDead": iso(self.first_dead) if self.first_dead else None,
               "prompted": iso(self.prompted) if self.prompted else None,
               "paged": iso(self.paged) if self.paged else None, "by": self.by[-3:], "every": self.every}
        if self.sid:
            out["sid"] = self.sid
        if self.ping is not None:
            out["ping"], out["pingAt"] = self.ping, iso(self.ping_at) if self.ping_at else None
        return out

    @classmethod
    def from_json(cls, data: Any) -> "Record | None":
        """None unless every field has its type (a body edited by hand, or to garbage)."""
        if not _is_record(data):
            return None
        return cls(data["session"], _t(data["start"]), list(data.get("fps") or []), _t(data.get("lastAlive")),
                   _t(data.get("firstDead")), _t(data.get("prompted")), _t(data.get("paged")),
                   list(data.get("by") or []), data.get("every"), ping_value(data.get("ping")), _t(data.get("pingAt")),
                   data.get("sid") if isinstance(data.get("sid"), str) else None)


def _merge(a: Record, b: Record) -> Record:
    """The same session as two records (two ledger issues): the union of what each saw."""
    def pick(x, y, f):
        return f(v for v in (x, y) if v is not None) if (x or y) else None
    later = max((a, b), key=lambda r: (r.ping_at is not None, r.ping_at or a.start, str(r.ping)))
    return Record(a.session, min(a.start, b.start), list(dict.fromkeys(a.fps + b.fps)),
                  pick(a.last_alive, b.last_alive, max), pick(a.first_dead, b.first_dead, min),
                  pick(a.prompted, b.prompted, min), pick(a.paged, b.paged, min),
                  list(dict.fromkeys(a.by + b.by)), pick(a.every, b.every, min), later.ping, later.ping_at,
                  a.sid or b.sid)


def fold(records: Iterable[Record], entries: Iterable[dict]) -> list[Record]:
    """Merge entries into per-session records. Idempotent (latest alive, earliest death, unions),
    so an entry folded twice, or a comment a failed delete left behind, changes nothing."""
    by_key: dict[str, Record] = {}
    for r in records:
        by_key[r.session] = _merge(by_key[r.session], r) if r.session in by_key else r
    for e in filter(None, map(checked_entry, entries)):
        at, key, event = _t(e["at"]), e["session"], e["event"]
        start = _t(e.get("start")) or at
        r = by_key.setdefault(key, Record(key, start))
        r.start = min(r.start, start)
        if isinstance(e.get("sid"), str):
            r.sid = e["sid"]
        if e.get("fp") and e["fp"] not in r.fps:
            r.fps.append(e["fp"])
        if e["by"] not in r.by:
            r.by.append(e["by"])
        if e.get("every"):
            r.every = min(r.every or e["every"], e["every"])
        ping = ping_value(e.get("ping"))
        if ping is not None and (r.ping_at is None or (at, str(ping)) > (r.ping_at, str(r.ping))):
            r.ping, r.ping_at = ping, at   # the latest wins: the interval the session had at its end
        if event == "alive":
            r.last_alive = max(r.last_alive or at, at)
        else:
            attr = {"dead": "first_dead", "prompted": "prompted", "paged": "paged"}[event]
            setattr(r, attr, min(getattr(r, attr) or at, at))
    return sorted(by_key.values(), key=lambda r: r.start)[-MAX_SESSIONS:]


def data_lines(records: list[Record]) -> str:
    return "".join(json_line(r.to_json()) for r in records)

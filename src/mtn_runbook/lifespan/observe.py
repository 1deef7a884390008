"""What one validation adds to the lifespan ledger: its entry, the store it goes to, and
`inv validate`'s bookkeeping.

Kept apart from refresh_due.py (survival, policy, working hours), which `inv validate` does not
need: validate loads only this and the ledger's own modules, and makes as few calls to the ledger as it can:

    API error                       nothing to record: the ledger is not read
    tracked expiry passed, and this
    machine saw the ledger hold the
    session alive < 1 h ago         nothing: the journal says so ("ledger" entries), no call
    a session seen alive < 1 h ago  read only (3 GETs); the routine "alive" adds nothing
    a session seen alive earlier    read, then fold that read (PATCH), as keepalive does hourly
    new session, or expired         read, comment, then fold (reading again: ledger_issue.py's protocol)
"""

from __future__ import annotations

import contextlib
from datetime import datetime, timedelta
from typing import Any

from ..core.config import Settings
from ..core.errors import RunbookError
from ..core.session import Session
from ..core.times import iso, now
from .ledger_file import FileStore
from .ledger_issue import IssueStore
from .ledger_lines import entry, observer, session_key
from .ledger_records import Record
from .schedule import CHECK_INTERVAL

ROUTINE_ALIVE_EVERY = timedelta(hours=1)   # a routine "alive" an hour is enough (keepalive writes one an hour)


def open_store(settings: Settings, api: Any = None) -> FileStore | IssueStore:
    """The shared issue when GitHub is configured, else `.cache/ledger.jsonl` beside the journal."""
    if settings.github_token and settings.github_repository and "/" in settings.github_repository:
        if api is None:
            from ..core import apis
            api = apis.github(settings)
        from . import ledger_view

        writers = [w.strip() for w in settings.monitor_ledger_writers.split(",") if w.strip()]
        return IssueStore(api, settings.github_repository, ledger_view, writers)
    return FileStore(settings.cache_dir / "ledger.jsonl")


def close(store: FileStore | IssueStore) -> None:
    if isinstance(store, IssueStore):
        store.api.close()


def lifespans_known(records: list[Record]) -> bool:
    """Some session was seen alive an hour or more after it started: the 60-minute tracked
    expiry is known to be a guess, so it is no longer worth a warning."""
    return any(life and life[0] >= 1 for life in (r.lifetime() for r in records))


def observation(session: Session, verdict_state: str, *, at: datetime | None = None,
                every: int | None = None, ping: float | str | None = None) -> list[dict]:
    """The ledger entry for one validation: alive or dead (an API error says nothing)."""
    event = {"valid": "alive", "valid_tracked_expired": "alive", "expired": "dead"}.get(verdict_state)
    every = every or int(CHECK_INTERVAL.total_seconds() // 60)
    return [entry(event, session, by=observer(), every=every, at=at, ping=ping)] if event else []


def append(store: FileStore | IssueStore, records: list[Record], entries: list[dict], *,
           just_read: bool = False) -> None:
    """A session already seen alive gets its routine "alive" through the fold only (no comment).
    `just_read`: `records` was read from `store` just now (see IssueStore.append)."""
    known = {r.session for r in records if r.last_alive}
    quiet = [e for e in entries if e["event"] == "alive" and e["session"] in known]
    store.append([e for e in entries if e not in quiet], quiet, just_read=just_read)


def seen_alive_lately(records: list[Record], found: list[dict], at: datetime) -> bool:
    """Every entry is an "alive" of a session the ledger saw alive within ROUTINE_ALIVE_EVERY."""
    last = {r.session: r.last_alive for r in records if r.last_alive}
    return bool(found) and all(e["event"] == "alive" and e["session"] in last
                               and at - last[e["session"]] < ROUTINE_ALIVE_EVERY for e in found)


def _ledger_alive_at(settings: Settings, session: Session) -> datetime | None:
    """When, as this machine last learnt, the ledger held `session` alive (journal kind "ledger")."""
    from ..core.journal import Journal
    from ..core.times import parse_time_or_none

    last = Journal(settings.journal_file).last("ledger", session=session_key(session))
    return parse_time_or_none(last.get("aliveAt")) if isinstance(last, dict) else None


def _note_ledger_alive(settings: Settings, session: Session, at: datetime) -> None:
    from ..core.journal import Journal

    with contextlib.suppress(OSError):   # a journal that cannot be written only costs the next read
        Journal(settings.journal_file).write("ledger", session=session_key(session), aliveAt=iso(at))


def observe_validation(settings: Settings, session: Session, verdict_state: str) -> tuple[bool, str | None]:
    """For `inv validate`: append what it saw; (lifespans known?, a problem line or None)."""
    found = observation(session, verdict_state)
    if not found:   # an API error: nothing to record, and the warning that needs lifespans is not shown
        return False, None
    at = now()
    if verdict_state == "valid_tracked_expired":   # no warning weighs lifespans: the ledger is only written
        alive_at = _ledger_alive_at(settings, session)
        if alive_at is not None and timedelta(0) <= at - alive_at < ROUTINE_ALIVE_EVERY:
            return False, None
    store = open_store(settings)
    try:
        records = store.records()
        if seen_alive_lately(records, found, at):
            record = next(r for r in records if r.session == found[0]["session"])
            _note_ledger_alive(settings, session, record.last_alive)
        else:
            append(store, records, found, just_read=True)
            if found[0]["event"] == "alive":
                _note_ledger_alive(settings, session, at)
        return lifespans_known(records), None
    except RunbookError as e:
        return False, f"lifespan ledger ({store.where}): {e.message}"
    finally:
        close(store)

"""`inv keepalive`: validate the session in hand every N minutes, to learn whether use keeps it alive.

Each ping is the validation request and nothing else (mtn/api.py: one GET, no redirect followed):
it never logs in, never pushes. Every ping is journaled (kind "keepalive", with its interval);
the lifespan ledger gets the session's first ping, then one "alive" an hour (LEDGER_EVERY), and its
death, each with `ping` = the interval (experiment.py's pinged group).

The moment the API refuses the session, keepalive stops and pages: the `mtn-session` alert issue
(opened, or commented on when one is open; its marker says "unhealthy", so the monitor's next
healthy run closes it) and ALERT_WEBHOOK_URL. A session already paged for is not paged again.

Timing: the next ping is N minutes away, give or take JITTER (so a fleet of watchers does not call
at one instant); after an error (the API did not answer) it comes sooner, backing off 1/8, 1/4,
1/2 of N, then N. One keepalive per session source: a lock beside the session file
(`<file>.keepalive.lock`), or per fingerprint for MTN_SESSION. A session file replaced meanwhile
(`inv refresh`) is picked up at the next ping: the retired session is left alone (unpinged).
"""

from __future__ import annotations

import contextlib
import random
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from ..core import deadline
from ..core.config import Settings
from ..core.errors import ConfigError, ExitCode, LockHeld, RunbookError
from ..core.journal import Journal
from ..core.session import Session, lock
from ..core.times import iso, now
from ..lifespan.observe import ROUTINE_ALIVE_EVERY

DEFAULT_MINUTES = 10.0
MAX_MINUTES = 24 * 60.0
JITTER = 0.1
LEDGER_EVERY = ROUTINE_ALIVE_EVERY.total_seconds()   # seconds between routine "alive" ledger entries


def check_minutes(value: object, what: str = "--every") -> float:
    """Minutes between pings: a number above 0, at most a day (fractions are for rehearsals)."""
    try:
        minutes = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        minutes = float("nan")
    if not 0 < minutes <= MAX_MINUTES:
        raise ConfigError(f"{what} {value!r} must be a number of minutes above 0 and at most {MAX_MINUTES:g}")
    return minutes


def next_wait(minutes: float, errors: int, rng: random.Random) -> float:
    """Seconds to the next ping: N minutes ± JITTER; after k errors in a row, N/8, N/4, N/2, N."""
    share = 1.0 if errors == 0 else min(1.0, 2 ** (errors - 1) / 8)
    return minutes * 60 * share * (1 + rng.uniform(-JITTER, JITTER))


@dataclass
class Run:
    """What a keepalive run saw; the task prints its end from this, even after Ctrl-C."""
    minutes: float
    pings: int = 0
    errors: int = 0
    last_alive: str | None = None
    refused: bool = False
    fingerprint: str | None = None
    short_id: str | None = None   # as the opening line named it
    paged: list[str] = field(default_factory=list)

    @property
    def exit_code(self) -> int:
        if self.refused:
            return ExitCode.SESSION_INVALID
        return ExitCode.SERVICE_FAILED if self.errors and self.last_alive is None else ExitCode.DONE


class Keepalive:
    def __init__(self, settings: Settings, *, minutes: float, count: int = 0, file: str | None = None,
                 env: bool = False, say: Callable[[str], None] = print, rng: random.Random | None = None):
        self.settings, self.count, self.file, self.env, self.say = settings, count, file, env, say
        self.rng = rng or random.Random()
        self.run = Run(check_minutes(minutes))
        if count < 0:
            raise ConfigError(f"--count {count} must be 0 (until stopped) or more")
        self.journal = Journal(settings.journal_file)
        self._ledger_at: float | None = None

    # -- the session in hand ------------------------------------------------------------
    def _load(self, check: bool = False):
        from ..mtn.source import current_session
        from ..core.console import protect

        loaded = current_session(self.settings, file=self.file, env=self.env, check=check)
        protect(*loaded.session.secrets())
        return loaded

    def _lock_path(self, loaded) -> Path:
        if loaded.path is not None:
            return loaded.path.with_name(loaded.path.name + ".keepalive")
        return self.settings.cache_dir / f"keepalive-{loaded.session.fingerprint}"

    def plan(self) -> str:
        """What a run would do, for --check: reads the session, sends nothing."""
        loaded = self._load(check=True)
        pings = f"{self.count} time(s)" if self.count else "until stopped"
        return (f"keepalive would validate session {loaded.session.short_id} from {loaded.source} every "
                f"{self.run.minutes:g} min, {pings}, journal each ping in {self.settings.journal_file}, add it to "
                "the lifespan ledger, and page (alert issue, webhook) the moment the MTN API refuses it")

    def start(self) -> Run:
        loaded = self._load()
        where = self._lock_path(loaded)
        try:
            with lock(where):
                self._loop(loaded)
        except LockHeld:
            raise LockHeld(f"another keepalive is already pinging {loaded.source}",
                           f"it holds {where}.lock; stop it first") from None
        return self.run

    def _loop(self, loaded) -> None:
        session, source = loaded.session, loaded.source
        self.say(f"keepalive: validating {session.short_id} from {source} every {self.run.minutes:g} min "
                 f"(±{JITTER:.0%}); only the validation request is sent; Ctrl-C stops")
        while True:
            if loaded.path is not None and self.run.pings:
                session = self._reloaded(session)
            state = self._ping(session)
            if state == "expired":
                self._refused(session)
                return
            if self.count and self.run.pings >= self.count:
                return
            wait = next_wait(self.run.minutes, self.run.errors if state == "error" else 0, self.rng)
            self.say(f"  next ping in {wait / 60:.2g} min")
            deadline.sleep(wait)

    def _reloaded(self, session: Session) -> Session:
        """The session file now, if it holds another session (`inv refresh` replaced it)."""
        try:
            fresh = self._load().session
        except RunbookError as e:
            self.say(f"  ⚠ session file unreadable ({e.message}); still pinging {session.short_id}")
            return session
        if fresh.fingerprint != session.fingerprint:
            self.say(f"  the session file now holds {fresh.short_id}: pinging it, leaving {session.short_id} alone")
            self._ledger_at = None
        return fresh

    # -- one ping ---------------------------------------------------------------------------
    def _ping(self, session: Session) -> str:
        from ..mtn.api import validate

        verdict = validate(self.settings, session, source="keepalive")
        run = self.run
        run.pings += 1
        run.fingerprint, run.short_id = session.fingerprint, session.short_id
        if verdict.state == "error":
            run.errors += 1
        else:
            run.errors = 0
        if verdict.valid:
            run.last_alive = iso(verdict.checked_at)
        recorded = False
        if verdict.valid and self._ledger_due(session):
            recorded = self._to_ledger(session, verdict.state)
            if recorded:
                self._ledger_at = time.monotonic()
        with contextlib.suppress(OSError):
            self.journal.write("keepalive", event="ping", verdict=verdict.state, apiStatus=verdict.api_status,
                               fingerprint=session.fingerprint, every=run.minutes, ping=run.pings, ledger=recorded)
        mark = {"valid": "✔", "valid_tracked_expired": "✔", "expired": "✘"}.get(verdict.state, "⚠")
        self.say(f"{mark} {verdict.checked_at:%H:%M:%S} ping {run.pings}: {verdict.state} "
                 f"(API {verdict.api_status or 'none'}) — {verdict.message}")
        return verdict.state

    def _ledger_due(self, session: Session) -> bool:
        """An hour since this session's last ledger entry: this process's, else the journal's
        (the watcher's timer starts a new process for every ping)."""
        if self._ledger_at is None:
            from ..core.times import parse_time_or_none

            last = next((e for e in reversed(self.journal.entries("keepalive", event="ping"))
                         if e.get("fingerprint") == session.fingerprint and e.get("ledger")), None)
            ts = parse_time_or_none(last.get("ts")) if last else None
            age = (now() - ts).total_seconds() if ts else None
            if age is None:
                return True
            self._ledger_at = time.monotonic() - age
        return time.monotonic() - self._ledger_at >= LEDGER_EVERY

    def _to_ledger(self, session: Session, state: str, extra: tuple[str, ...] = ()) -> bool:
        from ..lifespan.ledger_lines import entry, observer
        from ..lifespan.observe import append, observation, open_store

        every = max(1, round(self.run.minutes))
        found = observation(session, state, every=every, ping=round(self.run.minutes, 4))
        found += [entry(e, session, by=observer(), every=None, ping=round(self.run.minutes, 4)) for e in extra]
        store = open_store(self.settings)
        try:
            append(store, store.records(), found)
            return True
        except RunbookError as e:
            self.say(f"  lifespan ledger ({store.where}): not recorded — {e.message}")
            return False
        finally:
            if hasattr(store, "api"):
                store.api.close()

    # -- refused: stop and page ---------------------------------------------------------------
    def _refused(self, session: Session) -> None:
        run = self.run
        run.refused = True
        before = next((e for e in reversed(self.journal.entries("keepalive", event="paged"))
                       if e.get("fingerprint") == session.fingerprint), None)
        if before:
            run.paged.append(f"already paged for {session.short_id} "
                             f"at {before.get('ts')}: not paged again")
        else:
            from .keepalive_page import page

            run.paged += page(self.settings, session, run)
            with contextlib.suppress(OSError):
                self.journal.write("keepalive", event="paged", fingerprint=session.fingerprint, at=iso(now()),
                                   lines=run.paged)
        self._to_ledger(session, "expired", ("paged",) if not before else ())

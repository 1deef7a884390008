"""What a lifespan ledger line is: the entry one observation writes (who saw which session, when,
alive or dead), the type checks every line read must pass (anyone who can comment can write one),
the compact text a line is written as, and the warning for lines skipped. It never holds a secret:
fingerprints, timestamps, verdicts, who and where observed, and the observer's check interval.
"""

from __future__ import annotations

import json
import os
import re
import secrets
from datetime import datetime
from typing import Any

from ..core.session import Session
from ..core.times import iso, now, parse_time_or_none

EVENTS = ("alive", "dead", "prompted", "paged")


def session_key(session: Session) -> str:
    """One login is one session: `inv extend` changes the fingerprint but keeps createdAt."""
    created = session.extra.get("createdAt")
    return f"created:{created}" if created else f"fp:{session.fingerprint}"


def entry(event: str, session: Session, *, by: str, every: int | None, at: datetime | None = None,
          ping: float | str | None = None) -> dict:
    """`ping`: the keepalive interval (minutes) the session had when seen, or "none" for the
    retired session that only the shadow probe checks (the experiment's two groups)."""
    assert event in EVENTS, event
    start = session.created_at
    out = {"id": secrets.token_hex(6), "at": iso(at or now()), "event": event, "session": session_key(session),
           "sid": session.short_id, "fp": session.fingerprint, "start": iso(start) if start else None, "by": by, "every": every}
    if ping is not None:
        out["ping"] = ping
    return out


def ping_value(value: Any) -> float | str | None:
    """A keepalive interval as a line holds it (minutes > 0, or "none"), else None."""
    if value == "none":
        return "none"
    if isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0:
        return value
    return None


# -- what a ledger line must be (anyone who can comment can write one) -----------------------
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def is_text(value: Any, limit: int = 120) -> bool:
    return isinstance(value, str) and 0 < len(value) <= limit and not _CONTROL.search(value)


def is_count(value: Any) -> bool:
    return value is None or (isinstance(value, int) and not isinstance(value, bool) and value > 0)


def is_time(value: Any, optional: bool = True) -> bool:
    return (optional and value is None) or parse_time_or_none(value) is not None


def checked_entry(e: Any) -> dict | None:
    """`e` with every field of its type (only the fields the ledger knows), else None."""
    if not isinstance(e, dict) or not isinstance(e.get("event"), str) or e["event"] not in EVENTS:
        return None
    if not (is_text(e.get("session")) and is_text(e.get("fp"), 64) and is_time(e.get("at"), False)
            and is_time(e.get("start")) and is_text(e.get("by")) and is_count(e.get("every"))
            and (e.get("ping") is None or ping_value(e["ping"]) is not None)
            and (e.get("id") is None or is_text(e["id"], 40)) and (e.get("sid") is None or is_text(e["sid"], 40))):
        return None
    return {k: e[k] for k in ("id", "at", "event", "session", "sid", "fp", "start", "by", "every", "ping") if k in e}


def parse_lines(text: str) -> tuple[list[Any], int]:
    """The JSON values of `text`'s lines, and how many lines were not JSON."""
    out, bad = [], 0
    for line in text.splitlines():
        if not line.strip():
            continue
        try:
            out.append(json.loads(line))
        except (ValueError, RecursionError):   # RecursionError: `[[[…]]]` nested past Python's limit
            bad += 1
    return out, bad


def observer(environ: dict | os._Environ = os.environ) -> str:
    """Who and where: the Actions run, else user@host (names only, never a token)."""
    if environ.get("GITHUB_ACTIONS") == "true":
        return f"github-actions run {environ.get('GITHUB_RUN_ID', '?')}"
    import getpass
    import socket

    try:
        user = getpass.getuser()
    except Exception:  # no user name in a container: still say where
        user = "someone"
    return f"{user}@{socket.gethostname()}"


_FENCED = str.maketrans({c: f"\\u{ord(c):04x}" for c in "`@<>&|"})


def json_line(data: Any) -> str:
    """Compact JSON for a fenced Markdown block: backticks (which could close the fence), `@`, `<`,
    `>`, `&` and `|` written as \\u escapes, the same JSON to any reader."""
    return json.dumps(data, separators=(",", ":")).translate(_FENCED) + "\n"


class Warnings:
    """What a read skipped, said once each (a console warning; the run goes on)."""

    def __init__(self) -> None:
        self.said: set[str] = set()

    def __call__(self, text: str) -> None:
        if text not in self.said:
            from ..core.console import warning

            self.said.add(text)
            warning(f"lifespan ledger: {text}")

    def skipped(self, bad: int, where: str) -> None:
        if bad:
            self(f"skipped {bad} malformed line(s) in {where} (a field missing or of the wrong type)")

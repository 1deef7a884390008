"""The captured MTN session: its format, its encoding, its file on disk, and the value pushed.

Format (what the app decodes from MTN_SESSION, so these names and types are a contract):
    {"cookies": [Playwright cookies], "sessionId": "<SSO JSESSIONID>", "expiresAt": "<ISO 8601>"}
plus optional fields (createdAt, extendedAt, gateExpiresAt, ...), kept as they are.

Two dates are kept apart:
    tracked expiry   `expiresAt` of the session FILE: login + 60 min, moved by `inv extend`; the
                     operator's conservative guess (MTN keeps sessions far longer)
    the app's gate   `expiresAt` of the PUSHED value: the app uses a session only while it is more
                     than 5 minutes away, whatever MTN says; chosen at push time (MTN_GATE_HOURS)
                     and remembered in the file as `gateExpiresAt` (core/pushed.py builds that value)
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import fcntl
import hashlib
import json
import os
import stat
import tempfile
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Iterator
from urllib.parse import urlsplit

from .errors import ConfigError, LockHeld, SessionFormatError
from .times import iso, now, minutes_until, parse_time, parse_time_or_none, to_ms

TRACKED_LIFETIME = timedelta(minutes=60)
REQUIRED = ("cookies", "sessionId", "expiresAt")
COOKIE_FIELDS = ("name", "value", "domain")
GATE_FIELD = "gateExpiresAt"             # the app's gate chosen at the last push (core/pushed.py)


@dataclass(frozen=True)
class Session:
    cookies: tuple[dict[str, Any], ...]
    session_id: str
    expires_at: datetime
    extra: dict[str, Any] = field(default_factory=dict)

    # -- building ---------------------------------------------------------------------
    @classmethod
    def from_cookies(cls, cookies: list[dict[str, Any]], session_id: str, at: datetime | None = None) -> "Session":
        at = to_ms(at or now())
        return cls(tuple(cookies), session_id, at + TRACKED_LIFETIME, {"createdAt": iso(at)})

    @classmethod
    def from_dict(cls, data: Any, source: str) -> "Session":
        if not isinstance(data, dict):
            raise SessionFormatError(f"{source} is JSON but not an object")
        for name in REQUIRED:
            if name not in data:
                raise SessionFormatError(f"{source} has no `{name}` field")
        cookies = data["cookies"]
        if not isinstance(cookies, list) or not cookies:
            raise SessionFormatError(f"{source}: `cookies` must be a non-empty list")
        for i, cookie in enumerate(cookies):
            if not isinstance(cookie, dict):
                raise SessionFormatError(f"{source}: cookie {i} is not an object")
            for key in COOKIE_FIELDS:
                if not isinstance(cookie.get(key), str):
                    raise SessionFormatError(f"{source}: cookie {i} has no string `{key}`")
                if any(not 32 <= ord(ch) <= 126 for ch in cookie[key]):  # it goes into a Cookie header
                    raise SessionFormatError(f"{source}: cookie {i} has a `{key}` with a line break, a control or "
                                             "a non-ASCII character")
        if not isinstance(data["sessionId"], str) or not data["sessionId"].strip():
            raise SessionFormatError(f"{source}: `sessionId` must be a non-empty string")
        expires_at = parse_time(data["expiresAt"], f"{source}: expiresAt")
        extra = {k: v for k, v in data.items() if k not in REQUIRED}
        return cls(tuple(cookies), data["sessionId"], expires_at, extra)

    # -- encoding ---------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        return {"cookies": list(self.cookies), "sessionId": self.session_id,
                "expiresAt": iso(self.expires_at), **self.extra}

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), separators=(",", ":"), ensure_ascii=False)

    def encode(self) -> str:
        """Base64 of the compact JSON, no newline: the value of MTN_SESSION."""
        return base64.b64encode(self.to_json().encode("utf-8")).decode("ascii")

    @property
    def fingerprint(self) -> str:
        return fingerprint(self.encode())

    def secrets(self) -> list[str]:
        """Values that must never be printed: the encoded session, cookie values, the id."""
        return [self.encode(), self.session_id, *(c["value"] for c in self.cookies if c["value"])]

    # -- questions --------------------------------------------------------------------
    @property
    def short_id(self) -> str:
        """A recognisable but harmless form of sessionId for output (it is a cookie value)."""
        sid = self.session_id
        return f"{sid[:4]}…{sid[-4:]}" if len(sid) > 12 else "…"

    @property
    def created_at(self) -> datetime | None:
        return parse_time_or_none(self.extra.get("createdAt"))

    def minutes_left(self, at: datetime | None = None) -> float:
        return minutes_until(self.expires_at, at)

    def extended(self, hours: float, at: datetime | None = None) -> "Session":
        at = to_ms(at or now())
        return replace(self, expires_at=to_ms(at + timedelta(hours=hours)),
                       extra={**self.extra, "extendedAt": iso(at)})

    @property
    def gate(self) -> datetime:
        """The expiresAt production reads once this session is pushed: the one chosen at the last
        push or extension, else expiresAt itself (what every push carried before)."""
        with contextlib.suppress(SessionFormatError):
            if self.extra.get(GATE_FIELD):
                return parse_time(self.extra[GATE_FIELD], GATE_FIELD)
        return self.expires_at

    def with_gate(self, moment: datetime) -> "Session":
        return replace(self, extra={**self.extra, GATE_FIELD: iso(to_ms(moment))})

    def cookies_sent_to(self, url: str) -> list[dict[str, Any]]:
        """The cookies a browser would send to `url`: RFC 6265 domain and path match, secure only over https."""
        parts = urlsplit(url)
        host, path = (parts.hostname or "").lower(), parts.path or "/"
        chosen = []
        for c in self.cookies:
            domain = c["domain"].lower()
            host_ok = host == domain.lstrip(".") or (domain.startswith(".") and host.endswith(domain))
            cpath = c.get("path") or "/"
            path_ok = path == cpath or path.startswith(cpath.rstrip("/") + "/") or cpath == "/"
            secure_ok = not c.get("secure") or parts.scheme == "https"
            if host_ok and path_ok and secure_ok:
                chosen.append(c)
        return chosen

    def cookies_for(self, url: str) -> dict[str, str]:
        """Only the cookies a browser would send to `url` (host, path, secure), by name."""
        return {c["name"]: c["value"] for c in self.cookies_sent_to(url)}


def fingerprint(value: str) -> str:
    """First 12 hex of sha256: names a session in output and the journal without revealing it."""
    return hashlib.sha256(value.encode("utf-8")).hexdigest()[:12]


def decode(text: str, source: str = "MTN_SESSION") -> tuple[Session, list[str]]:
    """Strictly decode a base64 session; returns it and any warnings (e.g. stripped whitespace)."""
    warnings = []
    value = text.strip()
    if value != text:
        warnings.append(f"{source} had whitespace around it; stripped it")
    if not value:
        raise SessionFormatError(f"{source} is empty")
    try:
        raw = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise SessionFormatError(f"{source} is not valid base64") from None
    try:
        body = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise SessionFormatError(f"{source} is base64, but not of UTF-8 text") from None
    return Session.from_dict(_parse_json(body, source), source), warnings


def _parse_json(body: str, source: str) -> Any:
    try:
        return json.loads(body)
    except json.JSONDecodeError as e:
        raise SessionFormatError(f"{source} is not JSON ({e.msg} at line {e.lineno} column {e.colno})") from None
    except RecursionError:
        raise SessionFormatError(f"{source} is not a session (JSON nested too deeply)") from None


# -- the file on disk -------------------------------------------------------------------
def load(path: Path, *, fix_mode: bool = True) -> tuple[Session, list[str]]:
    """Read the session file; a too-open mode is fixed to 0600 with a warning (only warned of
    when not `fix_mode`: check mode writes nothing, not even a mode)."""
    warnings = []
    if not path.exists():
        raise SessionFormatError(f"session file {path} does not exist", "run `inv auth` to log in and create it")
    if not path.is_file():
        raise SessionFormatError(f"session file {path} is not a file")
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077 and not fix_mode:
        warnings.append(f"session file {path} has mode {mode:04o}; run without --check to set it to 0600")
    elif mode & 0o077:
        os.chmod(path, 0o600)
        warnings.append(f"session file {path} had mode {mode:04o}; set it to 0600")
    try:
        body = path.read_text("utf-8")
    except UnicodeDecodeError:
        raise SessionFormatError(f"session file {path} is not UTF-8 text") from None
    except OSError as e:
        raise ConfigError(f"cannot read session file {path}: {e.strerror}") from None
    if not body.strip():
        raise SessionFormatError(f"session file {path} is empty", "run `inv auth` to log in again")
    source = f"session file {path}"
    return Session.from_dict(_parse_json(body, source), source), warnings


def write_private(path: Path, text: str) -> None:
    """Atomic 0600 write: temp file beside the target, fsync, rename."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    with contextlib.suppress(OSError):
        dir_fd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)


def save(path: Path, session: Session, *, keep_prev: bool = True) -> None:
    """Save atomically at 0600, keeping the session it replaces as `<file>.prev`. `keep_prev=False`
    for the same session with a note added (the gate chosen at a push): `.prev` stays the one before."""
    if path.is_file() and keep_prev:
        write_private(prev_path(path), path.read_text("utf-8"))
    write_private(path, json.dumps(session.to_dict(), indent=2, ensure_ascii=False) + "\n")


def prev_path(path: Path) -> Path:
    return path.with_name(path.name + ".prev")


@contextlib.contextmanager
def lock(path: Path, *, check: bool = False) -> Iterator[None]:
    """One run at a time per session file; a second run fails at once with LockHeld.
    `check` (check mode writes nothing): only look whether a run holds it; create no file."""
    lock_file = path.with_name(path.name + ".lock")
    if check:
        if not lock_file.exists():
            yield
            return
        fd = os.open(lock_file, os.O_RDONLY)
        mode = fcntl.LOCK_SH | fcntl.LOCK_NB
    else:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(lock_file, os.O_RDWR | os.O_CREAT, 0o600)
        mode = fcntl.LOCK_EX | fcntl.LOCK_NB
    try:
        try:
            fcntl.flock(fd, mode)
        except BlockingIOError:
            raise LockHeld(f"another run holds the lock on {path}") from None
        yield
    finally:
        os.close(fd)

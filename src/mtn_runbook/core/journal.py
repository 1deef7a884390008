"""`.cache/journal.jsonl`: one JSON line per step, validation and push; never a secret.

Entries carry a `kind` ("step", "validation", ...), a UTC timestamp `ts`, and only names,
outcomes, durations, short details and session fingerprints.

Reading: the file is parsed once per process and then only its new tail (a module-level cache
keyed by path, checked against the file's inode and size), so a push to 50 targets does not
read it 50 times. A damaged line (cut inside a multi-byte character, torn JSON) is skipped, and
said once on stderr: a bad line must never stop an incident.

Bounded: when the file passes COMPACT_AT bytes, a write compacts it (see `compacted`): the last
KEEP_RECENT entries stay whole, and of older ones only what later reads need (every session's
lifespan-defining validations, each target's last push, each task's last run, the last alerting
monitor). Writers and the compaction take one lock (`journal.jsonl.lock`), so no line is lost.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

from .console import scrub
from .times import iso, now

COMPACT_AT = 4 * 1024 * 1024     # bytes: about 16,000 entries
KEEP_RECENT = 2000               # entries kept whole by a compaction


@dataclass
class _Parsed:
    inode: int = -1
    offset: int = 0                      # bytes consumed (whole lines only)
    entries: list[dict[str, Any]] = field(default_factory=list)
    damaged: int = 0


_cache: dict[str, _Parsed] = {}
_warned: set[str] = set()
_guard = threading.Lock()


class Journal:
    def __init__(self, path: Path):
        self.path = path

    def write(self, kind: str, **fields: Any) -> dict[str, Any]:
        entry = {"ts": iso(now()), "kind": kind, **fields}
        line = (scrub(json.dumps(entry, default=str, ensure_ascii=False)) + "\n").encode("utf-8")
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        with self._locked():
            fd = os.open(self.path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o600)
            try:
                size = os.fstat(fd).st_size
                if size and os.pread(fd, 1, size - 1) != b"\n":
                    line = b"\n" + line  # a killed run's torn last line must not swallow this one
                os.write(fd, line)
                size += len(line)
            finally:
                os.close(fd)
            if size > COMPACT_AT:
                self._compact()
        return entry

    def entries(self, kind: str | None = None, **match: Any) -> list[dict[str, Any]]:
        return [e for e in self._read() if (kind is None or e.get("kind") == kind)
                and all(e.get(k) == v for k, v in match.items())]

    def last(self, kind: str | None = None, **match: Any) -> dict[str, Any] | None:
        e: dict[str, Any]
        for e in reversed(self._read()):
            if (kind is None or e.get("kind") == kind) and all(e.get(k) == v for k, v in match.items()):
                return e
        return None

    def latest_by(self, kind: str, key: str) -> dict[str, dict[str, Any]]:
        """The last entry of `kind` for each value of `key` (e.g. each target's last push), in
        one pass over the journal."""
        found: dict[str, dict[str, Any]] = {}
        for e in self._read():
            if e.get("kind") == kind and key in e:
                found[str(e[key])] = e
        return found

    # -- reading ----------------------------------------------------------------------------
    def _read(self) -> list[dict[str, Any]]:
        key = str(self.path)
        with _guard:
            try:
                st = os.stat(self.path)
            except FileNotFoundError:
                _cache.pop(key, None)
                return []
            parsed = _cache.get(key)
            if parsed is None or parsed.inode != st.st_ino or st.st_size < parsed.offset:
                parsed = _cache[key] = _Parsed(inode=st.st_ino)  # new, rotated or compacted file
            if st.st_size > parsed.offset:
                with self.path.open("rb") as f:
                    f.seek(parsed.offset)
                    data = f.read(st.st_size - parsed.offset)
                whole = data.rfind(b"\n") + 1  # a last line without newline may still be being written
                before = parsed.damaged
                for raw in data[:whole].splitlines():
                    entry = _parse(raw)
                    if entry is None:
                        parsed.damaged += bool(raw.strip())
                    else:
                        parsed.entries.append(entry)
                parsed.offset += whole
                if parsed.damaged > before and key not in _warned:
                    _warned.add(key)
                    _say_damaged(self.path, parsed.damaged)
            return parsed.entries

    # -- keeping it bounded -----------------------------------------------------------------
    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        fd = os.open(self.path.with_name(self.path.name + ".lock"), os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)  # closing releases the lock

    def _compact(self) -> None:
        """Rewrite the journal as `compacted(entries)`, atomically (called under the lock)."""
        kept = compacted(self._read())
        tmp = self.path.with_name(self.path.name + ".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            os.write(fd, "".join(json.dumps(e, default=str, ensure_ascii=False) + "\n" for e in kept).encode("utf-8"))
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, self.path)


def _parse(raw: bytes) -> dict[str, Any] | None:
    try:
        entry = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return None
    return entry if isinstance(entry, dict) else None


def _say_damaged(path: Path, count: int) -> None:
    from .console import Console

    Console(stderr=True).warn(f"journal {path}: skipped {count} damaged line(s) (torn or not UTF-8); "
                              "the rest is used as usual")


def _session_key(entry: dict[str, Any]) -> str | None:
    """Which login a validation belongs to (one login: createdAt, else the fingerprint)."""
    if entry.get("createdAt"):
        return f"created:{entry['createdAt']}"
    return f"fp:{entry['fingerprint']}" if entry.get("fingerprint") else None


def compacted(entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """What a compaction keeps, in the original order: the last KEEP_RECENT entries, and from
    older ones each session's first validation, first and last valid, first expired and first
    of each fingerprint (the figures lifespans and survival are computed from), each target's
    last push, each task's last run events, and the last alerting monitor entry."""
    older = entries[:-KEEP_RECENT] if len(entries) > KEEP_RECENT else []
    keep: set[int] = set()
    firsts: dict[tuple[Any, ...], int] = {}
    lasts: dict[tuple[Any, ...], int] = {}
    for i, e in enumerate(older):
        kind = e.get("kind")
        if kind == "validation":
            key = _session_key(e)
            state = "valid" if str(e.get("verdict") or "").startswith("valid") else str(e.get("verdict"))
            for mark in ((key, "seen"), (key, state), (key, "fp", e.get("fingerprint"))):
                firsts.setdefault(mark, i)
            lasts[(key, state)] = i
        elif kind == "push":
            lasts[("push", e.get("target"))] = i
        elif kind == "run":
            lasts[("run", e.get("task"), e.get("event"))] = i
        elif kind == "monitor" and e.get("alerted"):
            lasts[("monitor",)] = i
        elif kind == "login":
            lasts[("login", e.get("fingerprint"))] = i
    keep.update(firsts.values())
    keep.update(lasts.values())
    return [older[i] for i in sorted(keep)] + entries[len(older):]

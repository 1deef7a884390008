"""`.cache/journal.jsonl`: one JSON line per step, validation and push; never a secret.

Entries carry a `kind` ("step", "validation", ...), a UTC timestamp `ts`, and only names,
outcomes, durations, short details and session fingerprints.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Iterator

from .console import scrub
from .session import iso, now


class Journal:
    def __init__(self, path: Path):
        self.path = path

    def write(self, kind: str, **fields: Any) -> dict:
        entry = {"ts": iso(now()), "kind": kind, **fields}
        line = scrub(json.dumps(entry, default=str, ensure_ascii=False)) + "\n"
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(fd, line.encode("utf-8"))
        finally:
            os.close(fd)
        return entry

    def entries(self, kind: str | None = None, **match: Any) -> list[dict]:
        return [e for e in self._read() if (kind is None or e.get("kind") == kind)
                and all(e.get(k) == v for k, v in match.items())]

    def last(self, kind: str | None = None, **match: Any) -> dict | None:
        found = self.entries(kind, **match)
        return found[-1] if found else None

    def _read(self) -> Iterator[dict]:
        try:
            with self.path.open(encoding="utf-8") as f:
                for line in f:
                    try:
                        entry = json.loads(line)
                    except json.JSONDecodeError:
                        continue  # a torn last line from a killed run: skip it
                    if isinstance(entry, dict):
                        yield entry
        except FileNotFoundError:
            return

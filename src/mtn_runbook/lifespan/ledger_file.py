"""The lifespan ledger's local store, for a lone operator without GitHub settings:
`.cache/ledger.jsonl` (0600), session lines and entry lines, one writer at a time (flock). New
entries are appended; past MAX_LINES the file is folded to one line per session (ledger_records.py).
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
from pathlib import Path
from typing import Any, Iterator

from .ledger_lines import Warnings, checked_entry, parse_lines
from .ledger_records import Record, data_lines, fold

MAX_LINES = 400


class FileStore:
    """`.cache/ledger.jsonl`: session lines and entry lines; one writer at a time (flock)."""

    def __init__(self, path: Path):
        self.path = path
        self.where = str(path)
        self.warn = Warnings()

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(self.path.with_name(self.path.name + ".lock"), os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)

    def _lines(self) -> list[Any]:
        try:
            return parse_lines(self.path.read_text(encoding="utf-8"))[0]
        except FileNotFoundError:
            return []

    def records(self) -> list[Record]:
        lines = self._lines()
        base = [Record.from_json(x) for x in lines if not (isinstance(x, dict) and "event" in x)]
        entries = [x for x in lines if isinstance(x, dict) and "event" in x]
        self.warn.skipped(base.count(None) + sum(1 for x in entries if checked_entry(x) is None), self.where)
        return fold([r for r in base if r], entries)

    def append(self, entries: list[dict], quiet: list[dict] = (), *, just_read: bool = False) -> None:
        """Under the file's lock (`just_read` changes nothing here: appending needs no fold)."""
        from ..core.session import write_private

        entries = [*entries, *quiet]

        with self._locked():
            lines = self._lines()
            if len(lines) + len(entries) > MAX_LINES:
                write_private(self.path, data_lines(self.records()))
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            try:
                os.write(fd, "".join(json.dumps(e) + "\n" for e in entries).encode())
            finally:
                os.close(fd)

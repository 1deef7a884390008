"""The lifespan ledger: what every runner (the CI monitor, each operator's `inv`) saw of each
session, shared so that the survival estimate learns from all of them. It never holds a secret:
fingerprints, timestamps, verdicts, who and where observed, and the observer's check interval.

Where it lives (ARCHITECTURE.md says why): one GitHub issue labelled `mtn-ledger` in
GITHUB_REPOSITORY, found through the issues list. New observations are *comments* (each POST
creates its own, so two writers at once lose nothing); every writer then folds the comments into
the issue *body* (one line per session) and deletes the comments it folded. A folder reads the
comments first and the body second, so whatever it deletes is already in the body it writes, or
in the body a later folder reads. Routine "still alive" updates skip the comment (no notification
to watchers every hour) and go straight into the fold: a concurrent fold may drop one, which
costs only that hour's precision; a new session, a death or a prompt is always a comment. Without GitHub settings, `.cache/ledger.jsonl` (0600, flock)
holds the same lines for a lone operator.

Size: the body keeps the newest MAX_SESSIONS sessions (about 250 characters each) and stays far
under GitHub's 65,536-character limit; the local file is folded the same way past MAX_LINES.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import re
import secrets
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Iterable, Iterator

from ..core.errors import RunbookError, SessionFormatError
from ..core.session import Session, iso, now, parse_time

LABEL = "mtn-ledger"
TITLE = "MTN session lifespan ledger"
MAX_SESSIONS = 100
MAX_LINES = 400
ENTRY = "<!-- mtn-runbook ledger entry -->"
DATA = re.compile(r"```jsonl\n(.*?)```", re.S)
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
           "fp": session.fingerprint, "start": iso(start) if start else None, "by": by, "every": every}
    if ping is not None:
        out["ping"] = ping
    return out


def _ping(value: Any) -> float | str | None:
    if value == "none":
        return "none"
    if isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0:
        return value
    return None


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


def _t(text: Any) -> datetime | None:
    try:
        return parse_time(text, "ledger time") if text else None
    except SessionFormatError:
        return None


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
        if self.ping is not None:
            out["ping"], out["pingAt"] = self.ping, iso(self.ping_at) if self.ping_at else None
        return out

    @classmethod
    def from_json(cls, data: dict) -> "Record | None":
        start = _t(data.get("start"))
        if not isinstance(data.get("session"), str) or start is None:
            return None
        return cls(data["session"], start, list(data.get("fps") or []), _t(data.get("lastAlive")),
                   _t(data.get("firstDead")), _t(data.get("prompted")), _t(data.get("paged")),
                   list(data.get("by") or []), data.get("every"), _ping(data.get("ping")), _t(data.get("pingAt")))


def _merge(a: Record, b: Record) -> Record:
    """The same session as two records (two ledger issues): the union of what each saw."""
    def pick(x, y, f):
        return f(v for v in (x, y) if v is not None) if (x or y) else None
    later = max((a, b), key=lambda r: (r.ping_at is not None, r.ping_at or a.start, str(r.ping)))
    return Record(a.session, min(a.start, b.start), list(dict.fromkeys(a.fps + b.fps)),
                  pick(a.last_alive, b.last_alive, max), pick(a.first_dead, b.first_dead, min),
                  pick(a.prompted, b.prompted, min), pick(a.paged, b.paged, min),
                  list(dict.fromkeys(a.by + b.by)), pick(a.every, b.every, min), later.ping, later.ping_at)


def fold(records: Iterable[Record], entries: Iterable[dict]) -> list[Record]:
    """Merge entries into per-session records. Idempotent (latest alive, earliest death, unions),
    so an entry folded twice, or a comment a failed delete left behind, changes nothing."""
    by_key: dict[str, Record] = {}
    for r in records:
        by_key[r.session] = _merge(by_key[r.session], r) if r.session in by_key else r
    for e in entries:
        at = _t(e.get("at"))
        key, event = e.get("session"), e.get("event")
        if at is None or not isinstance(key, str) or event not in EVENTS:
            continue
        start = _t(e.get("start")) or at
        r = by_key.setdefault(key, Record(key, start))
        r.start = min(r.start, start)
        if e.get("fp") and e["fp"] not in r.fps:
            r.fps.append(e["fp"])
        if e.get("by") and e["by"] not in r.by:
            r.by.append(str(e["by"]))
        if isinstance(e.get("every"), int) and e["every"] > 0:
            r.every = min(r.every or e["every"], e["every"])
        ping = _ping(e.get("ping"))
        if ping is not None and (r.ping_at is None or (at, str(ping)) > (r.ping_at, str(r.ping))):
            r.ping, r.ping_at = ping, at   # the latest wins: the interval the session had at its end
        if event == "alive":
            r.last_alive = max(r.last_alive or at, at)
        else:
            attr = {"dead": "first_dead", "prompted": "prompted", "paged": "paged"}[event]
            setattr(r, attr, min(getattr(r, attr) or at, at))
    return sorted(by_key.values(), key=lambda r: r.start)[-MAX_SESSIONS:]


def data_lines(records: list[Record]) -> str:
    return "".join(json.dumps(r.to_json(), separators=(",", ":")) + "\n" for r in records)


# -- where it is kept -----------------------------------------------------------------------
class FileStore:
    """`.cache/ledger.jsonl`: session lines and entry lines; one writer at a time (flock)."""

    def __init__(self, path: Path):
        self.path = path
        self.where = str(path)

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(self.path.with_name(self.path.name + ".lock"), os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)

    def _lines(self) -> list[dict]:
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return []
        out = []
        for line in text.splitlines():
            with contextlib.suppress(ValueError):
                item = json.loads(line)
                if isinstance(item, dict):
                    out.append(item)
        return out

    def records(self) -> list[Record]:
        lines = self._lines()
        base = [r for r in (Record.from_json(x) for x in lines if "session" in x and "event" not in x) if r]
        return fold(base, [x for x in lines if "event" in x])

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


class IssueStore:
    """The `mtn-ledger` issue of the repository (see the module doc for the folding protocol)."""

    def __init__(self, api: Any, repository: str):
        self.api, self.repo = api, f"/repos/{repository}"
        self.where = f"{repository} issue labelled {LABEL}"
        self._issues: list[dict] | None = None
        self._read: dict[int, tuple[list[dict], str | None]] = {}   # what records() just read, per issue

    def issues(self) -> list[dict]:
        if self._issues is None:
            batch = self.api.get(f"{self.repo}/issues", params={"state": "open", "labels": LABEL, "per_page": 100}).json()
            self._issues = sorted((i for i in batch if isinstance(i, dict) and "pull_request" not in i),
                                  key=lambda i: i["number"])
            if self._issues:
                self.where = self._issues[0].get("html_url") or self.where
        return self._issues

    def _comments(self, number: int) -> list[dict]:
        out: list[dict] = []
        for page in range(1, 21):
            batch = self.api.get(f"{self.repo}/issues/{number}/comments", params={"per_page": 100, "page": page}).json()
            out.extend(c for c in batch if isinstance(c, dict) and ENTRY in (c.get("body") or ""))
            if len(batch) < 100:
                break
        return out

    @staticmethod
    def _entries(comments: list[dict]) -> list[dict]:
        out = []
        for c in comments:
            for block in DATA.findall(c.get("body") or ""):
                for line in block.splitlines():
                    with contextlib.suppress(ValueError):
                        out.append(json.loads(line))
        return out

    @staticmethod
    def _body_records(body: str | None) -> list[Record]:
        found = DATA.findall(body or "")
        lines = found[-1].splitlines() if found else []
        out = []
        for line in lines:
            with contextlib.suppress(ValueError):
                r = Record.from_json(json.loads(line))
                if r:
                    out.append(r)
        return out

    def records(self) -> list[Record]:
        base: list[Record] = []
        entries: list[dict] = []
        for issue in self.issues():
            comments = self._comments(issue["number"])                  # comments first, then the body
            body = self.api.get(f"{self.repo}/issues/{issue['number']}").json().get("body")
            self._read[issue["number"]] = (comments, body)
            entries += self._entries(comments)
            base += self._body_records(body)
        return fold(base, entries)   # several open ledger issues (two first writers at once) merge too

    def append(self, entries: list[dict], quiet: list[dict] = (), *, just_read: bool = False) -> None:
        """`entries` as a comment (never lost), `quiet` ones only through the fold. `just_read`:
        the caller called records() just before, so a fold of `quiet` alone may use that read
        (comments, then body: the order a fold needs) instead of reading both again."""
        from .ledger_view import entry_comment, issue_body

        if not self.issues():
            created = self.api.post(f"{self.repo}/issues", expect=(201,), json={
                "title": TITLE, "labels": [LABEL], "body": issue_body([], "")}).json()
            self._issues = [created]
            self.where = created.get("html_url") or self.where
        number = self.issues()[0]["number"]
        if entries:
            self.api.post(f"{self.repo}/issues/{number}/comments", json={"body": entry_comment(entries)},
                          expect=(201,))
        read = self._read.pop(number, None) if just_read and not entries else None
        self.fold_in(number, quiet, read=read)

    def fold_in(self, number: int, quiet: list[dict] = (), *,
                read: tuple[list[dict], str | None] | None = None) -> None:
        from .ledger_view import issue_body

        if read is None:
            comments = self._comments(number)                                       # 1. the comments
            read = comments, self.api.get(f"{self.repo}/issues/{number}").json().get("body")  # 2. then the body
        comments, body = read
        records = fold(self._body_records(body), [*self._entries(comments), *quiet])
        self.api.patch(f"{self.repo}/issues/{number}", json={"body": issue_body(records, self.where)})
        for c in comments:                                               # 3. only what is now in the body
            try:
                self.api.request("DELETE", f"{self.repo}/issues/comments/{c['id']}", expect=(204, 404))
            except RunbookError:
                pass   # left for the next writer to fold again (folding is idempotent)


"""The lifespan ledger: what every runner (the CI monitor, each operator's `inv`) saw of each
session, shared so that the survival estimate learns from all of them. It never holds a secret:
fingerprints, timestamps, verdicts, who and where observed, and the observer's check interval.

Where it lives (docs/decisions/17-the-lifespan-ledger-lives-in-a-github.md says why): one GitHub issue labelled `mtn-ledger` in
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

from ..core.errors import RunbookError
from ..core.session import Session
from ..core.times import iso, now, parse_time_or_none

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
           "sid": session.short_id, "fp": session.fingerprint, "start": iso(start) if start else None, "by": by, "every": every}
    if ping is not None:
        out["ping"] = ping
    return out


def _ping(value: Any) -> float | str | None:
    if value == "none":
        return "none"
    if isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0:
        return value
    return None


# -- what a ledger line must be (anyone who can comment can write one) -----------------------
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def _is_text(value: Any, limit: int = 120) -> bool:
    return isinstance(value, str) and 0 < len(value) <= limit and not _CONTROL.search(value)


def _is_count(value: Any) -> bool:
    return value is None or (isinstance(value, int) and not isinstance(value, bool) and value > 0)


def _is_time(value: Any, optional: bool = True) -> bool:
    return (optional and value is None) or _t(value) is not None


def checked_entry(e: Any) -> dict | None:
    """`e` with every field of its type (only the fields the ledger knows), else None."""
    if not isinstance(e, dict) or not isinstance(e.get("event"), str) or e["event"] not in EVENTS:
        return None
    if not (_is_text(e.get("session")) and _is_text(e.get("fp"), 64) and _is_time(e.get("at"), False)
            and _is_time(e.get("start")) and _is_text(e.get("by")) and _is_count(e.get("every"))
            and (e.get("ping") is None or _ping(e["ping"]) is not None)
            and (e.get("id") is None or _is_text(e["id"], 40)) and (e.get("sid") is None or _is_text(e["sid"], 40))):
        return None
    return {k: e[k] for k in ("id", "at", "event", "session", "sid", "fp", "start", "by", "every", "ping") if k in e}


def _is_record(data: Any) -> bool:
    return (isinstance(data, dict) and _is_text(data.get("session")) and _is_time(data.get("start"), False)
            and all(_is_time(data.get(k)) for k in ("lastAlive", "firstDead", "prompted", "paged", "pingAt"))
            and isinstance(data.get("fps", []), list) and all(_is_text(f, 64) for f in data.get("fps", []))
            and isinstance(data.get("by", []), list) and all(_is_text(b) for b in data.get("by", []))
            and _is_count(data.get("every")) and (data.get("ping") is None or _ping(data["ping"]) is not None)
            and (data.get("sid") is None or _is_text(data["sid"], 40)))


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
                   list(data.get("by") or []), data.get("every"), _ping(data.get("ping")), _t(data.get("pingAt")),
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
        ping = _ping(e.get("ping"))
        if ping is not None and (r.ping_at is None or (at, str(ping)) > (r.ping_at, str(r.ping))):
            r.ping, r.ping_at = ping, at   # the latest wins: the interval the session had at its end
        if event == "alive":
            r.last_alive = max(r.last_alive or at, at)
        else:
            attr = {"dead": "first_dead", "prompted": "prompted", "paged": "paged"}[event]
            setattr(r, attr, min(getattr(r, attr) or at, at))
    return sorted(by_key.values(), key=lambda r: r.start)[-MAX_SESSIONS:]


_FENCED = str.maketrans({c: f"\\u{ord(c):04x}" for c in "`@<>&|"})


def json_line(data: Any) -> str:
    """Compact JSON for a fenced Markdown block: backticks (which could close the fence), `@`, `<`,
    `>`, `&` and `|` written as \\u escapes, the same JSON to any reader."""
    return json.dumps(data, separators=(",", ":")).translate(_FENCED) + "\n"


def data_lines(records: list[Record]) -> str:
    return "".join(json_line(r.to_json()) for r in records)


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


# -- where it is kept -----------------------------------------------------------------------
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


BOT = "github-actions[bot]"   # who a workflow's GITHUB_TOKEN writes as


class IssueStore:
    """The `mtn-ledger` issue of the repository (see the module doc for the folding protocol).

    Only entries from a ledger writer count: `writers` (MONITOR_LEDGER_WRITERS), else the token's
    own login (GET /user) and the workflow's bot. Any other author's entry comments are ignored
    (one warning naming them) and left alone; a writer's comment is deleted once folded, malformed
    lines and all, so a bad comment never blocks the next run."""

    def __init__(self, api: Any, repository: str, view: Any, writers: Iterable[str] = ()):
        """`view`: what writes the issue's text (`issue_body`, `entry_comment`): the ledger_view
        module, passed in because ledger_view imports this module, not the other way round."""
        self.api, self.repo, self.view = api, f"/repos/{repository}", view
        self.where = f"{repository} issue labelled {LABEL}"
        self.writers = {w.lower() for w in writers}
        self.warn = Warnings()
        self._me: str | None = None
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

    def _writer(self, login: str) -> bool:
        if self.writers:
            return login.lower() in self.writers
        if login.lower() == BOT:
            return True
        if self._me is None:   # asked once, and only when someone else wrote
            try:
                me = self.api.get("/user").json().get("login")
            except RunbookError:   # a workflow's GITHUB_TOKEN may not read /user: the bot alone
                me = None
            self._me = me.lower() if isinstance(me, str) else ""
        return login.lower() == self._me

    def _comments(self, number: int) -> list[dict]:
        """The entry comments by ledger writers (others: one warning naming their authors)."""
        out: list[dict] = []
        for page in range(1, 21):
            batch = self.api.get(f"{self.repo}/issues/{number}/comments", params={"per_page": 100, "page": page}).json()
            out.extend(c for c in batch if isinstance(c, dict) and ENTRY in str(c.get("body") or ""))
            if len(batch) < 100:
                break
        logins = {id(c): str((c.get("user") or {}).get("login") or "someone") for c in out}
        outsiders = sorted({logins[id(c)] for c in out if not self._writer(logins[id(c)])})
        if outsiders:
            self.warn(f"ignored entries by {', '.join(outsiders)}: not a ledger writer "
                      "(MONITOR_LEDGER_WRITERS; runbooks/monitoring.md)")
        return [c for c in out if logins[id(c)] not in outsiders]

    def _entries(self, comments: list[dict]) -> list[dict]:
        found, bad = [], 0
        for c in comments:
            for block in DATA.findall(str(c.get("body") or "")):
                values, not_json = parse_lines(block)
                good = [checked_entry(v) for v in values]
                found += [e for e in good if e]
                bad += not_json + good.count(None)
        self.warn.skipped(bad, "entry comments")
        return found

    def _body_records(self, body: Any) -> list[Record]:
        found = DATA.findall(body if isinstance(body, str) else "")
        values, bad = parse_lines(found[-1]) if found else ([], 0)
        out = [Record.from_json(v) for v in values]
        if not found and body:
            self.warn("the issue body holds no data block: it is rebuilt from the entries")
        self.warn.skipped(bad + out.count(None), "the issue body")
        return [r for r in out if r]

    def _read_all(self) -> dict[int, tuple[list[dict], str | None]]:
        """Each open ledger issue's comments, then its body (the order a fold needs)."""
        read = {}
        for issue in self.issues():
            comments = self._comments(issue["number"])
            read[issue["number"]] = comments, self.api.get(f"{self.repo}/issues/{issue['number']}").json().get("body")
        return read

    def _fold(self, read: dict[int, tuple[list[dict], str | None]], quiet: list[dict]) -> list[Record]:
        base = [r for _, body in read.values() for r in self._body_records(body)]
        entries = [e for comments, _ in read.values() for e in self._entries(comments)]
        return fold(base, [*entries, *quiet])

    def records(self) -> list[Record]:
        self._read = self._read_all()
        return self._fold(self._read, [])   # several open ledger issues (two first writers at once) merge too

    def append(self, entries: list[dict], quiet: list[dict] = (), *, just_read: bool = False) -> None:
        """`entries` as a comment (never lost), `quiet` ones only through the fold. `just_read`:
        the caller called records() just before, so a fold of `quiet` alone may use that read
        (comments, then body: the order a fold needs) instead of reading both again."""
        if not self.issues():
            created = self.api.post(f"{self.repo}/issues", expect=(201,), json={
                "title": TITLE, "labels": [LABEL], "body": self.view.issue_body([], "")}).json()
            self._issues = [created]
            self.where = created.get("html_url") or self.where
        number = self.issues()[0]["number"]
        if entries:
            self.api.post(f"{self.repo}/issues/{number}/comments", json={"body": self.view.entry_comment(entries)},
                          expect=(201,))
        read = self._read if just_read and not entries and set(self._read) == {i["number"] for i in self.issues()} else None
        self._read = {}
        self.fold_in(number, quiet, read=read)

    def fold_in(self, number: int, quiet: list[dict] = (), *,
                read: dict[int, tuple[list[dict], str | None]] | None = None) -> None:
        """Every open ledger issue into the oldest (`number`): its body gets all the records, the
        others are closed, and every writer's comment read is deleted."""
        read = read if read is not None else self._read_all()
        records = self._fold(read, list(quiet))
        self.api.patch(f"{self.repo}/issues/{number}", json={"body": self.view.issue_body(records, self.where)})
        for other in [n for n in read if n != number]:   # two first writers made two: the oldest wins
            self.api.patch(f"{self.repo}/issues/{other}", json={
                "state": "closed", "state_reason": "not_planned",
                "body": f"Merged into #{number}, the oldest open ledger issue."})
        for comments, _ in read.values():                                 # only what is now in the body
            for c in comments:
                try:
                    self.api.request("DELETE", f"{self.repo}/issues/comments/{c['id']}", expect=(204, 404))
                except RunbookError:
                    pass   # left for the next writer to fold again (folding is idempotent)

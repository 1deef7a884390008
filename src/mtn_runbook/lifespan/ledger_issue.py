"""The lifespan ledger's shared store: one GitHub issue labelled `mtn-ledger` in GITHUB_REPOSITORY,
found through the issues list, that every runner (the CI monitor, each operator's `inv`) writes,
so that the survival estimate learns from all of them
(docs/decisions/17-the-lifespan-ledger-lives-in-a-github.md says why).

New observations are *comments* (each POST creates its own, so two writers at once lose nothing);
every writer then folds the comments into the issue *body* (one line per session) and deletes the
comments it folded. A folder reads the comments first and the body second, so whatever it deletes
is already in the body it writes, or in the body a later folder reads. Just before it writes, it
reads the body once more and merges it in: a folder that wrote (and deleted its comments) after our
first read is not overwritten by our older copy. What remains is the moment between that read and
the write (milliseconds, against the seconds a whole fold takes). Routine "still alive"
updates skip the comment (no notification to watchers every hour) and go straight into the fold:
a concurrent fold may drop one, which costs only that hour's precision; a new session, a death or
a prompt is always a comment. Without GitHub settings, ledger_file.py's `.cache/ledger.jsonl`
holds the same lines for a lone operator.

Size: the body keeps the newest MAX_SESSIONS sessions (ledger_records.py; about 250 characters
each) and stays far under GitHub's 65,536-character limit.
"""

from __future__ import annotations

import re
from typing import Any, Iterable

from ..core.errors import RunbookError
from .ledger_lines import Warnings, checked_entry, parse_lines
from .ledger_records import Record, fold

LABEL = "mtn-ledger"
TITLE = "MTN session lifespan ledger"
ENTRY = "<!-- mtn-runbook ledger entry -->"
DATA = re.compile(r"```jsonl\n(.*?)```", re.S)
BOT = "github-actions[bot]"   # who a workflow's GITHUB_TOKEN writes as


class IssueStore:
    """The `mtn-ledger` issue of the repository (see the module doc for the folding protocol).

    Only entries from a ledger writer count: `writers` (MONITOR_LEDGER_WRITERS), else the token's
    own login (GET /user) and the workflow's bot. Any other author's entry comments are ignored
    (one warning naming them) and left alone; a writer's comment is deleted once folded, malformed
    lines and all, so a bad comment never blocks the next run."""

    def __init__(self, api: Any, repository: str, view: Any, writers: Iterable[str] = ()):
        """`view`: what writes the issue's text (`issue_body`, `entry_comment`): the ledger_view
        module, passed in because ledger_view imports this module (ENTRY), not the other way round."""
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

    def _body_records(self, body: Any, *, warn: bool = True) -> list[Record]:
        found = DATA.findall(body if isinstance(body, str) else "")
        values, bad = parse_lines(found[-1]) if found else ([], 0)
        out = [Record.from_json(v) for v in values]
        if warn and not found and body:
            self.warn("the issue body holds no data block: it is rebuilt from the entries")
        if warn:
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
        # The body as it is now, read again just before the write: a concurrent folder may have
        # written it since our read, and deleted the comments it folded in. Writing our older copy
        # over it would lose them; merged in (the fold is a union), they stay.
        latest = self.api.get(f"{self.repo}/issues/{number}").json().get("body")
        records = fold([*records, *self._body_records(latest, warn=False)], [])
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

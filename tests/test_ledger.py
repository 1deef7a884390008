"""The lifespan ledger: folding, censoring, concurrent writers, its size bound and its content."""

from __future__ import annotations

import json
import threading
from datetime import datetime, timedelta, timezone

from mtn_runbook.core import apis
from mtn_runbook.core.config import Settings
from mtn_runbook.core.session import Session
from mtn_runbook.core.times import iso
from mtn_runbook.lifespan import ledger_view
from mtn_runbook.lifespan.ledger_file import FileStore
from mtn_runbook.lifespan.ledger_issue import IssueStore
from mtn_runbook.lifespan.ledger_lines import entry
from mtn_runbook.lifespan.ledger_records import MAX_SESSIONS, Record, fold
from mtn_runbook.lifespan.ledger_view import issue_body
from mtn_runbook.lifespan.experiment import estimate_for

T0 = datetime(2026, 3, 2, 6, 0, tzinfo=timezone.utc)


def h(hours: float) -> datetime:
    return T0 + timedelta(hours=hours)


def session(n: int, created: float = 0) -> Session:
    return Session(({"name": "JSESSIONID", "value": f"{n:032X}", "domain": "localhost", "path": "/"},),
                   f"{n:032X}", h(created + 1), {"createdAt": iso(h(created))})


def e(event: str, s: Session, at: float) -> dict:
    return entry(event, s, by="test@host", every=60, at=h(at))


def test_a_replaced_session_is_censored_and_a_death_is_placed_mid_interval():
    a, b = session(1, 0), session(2, 20)
    records = fold([], [e("alive", a, 1), e("alive", a, 19), e("alive", b, 21)])
    life_a = next(r for r in records if r.session == f"created:{iso(h(0))}").lifetime()
    assert life_a == (19.0, False)                     # replaced while alive: lived at least 19 h
    records = fold(records, [e("dead", a, 23)])        # the shadow probe saw it die
    life_a = next(r for r in records if r.session == f"created:{iso(h(0))}").lifetime()
    assert life_a == (21.0, True)                      # halfway between 19 h (alive) and 23 h (dead)
    # folding is idempotent: the same entries again change nothing
    again = fold(records, [e("alive", a, 1), e("dead", a, 23)])
    assert [r.to_json() for r in again] == [r.to_json() for r in records]


def test_censored_lifetimes_reach_the_estimate():
    died = [fold([], [e("alive", session(i, 0), 9), e("dead", session(i, 0), 11)])[0] for i in range(10)]
    alive_long = [fold([], [e("alive", session(10 + i, 0), 30)])[0] for i in range(10)]
    deaths_only = estimate_for(died, None, min_deaths=2)
    assert deaths_only.method == "kaplan-meier" and deaths_only.survival(10) == 0   # all died at 10 h
    both = estimate_for(died + alive_long, None, min_deaths=2)
    assert both.survival(10) == 0.5 and both.exposure == 400                       # the censored: 10 x 30 h
    assert estimate_for(died + alive_long, None).hazard < estimate_for(died, None).hazard   # the bound, too


def test_file_store_two_writers_at_once(tmp_path):
    store_path = tmp_path / ".cache" / "ledger.jsonl"
    sessions = [session(i, i) for i in range(40)]

    def write(part):
        store = FileStore(store_path)   # each writer its own handle, as two processes would
        for s in part:
            store.append([e("alive", s, 100)])

    threads = [threading.Thread(target=write, args=(sessions[i::2],)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(FileStore(store_path).records()) == 40
    assert oct(store_path.stat().st_mode & 0o777) == "0o600"


def test_issue_store_concurrent_writers_lose_no_entry(sandbox):
    """Eight writers, each appending a new session and folding, all at once: every session is in
    the body at the end, and no comment is left over."""
    settings = Settings.load(environ=sandbox.env(), use_dotenv=False)
    repo = sandbox.options.github_repository
    first = IssueStore(apis.github(settings), repo, ledger_view)
    first.append([e("alive", session(99, 200), 201)])   # the issue exists (two first writers would make two)
    barrier = threading.Barrier(8)
    errors = []

    def write(i):
        with apis.github(settings) as api:
            store = IssueStore(api, repo, ledger_view)
            barrier.wait()
            try:
                store.append([e("alive", session(i, i), 50), e("dead", session(i, i), 60)])
            except Exception as exc:   # noqa: BLE001 - reported below
                errors.append(exc)

    threads = [threading.Thread(target=write, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with apis.github(settings) as api:
        records = IssueStore(api, repo, ledger_view).records()
    assert len(records) == 9 and sum(1 for r in records if r.first_dead) == 8
    (ledger,) = [i for i in sandbox.github.issues() if [x["name"] for x in i["labels"]] == ["mtn-ledger"]]
    body_sessions = [json.loads(x)["session"] for x in ledger["body"].split("```jsonl\n")[1].split("```")[0].splitlines()]
    assert len(body_sessions) == 9 and sandbox.github.comments(ledger["number"]) == []


class FoldsInBetween:
    """An API client that, right after the first read of the issue body, lets another writer
    append and fold in full: the other fold lands between this folder's read and its write."""

    def __init__(self, api, other):
        self.api, self.other, self.done = api, other, False

    def __getattr__(self, name):
        return getattr(self.api, name)

    def get(self, path, **kw):
        answer = self.api.get(path, **kw)
        if not self.done and path.rsplit("/", 1)[-1].isdigit():   # the issue itself (its body)
            self.done = True
            self.other()
        return answer


def test_a_fold_that_lands_between_another_folders_read_and_write_is_kept(sandbox):
    settings = Settings.load(environ=sandbox.env(), use_dotenv=False)
    repo = sandbox.options.github_repository
    with apis.github(settings) as api:
        IssueStore(api, repo, ledger_view).append([e("alive", session(99, 200), 201)])

        def other_writer():   # appends session 2, folds it into the body, deletes its comment
            with apis.github(settings) as other:
                IssueStore(other, repo, ledger_view).append([e("dead", session(2, 2), 60)])

        IssueStore(FoldsInBetween(api, other_writer), repo, ledger_view).append([e("dead", session(1, 1), 50)])
        records = IssueStore(api, repo, ledger_view).records()
    (ledger,) = [i for i in sandbox.github.issues() if [x["name"] for x in i["labels"]] == ["mtn-ledger"]]
    # both comments were folded and deleted, so the other writer's death survives only in the body,
    # and only if the later write merged that body instead of writing its older copy over it
    assert sandbox.github.comments(ledger["number"]) == []
    assert len(records) == 3 and len([r for r in records if r.first_dead]) == 2, records


def test_the_body_stays_bounded():
    entries = [e("alive", session(i, i), i + 30) for i in range(MAX_SESSIONS + 50)]
    records = fold([], entries)
    assert len(records) == MAX_SESSIONS and records[0].start == h(50)    # the oldest dropped
    body = issue_body(records, "here")
    assert len(body) < 65536 and "xychart-beta" in body and "| session |" in body
    assert all(Record.from_json(r.to_json()).to_json() == r.to_json() for r in records)

"""Observed lifespans and the predicted expiry, from a journal written here by hand."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

from mtn_runbook.core.journal import Journal
from mtn_runbook.health.lifespan import lifespan_report
from mtn_runbook.core.session import Session, iso

T0 = datetime(2026, 3, 1, 8, 0, tzinfo=timezone.utc)


def h(hours: float) -> datetime:
    return T0 + timedelta(hours=hours)


def write(path, *entries: dict) -> Journal:
    with path.open("a") as f:
        for e in entries:
            f.write(json.dumps({"kind": "validation", **e}) + "\n")
    return Journal(path)


def v(at: float, fp: str, verdict: str, created: float | None = None) -> dict:
    entry = {"ts": iso(h(at)), "fingerprint": fp, "verdict": verdict, "apiStatus": 200 if verdict != "expired" else 302}
    if created is not None:
        entry["createdAt"] = iso(h(created))
    return entry


def session(created: float | None, expires: float) -> Session:
    extra = {"createdAt": iso(h(created))} if created is not None else {}
    return Session(({"name": "JSESSIONID", "value": "X" * 32, "domain": "localhost", "path": "/"},),
                   "A" * 32, h(expires), extra)


def test_no_history_falls_back_to_tracked_expiry(tmp_path):
    journal = Journal(tmp_path / "journal.jsonl")
    current = session(created=0, expires=1)
    report = lifespan_report(journal, current, at=h(0.5))
    assert report["observed"] == 0 and report["medianHours"] is None
    assert report["current"]["predictedExpiry"] == iso(h(1))
    assert report["current"]["basis"] == "no history yet: tracked expiry"
    assert report["summary"].startswith("no history yet")
    assert "median observed lifespan" in report["method"]


def test_lifespans_and_median_prediction(tmp_path):
    journal = write(
        tmp_path / "journal.jsonl",
        # A: created at 0, valid at 1 and 5, expired at 9 -> lived 9 h, at least 5 h
        v(1, "aaa", "valid", created=0), v(5, "aaa", "valid_tracked_expired", created=0),
        v(9, "aaa", "expired", created=0), v(13, "aaa", "expired", created=0),
        # B: no createdAt: first seen valid at 10, error at 12 (ignored), expired at 30 -> lived 20 h
        v(10, "bbb", "valid"), v(12, "bbb", "error"), v(30, "bbb", "expired"),
        # C: created at 31, extended (new fingerprint, same createdAt), expired at 43 -> lived 12 h
        v(32, "ccc1", "valid", created=31), v(36, "ccc2", "valid", created=31), v(43, "ccc2", "expired", created=31),
        # D: only ever seen dead: says nothing
        v(44, "ddd", "expired"),
        # E: the current one, created at 50, valid at 51 and 54
        v(51, "eee", "valid", created=50), v(54, "eee", "valid", created=50),
    )
    report = lifespan_report(journal, at=h(55))
    lived = {s["fingerprints"][0]: s["livedHours"] for s in report["sessions"]}
    assert lived == {"aaa": 9.0, "bbb": 20.0, "ccc1": 12.0, "eee": None}
    c = next(s for s in report["sessions"] if s["fingerprints"] == ["ccc1", "ccc2"])
    assert c["startSource"] == "createdAt" and c["atLeastHours"] == 5.0
    b = next(s for s in report["sessions"] if s["fingerprints"] == ["bbb"])
    assert b["startSource"] == "firstSeenValid" and b["start"] == iso(h(10))
    assert report["observed"] == 3
    assert report["medianHours"] == 12.0 and report["minHours"] == 9.0 and report["maxHours"] == 20.0
    cur = report["current"]
    assert cur["fingerprint"] == "eee" and cur["start"] == iso(h(50))
    assert cur["predictedExpiry"] == iso(h(62))          # createdAt 50 + median 12
    assert cur["hoursLeft"] == 7.0 and cur["ageHours"] == 5.0
    assert cur["basis"] == "median of 3 observed lifespan(s) (12.0 h)"
    assert "12.0 h (median of 3)" in report["summary"]

    # A current session without createdAt that the journal has never seen: first seen now.
    bare = Session(({"name": "JSESSIONID", "value": "Y" * 32, "domain": "localhost", "path": "/"},), "B" * 32, h(60), {})
    report = lifespan_report(journal, bare, at=h(57))
    assert report["current"]["startSource"] == "firstSeenNow"
    assert report["current"]["predictedExpiry"] == iso(h(69))   # 57 + 12


def test_current_session_without_journal_entry_uses_created_at(tmp_path):
    journal = write(tmp_path / "journal.jsonl", v(1, "aaa", "valid", created=0), v(7, "aaa", "expired", created=0))
    current = session(created=20, expires=21)
    report = lifespan_report(journal, current, at=h(22))
    assert report["current"]["predictedExpiry"] == iso(h(27))  # 20 + 7
    assert report["current"]["hoursLeft"] == 5.0

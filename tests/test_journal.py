"""The journal: damaged lines are skipped (and said once), it is read once, and it stays bounded
without losing the figures lifespans are computed from."""

from __future__ import annotations

import json
import threading
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from conftest import pushed_value
from mtn_runbook.core import journal as journal_module
from mtn_runbook.core.config import Settings
from mtn_runbook.core.console import Console
from mtn_runbook.core.journal import Journal, compacted
from mtn_runbook.core.session import Session, load, save
from mtn_runbook.core.times import iso
from mtn_runbook.targets import Current, push

DAMAGED = "damaged line"


def torn_line() -> bytes:
    """A journal line cut inside a multi-byte character (a killed run, a full disk)."""
    whole = json.dumps({"ts": "2026-03-01T08:00:00Z", "kind": "step", "detail": "naïve café ✔"},
                       ensure_ascii=False).encode()
    return whole[: whole.index("✔".encode()) + 1]  # the first byte of a 3-byte character


def write_torn_journal(path: Path, *entries: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    good = b"".join(json.dumps(e).encode() + b"\n" for e in entries)
    path.write_bytes(good + torn_line() + b"\n" + good)


def test_a_torn_line_is_skipped_and_said_once(tmp_path, capsys):
    path = tmp_path / "journal.jsonl"
    write_torn_journal(path, {"ts": "2026-03-01T08:00:00Z", "kind": "push", "target": "t", "outcome": "ok"})
    journal = Journal(path)

    assert [e["target"] for e in journal.entries("push")] == ["t", "t"]
    assert journal.last("push")["outcome"] == "ok"
    journal.write("step", step="x")
    assert journal.last("step")["step"] == "x"
    err = capsys.readouterr().err
    assert err.count(DAMAGED) == 1, err
    assert "skipped 1 damaged line(s)" in err


def test_a_torn_last_line_does_not_swallow_the_next_entry(tmp_path):
    path = tmp_path / "journal.jsonl"
    path.write_bytes(torn_line())  # no newline: the run was killed mid-write
    journal = Journal(path)
    journal.write("push", target="after", outcome="changed")
    assert journal.last("push", target="after") is not None


def _sandbox_session(sandbox, workdir: Path) -> Session:
    session = Session.from_dict(sandbox.mtn.mint_session(), "sandbox")
    save(workdir / ".cache" / "mtn-session.json", session)
    return session


@pytest.mark.parametrize("args, code", [
    (("status",), 0), (("push",), 0), (("recover",), 0),
    (("recover", "--resume"), 0),  # the journal holds no run of recover: nothing to resume, said
    (("monitor",), 3),  # production still runs the sandbox's first session: unhealthy, and said so
])
def test_no_task_is_stopped_by_a_torn_journal_line(inv, sandbox, workdir, args, code):
    session = _sandbox_session(sandbox, workdir)
    write_torn_journal(workdir / ".cache" / "journal.jsonl",
                       {"ts": "2026-03-01T08:00:00Z", "kind": "validation", "verdict": "valid", "fingerprint": "abc"})

    result = inv(*args, env={"MTN_SESSION": session.encode()} if args == ("monitor",) else None)

    assert result.code == code, result.output
    assert "internal error" not in result.output and "UnicodeDecodeError" not in result.output
    assert result.output.count(DAMAGED) == 1, result.output
    if args in (("push",), ("recover",)):
        saved = load(workdir / ".cache" / "mtn-session.json")[0]   # with the gate the push noted
        assert saved.session_id == session.session_id
        assert sandbox.vercel.env_value("MTN_SESSION", "production") == pushed_value(sandbox, saved)


def test_push_reads_the_journal_once_not_once_per_target(tmp_path, monkeypatch):
    path = tmp_path / "journal.jsonl"
    journal = Journal(path)
    for i in range(200):
        journal.write("push", target=f"t{i % 10}", outcome="ok")
    journal_module._cache.clear()
    reads = []
    real_open = Path.open

    def counting_open(self, *a, **kw):
        if self == path:
            reads.append(a)
        return real_open(self, *a, **kw)

    monkeypatch.setattr(Path, "open", counting_open)
    settings = Settings.load({}, environ={"MTN_SESSION_FILE": str(tmp_path / "s.json")},
                             dotenv_path=tmp_path / "none.env")
    targets = [Recording(f"t{i}") for i in range(10)]
    push(settings, "dmFsdWU=", console=quiet(), targets=targets)
    assert len(reads) == 1, f"the journal was read {len(reads)} times for 10 targets"


class Recording:
    """A target that only remembers what it was given: the push machinery is what is tested."""
    kind, look_in_check = "ssh", True

    def __init__(self, name: str, barrier: threading.Barrier | None = None):
        self.name, self.barrier, self.value = name, barrier, None

    def describe(self) -> str:
        return self.name

    def read(self, value: str) -> Current:
        if self.barrier is not None:
            self.barrier.wait(timeout=20)  # every target must be in flight at the same time
        return Current(holds=self.value == value, plan="store it")

    def put(self, value: str, current: Current) -> None:
        self.value = value

    def verify(self, value: str, current: Current) -> str:
        return "stored"

    def activate(self) -> str:
        return ""

    def close(self) -> None:
        pass


def quiet() -> Console:
    console = Console()
    import io

    console.file = io.StringIO()
    return console


def test_fifty_targets_are_pushed_in_one_round(tmp_path):
    """With a cap of 32 workers the barrier would never fill and every read would time out."""
    settings = Settings.load({}, environ={"MTN_SESSION_FILE": str(tmp_path / "s.json")},
                             dotenv_path=tmp_path / "none.env")
    barrier = threading.Barrier(50)
    targets = [Recording(f"t{i}", barrier) for i in range(50)]
    results = push(settings, "dmFsdWU=", console=quiet(), targets=targets)
    assert [r.outcome for r in results] == ["changed"] * 50, results[0].detail
    assert all(t.value == "dmFsdWU=" for t in targets)


T0 = datetime(2026, 3, 1, 8, 0, tzinfo=timezone.utc)


def lifespans(journal: Journal) -> dict:
    """Per login: first valid, last valid and first expired validation (what a lifespan is read from)."""
    out: dict = {}
    for e in journal.entries("validation"):
        first, last, dead = out.get(e["createdAt"], (None, None, None))
        if e["verdict"] == "valid":
            first, last = first or e["ts"], e["ts"]
        elif dead is None:
            dead = e["ts"]
        out[e["createdAt"]] = (first, last, dead)
    return out


def test_the_journal_stays_bounded_and_keeps_lifespans_and_last_pushes(tmp_path, monkeypatch):
    path = tmp_path / "journal.jsonl"
    journal = Journal(path)
    # 30 sessions, each validated 40 times while alive and 5 times dead, by hand-set timestamps
    lines = []
    for s in range(30):
        start = T0 + timedelta(hours=30 * s)
        for k in range(45):
            verdict = "valid" if k < 40 else "expired"
            lines.append({"ts": iso(start + timedelta(minutes=30 * k)), "kind": "validation",
                          "fingerprint": f"fp{s}", "verdict": verdict, "createdAt": iso(start)})
        lines.append({"ts": iso(start), "kind": "push", "target": f"target-{s % 7}", "outcome": "changed",
                      "fingerprint": f"fp{s}"})
        lines += [{"ts": iso(start), "kind": "step", "run": f"r{s}", "step": "push", "outcome": "ok",
                   "detail": "x" * 200}] * 30
    path.write_text("".join(json.dumps(e) + "\n" for e in lines))
    before = lifespans(journal)
    pushes_before = journal.latest_by("push", "target")
    size_before = path.stat().st_size

    monkeypatch.setattr(journal_module, "COMPACT_AT", size_before // 4)
    monkeypatch.setattr(journal_module, "KEEP_RECENT", 100)
    journal.write("step", step="trigger")

    assert path.stat().st_size < size_before // 4
    after = lifespans(Journal(path))
    assert after == before and len(after) == 30
    assert {k: v["fingerprint"] for k, v in Journal(path).latest_by("push", "target").items()} == \
        {k: v["fingerprint"] for k, v in pushes_before.items()}
    assert Journal(path).last("step")["step"] == "trigger"


def test_compaction_keeps_recent_entries_whole():
    entries = [{"kind": "step", "n": i} for i in range(journal_module.KEEP_RECENT + 50)]
    kept = compacted(entries)
    assert kept == entries[50:]

"""The end-of-run recap's targets table, built from a Run in memory (fast: no sandbox, no `inv`)."""

from __future__ import annotations

from pathlib import Path

from mtn_runbook.core.config import Settings
from mtn_runbook.core.console import Console
from mtn_runbook.runner.engine import Run
from mtn_runbook.runner.recap import recap_data
from mtn_runbook.targets import PushResult
from mtn_runbook.targets.holding import Holding


def _run(tmp_path: Path) -> Run:
    return Run("recover", Settings(session_file=tmp_path / "session.json"), Console())


def test_a_resumed_run_that_pushed_nothing_lists_every_target_as_read_back(tmp_path):
    run = _run(tmp_path)
    run.resumed_from = "20261207T000000-abcdef"
    run.facts.held_after = {"vercel prj (production)": Holding(stamp="s1", updated="2026-12-06T23:00:00Z"),
                            "github o/r": Holding(stamp="absent")}
    rows = recap_data(run)["targets"]
    assert rows == [
        {"target": "vercel prj (production)", "outcome": "pushed earlier",
         "detail": "pushed in 20261207T000000-abcdef", "holds": "not readable; last written 2026-12-06T23:00:00Z"},
        {"target": "github o/r", "outcome": "pushed earlier",
         "detail": "pushed in 20261207T000000-abcdef", "holds": "nothing"},
    ]


def test_a_run_that_pushed_lists_its_own_results(tmp_path):
    run = _run(tmp_path)
    run.resumed_from = "20261207T000000-abcdef"
    run.facts.results = [PushResult("github o/r", "github", "changed", "set", 0.1)]
    rows = recap_data(run)["targets"]
    assert [(r["target"], r["outcome"], r["detail"]) for r in rows] == [("github o/r", "changed", "set")]

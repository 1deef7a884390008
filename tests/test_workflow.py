"""The scheduled workflow: actionlint finds nothing, and it runs `inv monitor` every hour with
the secrets passed through `env:` and no more permissions than the issue needs."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
WORKFLOW = ROOT / ".github" / "workflows" / "validate-mtn-session.yml"


def actionlint() -> str:
    """The `actionlint` command of the test extras (its wheel ships the binary)."""
    found = shutil.which("actionlint", path=str(Path(sys.executable).parent)) or shutil.which("actionlint")
    assert found, "actionlint not installed: `scripts/setup test` installs the test extras"
    return found


def load() -> dict:
    return yaml.safe_load(WORKFLOW.read_text())


def monitor_step(job: dict) -> dict:
    return next(s for s in job["steps"] if "inv monitor" in s.get("run", ""))


def test_actionlint_is_clean():
    proc = subprocess.run([actionlint(), "-no-color", str(WORKFLOW.relative_to(ROOT))], cwd=ROOT,
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_actionlint_catches_a_broken_schedule(tmp_path):
    """The lint is real: a four-field cron fails."""
    broken = tmp_path / ".github" / "workflows" / "x.yml"
    broken.parent.mkdir(parents=True)
    broken.write_text(WORKFLOW.read_text().replace('"17 * * * *"', '"17 * * *"'))
    proc = subprocess.run([actionlint(), "-no-color", str(broken.relative_to(tmp_path))], cwd=tmp_path,
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 1 and "cron" in proc.stdout.lower()


def test_schedule_and_manual_trigger():
    wf = load()
    on = wf.get("on", wf.get(True))   # YAML 1.1 reads the key `on` as True
    assert on["schedule"] == [{"cron": "17 * * * *"}]
    assert "workflow_dispatch" in on


def test_permissions_are_minimal_and_runs_do_not_overlap():
    wf = load()
    assert wf["permissions"] == {}
    (job,) = wf["jobs"].values()
    assert job["permissions"] == {"contents": "read", "issues": "write"}
    assert wf["concurrency"]["group"] and wf["concurrency"]["cancel-in-progress"] is False
    assert job["timeout-minutes"] <= 30


def test_installs_like_the_readme_and_runs_inv_monitor():
    (job,) = load()["jobs"].values()
    runs = [s.get("run", "") for s in job["steps"]]
    assert "scripts/setup" in runs
    assert runs.index("scripts/setup") < runs.index(".venv/bin/inv monitor")
    uses = [s["uses"] for s in job["steps"] if "uses" in s]
    assert any(re.fullmatch(r"actions/checkout@v\d+", u) for u in uses)
    assert any(re.fullmatch(r"actions/setup-python@v\d+", u) for u in uses)
    assert int(next(u for u in uses if "checkout" in u).rsplit("@v", 1)[1]) >= 6


def test_secrets_go_through_env_not_the_command():
    (job,) = load()["jobs"].values()
    step = monitor_step(job)
    env = step["env"]
    assert env["MTN_SESSION"] == "${{ secrets.MTN_SESSION }}"
    assert env["GITHUB_TOKEN"] == "${{ github.token }}"
    assert env["ALERT_WEBHOOK_URL"] == "${{ secrets.ALERT_WEBHOOK_URL }}"
    assert "PRODUCTION_URL" in env and "MTN_API_KEY" in env
    for s in job["steps"]:
        assert "${{" not in s.get("run", ""), f"expression inline in a run script: {s['run']!r}"
    assert (ROOT / "scripts" / "setup").exists()

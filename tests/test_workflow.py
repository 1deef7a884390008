"""The scheduled workflow: actionlint finds nothing, and it runs `inv monitor` every hour with
the secrets passed through `env:` and no more permissions than the issue needs."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
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
    assert any(u.startswith("actions/checkout@") for u in uses)
    assert any(u.startswith("actions/setup-python@") for u in uses)


def test_actions_are_pinned_by_commit_with_the_release_in_a_comment():
    """A tag can be moved to other code; a commit cannot. The job holds secrets."""
    pins = re.findall(r"^\s*-?\s*uses:\s*(\S+)(.*)$", WORKFLOW.read_text(), re.MULTILINE)
    assert pins
    for action, comment in pins:
        assert re.fullmatch(r"[\w.-]+/[\w.-]+@[0-9a-f]{40}", action), f"{action} is not pinned by commit"
        assert re.fullmatch(r"\s*# v\d+\.\d+\.\d+", comment), f"{action}: say the release in a comment"
    checkout = next(c for a, c in pins if a.startswith("actions/checkout@"))
    assert int(checkout.split("# v")[1].split(".")[0]) >= 6


def test_the_job_installs_only_pinned_hashed_packages():
    (job,) = load()["jobs"].values()
    setup = next(s for s in job["steps"] if s.get("run") == "scripts/setup")
    assert setup["env"]["LOCKED"] == "1"
    script = (ROOT / "scripts" / "setup").read_text()
    locked = script.split('if [ "${LOCKED:-0}" = 1 ]; then', 1)[1].split("elif", 1)[0]
    assert "--require-hashes" in locked and "-r requirements.lock" in locked
    assert "--no-deps --no-build-isolation -e ." in locked and "--upgrade" not in locked
    lock = (ROOT / "requirements.lock").read_text()
    pinned = dict(re.findall(r"^([a-z0-9_.-]+)==(\S+) \\$", lock, re.MULTILINE))
    for block in re.split(r"\n(?=[a-z0-9])", lock):
        if re.match(r"[a-z0-9]", block):
            assert "--hash=sha256:" in block, f"no hash for {block.splitlines()[0]}"
    tomllib = pytest.importorskip("tomllib")   # Python 3.11+
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    for requirement in project["project"]["dependencies"]:
        name, version = re.match(r"([A-Za-z0-9_.-]+)==([^\s;]+)", requirement).groups()
        assert pinned.get(name.lower().replace("_", "-")) == version, f"{name} in requirements.lock is not {version}"
    for build in project["build-system"]["requires"]:
        assert re.match(r"[a-z]+", build).group(0) in pinned   # the editable install builds offline


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

"""Loading the task namespace stays as light as bare Invoke: heavy packages load only in task bodies."""

from __future__ import annotations

import json
import subprocess
import sys

HEAVY = ("playwright", "fabric", "paramiko", "nacl", "rich", "httpx", "starlette", "uvicorn")


def loaded_after(statement: str) -> set[str]:
    code = f"import sys, json\n{statement}\nprint(json.dumps(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    return {name.split(".")[0] for name in json.loads(out)}


def test_the_namespace_imports_nothing_heavy():
    loaded = loaded_after("from mtn_runbook.tasks import ns")
    assert "invoke" in loaded
    assert sorted(loaded & set(HEAVY)) == []


def test_the_mtn_package_itself_is_light():
    loaded = loaded_after("import mtn_runbook.mtn, mtn_runbook.mtn.source, mtn_runbook.health.status")
    assert sorted(loaded & set(HEAVY)) == []


def test_httpx_comes_without_its_command_line_helpers():
    """httpx's __init__ imports its CLI, which loads click and pygments when they are installed."""
    loaded = loaded_after("import mtn_runbook.core.http, mtn_runbook.mtn.api")
    assert "httpx" in loaded
    assert sorted(loaded & {"click", "pygments"}) == []


def test_inv_validate_loads_no_cli_helpers(inv, sandbox, workdir):
    from mtn_runbook.core.session import Session, save

    save(workdir / ".cache" / "mtn-session.json", Session.from_dict(sandbox.mtn.mint_session(), "sandbox"))
    result = inv("validate", env={"PYTHONPROFILEIMPORTTIME": "1"})
    assert result.code == 0, result.output
    imported = {line.split("|")[-1].strip().split(".")[0] for line in result.stderr.splitlines()
                if line.startswith("import time:")}
    assert "httpx" in imported and not imported & {"click", "pygments"}, sorted(imported & {"click", "pygments"})


def test_inv_writes_the_bytecode_of_the_projects_modules(inv, tmp_path):
    """Invoke turns bytecode writing off; the editable install's modules were compiled on every run."""
    cache = tmp_path / "pycache"
    result = inv("--list", env={"PYTHONPYCACHEPREFIX": str(cache)})
    assert result.code == 0, result.output
    written = {p.name.split(".")[0] for p in cache.rglob("*.pyc") if "mtn_runbook" in p.parts}
    assert {"base", "recover", "session_tasks"} <= written, sorted(written)


def modules_imported(result) -> set[str]:
    return {line.split("|")[-1].strip() for line in result.stderr.splitlines() if line.startswith("import time:")}


def test_inv_validate_loads_only_the_ledger_it_writes(inv, sandbox, workdir):
    """validate records what it saw in the lifespan ledger (lifespan/observe.py): the GitHub client only
    when GitHub is configured; never the refresh-due machinery (estimator, policy, time zones)."""
    from mtn_runbook.core.session import Session, save

    save(workdir / ".cache" / "mtn-session.json", Session.from_dict(sandbox.mtn.mint_session(), "sandbox"))
    unneeded = {"mtn_runbook.lifespan.refresh_due", "mtn_runbook.lifespan.estimator", "mtn_runbook.lifespan.policy",
                "zoneinfo", "mtn_runbook.sandbox"}   # outside a sandbox shell, no part of the sandbox
    local = inv("validate", env={"PYTHONPROFILEIMPORTTIME": "1", "GITHUB_TOKEN": None, "GITHUB_REPOSITORY": None})
    assert local.code == 0, local.output
    loaded = modules_imported(local)
    assert "mtn_runbook.lifespan.observe" in loaded
    assert sorted(loaded & (unneeded | {"mtn_runbook.core.apis", "mtn_runbook.lifespan.ledger_view"})) == []
    shared = inv("validate", env={"PYTHONPROFILEIMPORTTIME": "1"})
    assert shared.code == 0, shared.output
    loaded = modules_imported(shared)
    assert "mtn_runbook.core.apis" in loaded and sorted(loaded & unneeded) == []


def test_output_off_a_terminal_does_not_load_rich(inv, sandbox, workdir):
    """Plain lines need no rich (about 40 ms to load): `inv validate | tee`, CI logs, scripts."""
    from mtn_runbook.core.session import Session, save

    save(workdir / ".cache" / "mtn-session.json", Session.from_dict(sandbox.mtn.mint_session(), "sandbox"))
    result = inv("validate", env={"PYTHONPROFILEIMPORTTIME": "1"})
    assert result.code == 0 and "✔ valid" in result.stdout, result.output
    assert sorted(m for m in modules_imported(result) if m.split(".")[0] == "rich") == []


def test_what_start_up_loaded_is_frozen_for_the_collector():
    """gc.freeze() once the package loads: the exit's full collection skips Invoke and the stdlib."""
    code = "import gc, invoke, mtn_runbook; print(gc.get_freeze_count())"
    frozen = int(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout)
    assert frozen > 10_000, frozen

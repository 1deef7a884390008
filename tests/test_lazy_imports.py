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
    loaded = loaded_after("import mtn_runbook.mtn, mtn_runbook.mtn.source, mtn_runbook.monitor.status")
    assert sorted(loaded & set(HEAVY)) == []


def test_importing_the_package_changes_no_global_state():
    """No import hook, no bytecode switch, no frozen heap: importing mtn_runbook (and its task
    namespace) leaves the interpreter as it found it, whatever Invoke or httpx does next."""
    code = ("import gc, sys; hooks = list(sys.meta_path); pyc = sys.dont_write_bytecode\n"
            "import mtn_runbook, mtn_runbook.tasks, mtn_runbook.core.http\n"
            "print(sys.meta_path == hooks, sys.dont_write_bytecode == pyc, gc.get_freeze_count())")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out == ["True", "True", "0"], out


def test_inv_list_shows_the_tasks_and_loads_nothing_heavy(inv, tmp_path):
    result = inv("--list", env={"PYTHONPROFILEIMPORTTIME": "1"})
    assert result.code == 0, result.output
    assert {"recover", "validate", "push.vercel", "monitor"} <= {line.split()[0] for line in result.stdout.splitlines()
                                                                 if line.startswith("  ")}, result.stdout
    assert sorted({m.split(".")[0] for m in modules_imported(result)} & set(HEAVY)) == []


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


def test_output_off_a_terminal_does_not_load_rich():
    """Plain lines need no rich (about 40 ms to load): `inv validate | tee`, CI logs, scripts. (httpx,
    once a task makes a call, imports rich for its own command line: that is httpx's, not ours.)"""
    code = ("import sys, json\nfrom mtn_runbook.core.console import Console\nc = Console()\n"
            "c.ok('valid'); c.warn('soon'); c.step('done', 'push', 'vercel', 1.5)\n"
            "print(json.dumps(sorted(sys.modules)), file=sys.stderr)")
    ran = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "valid" in ran.stdout and "\x1b" not in ran.stdout, ran.stdout
    assert sorted(m for m in json.loads(ran.stderr) if m.split(".")[0] == "rich") == []

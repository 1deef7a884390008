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

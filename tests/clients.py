"""The real clients the fidelity suite points at the sandbox: `gh` (apt) and the `vercel` CLI
(npm, pinned, installed by scripts/setup into .cache/tools/). A test skips, saying why, only when
its client is not installed; scripts/test installs both."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
VERCEL_CLI = Path(os.environ.get("VERCEL_CLI") or ROOT / ".cache/tools/vercel/node_modules/.bin/vercel")


def need_gh() -> str:
    found = shutil.which("gh")
    if not found:
        pytest.skip("gh is not installed (scripts/setup installs it with apt-get install gh)")
    return found


def need_vercel() -> str:
    if not (VERCEL_CLI.exists() and shutil.which("node")):
        pytest.skip(f"the vercel CLI is not installed at {VERCEL_CLI} (scripts/setup installs it with npm)")
    return str(VERCEL_CLI)


def run(cmd: list[str], env: dict[str, str], cwd: Path, stdin: str = "", timeout: float = 120) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("GH_", "GITHUB_", "VERCEL_"))}
    return subprocess.run(cmd, env={**clean, "HOME": str(cwd), **env}, cwd=cwd, input=stdin,
                          capture_output=True, text=True, timeout=timeout)


def gh(sandbox, home: Path, *args: str, stdin: str = "") -> subprocess.CompletedProcess:
    return run([need_gh(), *args], sandbox.gh_env(str(home / "gh-config")), home, stdin)


def vercel(sandbox, home: Path, *args: str, stdin: str = "") -> subprocess.CompletedProcess:
    cmd = [need_vercel(), *args, *sandbox.vercel_cli_args(), "--global-config", str(home / "vercel-config")]
    return run(cmd, sandbox.vercel_cli_env(), home, stdin)

"""Shared fixtures: a fresh sandbox per test, a work directory, and `inv` as a subprocess.

`inv` never reads the user's configuration: it runs the repository's tasks.py from a copy in a
folder of its own (Invoke reads invoke.yaml beside tasks.py, and the repository's invoke.yaml may
list real SSH hosts), in `workdir` (where `.env` is read), with HOME pointing at an empty folder
(`~/.invoke.yaml`, `~/.ssh/known_hosts`, `~/.ssh/config`).

Every `inv` run is checked for leaked secrets: no token, password, cookie value or encoded
session known to the sandbox may appear in its output (except the one value `export --stdout`
is asked to print).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
# headless shell first: every test's browser is headless (scripts/test sets the same default)
CHROMIUM_CANDIDATES = ("/usr/lib/chromium/chromium-headless-shell", "/usr/lib/chromium/chromium", "/usr/bin/chromium")


def chromium_path() -> str:
    if os.environ.get("PLAYWRIGHT_CHROMIUM_EXECUTABLE_PATH"):
        return os.environ["PLAYWRIGHT_CHROMIUM_EXECUTABLE_PATH"]
    for candidate in CHROMIUM_CANDIDATES:
        if os.path.exists(candidate):
            return candidate
    return shutil.which("chromium") or ""


@dataclass
class Result:
    code: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        return self.stdout + self.stderr


# Fixtures that start something real: the sandbox's listeners, `inv` as a subprocess, an sshd.
E2E_FIXTURES = frozenset({"sandbox", "inv", "sshd"})


def pytest_configure(config):
    config.addinivalue_line("markers", "e2e: starts the sandbox, `inv` (a subprocess), sshd or a browser; "
                                       "`scripts/test --fast` runs the rest (`-m 'not e2e'`)")
    config.addinivalue_line("markers", "tls: the sandbox fixture also starts GitHub's HTTPS listener (for `gh`)")


def pytest_collection_modifyitems(config, items):
    """Every test that uses an e2e fixture, directly or through another fixture, is e2e; a test that
    starts one itself carries an explicit `@pytest.mark.e2e` (or its module's `pytestmark`)."""
    for item in items:
        if E2E_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(autouse=True)
def no_console_from_an_earlier_test():
    """`warning()` and `notice()` print through the last Console made (one task, one process). In a
    test process that is an earlier test's, holding the output pytest captured for it and has closed
    since: forget it after each test, whichever worker ran which test before."""
    yield
    from mtn_runbook.core import console

    console._current = None


@pytest.fixture
def sandbox(request):
    """A fresh sandbox; its GitHub HTTPS listener (for the real `gh`) only under `@pytest.mark.tls`."""
    from mtn_runbook.sandbox import Sandbox

    sb = Sandbox(captcha_delay=0.3, deploy_seconds=0.4, tls=request.node.get_closest_marker("tls") is not None)
    sb.start()
    yield sb
    sb.stop()


@pytest.fixture(scope="session")
def tasks_root(tmp_path_factory) -> Path:
    """The folder `inv --search-root` points at: the repository's tasks.py, and nothing else."""
    root = tmp_path_factory.mktemp("tasks-root")
    shutil.copy(ROOT / "tasks.py", root / "tasks.py")
    return root


@pytest.fixture
def home(tmp_path: Path) -> Path:
    """HOME for every `inv` run: empty, so no user file (~/.invoke.yaml, ~/.ssh) is read."""
    path = tmp_path / "home"
    path.mkdir()
    return path


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    work = tmp_path / "work"
    work.mkdir()
    return work


def secrets_known(sandbox, workdir: Path) -> set[str]:
    """Every secret a test run could leak: sandbox credentials and every session it issued."""
    found = set()
    if sandbox is not None:
        o = sandbox.options
        found |= {o.password, o.vercel_token, o.github_token, o.coolify_token}
        if o.mtn_api_key:
            found.add(o.mtn_api_key)
        for state in (sandbox.mtn, sandbox.vercel):
            found |= set(state.secret_values())
        found |= {e["value"] for e in sandbox.vercel.env_vars() if e["key"] == "MTN_SESSION"}  # whatever was pushed
        found |= set(sandbox.coolify.secret_values())
        found |= {e["value"] or "" for e in sandbox.coolify.variables() if e["key"] == "MTN_SESSION"}
    session_file = workdir / ".cache" / "mtn-session.json"
    for path in (session_file, session_file.with_name(session_file.name + ".prev")):
        try:
            data = json.loads(path.read_text())
        except (OSError, ValueError):
            continue
        found |= {c.get("value", "") for c in data.get("cookies", []) if isinstance(c, dict)}
        from mtn_runbook.core.session import Session

        try:
            session = Session.from_dict(data, "test")
            found.add(session.encode())
            if sandbox is not None:   # and the value pushed for it (API host cookies, the app's gate)
                from mtn_runbook.core.pushed import app_value

                found.add(app_value(session, sandbox.urls["mtn_api"])[0].encode())
        except Exception:
            pass
    return {s for s in found if s and len(s) >= 6}


@pytest.fixture
def inv(sandbox, workdir, tasks_root, home):
    """Run `inv ARGS` in `workdir` with the sandbox's environment; returns a Result.

    `env=` adds or overrides variables (None removes one); `allow=` names values that may
    appear in output (e.g. the session `export --stdout` prints)."""

    def run(*args: str, env: dict | None = None, timeout: float = 120, allow: tuple = (),
            input: str | None = None) -> Result:
        full_env = {
            "PATH": f"{BIN}:{os.environ.get('PATH', '/usr/bin:/bin')}",
            "HOME": str(home),
            "LANG": "C.UTF-8",
            "PYTHONUNBUFFERED": "1",
            "PLAYWRIGHT_CHROMIUM_EXECUTABLE_PATH": chromium_path(),
        }
        if sandbox is not None:
            full_env.update(sandbox.env())
        for key, value in (env or {}).items():
            if value is None:
                full_env.pop(key, None)
            else:
                full_env[key] = value
        proc = subprocess.run([str(BIN / "inv"), "--search-root", str(tasks_root), *args], cwd=workdir,
                              env=full_env, capture_output=True, text=True, timeout=timeout, input=input)
        result = Result(proc.returncode, proc.stdout, proc.stderr)
        leaked = [s for s in secrets_known(sandbox, workdir) - set(allow) if s in result.output]
        assert not leaked, f"secret leaked in output of inv {' '.join(args)}: {len(leaked)} value(s)"
        assert "Traceback" not in result.output, result.output
        return result

    return run


def pushed_value(sandbox, session) -> str:
    """What a push sends for `session` (as saved, with the gate it noted): the MTN API host's
    cookies and expiresAt = the app's gate (core/pushed.py)."""
    from mtn_runbook.core.pushed import app_value

    return app_value(session, sandbox.urls["mtn_api"])[0].encode()

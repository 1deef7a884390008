"""The documents stay true: every `inv` command they show names a real task and real flags,
every variable of the design is in .env.example, and every task is documented in a runbook."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from mtn_runbook.core.config import ALIASES, VARIABLES
from mtn_runbook.tasks import ns

ROOT = Path(__file__).resolve().parents[1]
DOCS = sorted((ROOT / "runbooks").glob("*.md")) + [ROOT / "README.md"]
COMMAND = re.compile(r"(?<![\w./-])inv ((?:[\w.-]+)(?: +--?[\w-]+(?: +(?!inv\b)[^\s`|&;#-][^\s`|&;#]*)?)*)")


def task_flags() -> dict[str, set[str]]:
    """Every task's dotted name, with the flags Invoke gives it."""
    found = {}
    for name in ns.task_names:
        task = ns[name]
        flags = set()
        for arg in task.get_arguments():
            for n in arg.names:
                flags.add(("-" if len(n) == 1 else "--") + n.replace("_", "-"))
                if arg.kind is bool and len(n) > 1:
                    flags.add("--no-" + n.replace("_", "-"))
        flags |= {"--help", "-h"}
        found[name] = flags
        for alias in ns.task_names[name]:
            found[alias] = flags
    return found


def shown_commands():
    for doc in DOCS:
        for line in doc.read_text().splitlines():
            for match in COMMAND.finditer(line):
                yield doc.name, match.group(1).split()


def test_every_inv_command_in_the_docs_names_a_real_task_and_real_flags():
    tasks = task_flags()
    problems = []
    for doc, words in shown_commands():
        name, rest = words[0], words[1:]
        if name.startswith("-"):
            continue  # inv --list and the like
        if name not in tasks:
            problems.append(f"{doc}: inv {name}: no such task")
            continue
        for word in rest:
            if word.startswith("-") and word not in tasks[name]:
                problems.append(f"{doc}: inv {name} {word}: no such flag")
    assert not problems, "\n".join(problems)


def test_every_task_is_documented_in_a_runbook():
    text = "\n".join(d.read_text() for d in DOCS)
    missing = [name for name, aliases in ns.task_names.items()
               if not any(re.search(rf"inv {re.escape(n)}(?![\w.-])", text) for n in (name, *aliases))]
    assert not missing, f"tasks no runbook mentions: {missing}"


def test_env_example_lists_every_variable_with_a_comment():
    lines = (ROOT / ".env.example").read_text().splitlines()
    for name in [*VARIABLES, *ALIASES]:
        assert any(line.startswith(f"{name}=") or name in line for line in lines), name
    for i, line in enumerate(lines):
        if re.match(r"^[A-Z_]+=", line):
            assert lines[i - 1].startswith("#"), f"{line.split('=')[0]} has no comment above it"
            assert line.split("=", 1)[1] in ("", ".cache/mtn-session.json") or "https://" in line, \
                f"{line.split('=')[0]} has a value in .env.example"


@pytest.mark.e2e
def test_the_console_script_works_outside_the_repository(tmp_path):
    script = Path(sys.executable).parent / "mtn-runbook"
    result = subprocess.run([str(script), "--list"], cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    for name in ("recover", "refresh", "auth", "push", "monitor", "doctor"):
        assert name in result.stdout


@pytest.mark.parametrize("path", ["scripts/demo", "scripts/test", "scripts/setup", ".ci/run"])
def test_scripts_are_executable(path):
    assert (ROOT / path).stat().st_mode & 0o111


@pytest.mark.e2e
def test_the_console_script_reads_invoke_yaml_from_the_current_directory(tmp_path):
    (tmp_path / "invoke.yaml").write_text("targets:\n  - {kind: ssh, host: h}\n")
    script = Path(sys.executable).parent / "mtn-runbook"
    result = subprocess.run([str(script), "push.ssh", "--check"], cwd=tmp_path, capture_output=True,
                            text=True, timeout=60, env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)})
    assert result.returncode == 2, result.stderr
    # the file was read: the session is missing, or the entry is refused; either way one line, no traceback
    assert "Traceback" not in result.stderr


def test_user_docs_and_scripts_cite_no_file_outside_the_repository():
    """Walked: rehearsal.md and scripts/setup cited API_NOTES.md, which a clone does not have."""
    cited = []
    for path in [ROOT / "README.md", ROOT / "ARCHITECTURE.md", *sorted((ROOT / "runbooks").glob("*.md")),
                 *sorted((ROOT / "docs").rglob("*.md")), *sorted((ROOT / "scripts").iterdir())]:
        if path.is_file():
            text = path.read_text(errors="replace")
            cited += [f"{path.name}: {m}" for m in re.findall(r"API_NOTES(?:\.md)?|DESIGN\.md|\.\./shared", text)]
    assert cited == []


def test_rehearsal_does_not_promise_when_refresh_due_comes():
    """Walked: it said refresh due comes 'once two deaths are in'; it came at 0 deaths (the prior)."""
    text = (ROOT / "runbooks" / "rehearsal.md").read_text()
    assert "two deaths are in" not in text.replace("fewer than two deaths are in", "")
    assert "monitoring.md#refresh-due-when-the-tool-asks-for-a-login-and-why" in text

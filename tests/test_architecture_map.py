"""ARCHITECTURE.md's module map names every package and module under src/mtn_runbook, and
nothing that does not exist; its links and the decision files' links resolve (fast: reads files)."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "src" / "mtn_runbook"
ENTRY = re.compile(r"^\s*- `([\w./]+)`")


def mapped(text: str) -> list[str]:
    """The first name of each line of the `## Module map` section."""
    section = text.split("## Module map", 1)[1].split("\n## ", 1)[0]
    return [m.group(1) for line in section.splitlines() if (m := ENTRY.match(line))]


def existing(package: Path = PACKAGE) -> set[str]:
    """Every package (`name/`) and module (`name/x.py`, `cli.py`), without __init__.py."""
    names = set()
    for path in package.rglob("*.py"):
        rel = path.relative_to(package)
        if "__pycache__" in rel.parts:
            continue
        if path.name == "__init__.py":
            if rel.parent != Path("."):
                names.add(f"{rel.parent.as_posix()}/")
        else:
            names.add(rel.as_posix())
    return names


def problems(text: str, package: Path = PACKAGE) -> list[str]:
    names = mapped(text)
    missing = sorted(existing(package) - set(names))
    unknown = sorted(n for n in names if not (package / n).exists())
    doubled = sorted({n for n in names if names.count(n) > 1})
    return [f"not in the map: {n}" for n in missing] + [f"does not exist: {n}" for n in unknown] + \
           [f"named twice: {n}" for n in doubled]


def test_the_map_names_every_package_and_module_and_nothing_else():
    assert problems((ROOT / "ARCHITECTURE.md").read_text()) == []


def test_the_check_can_fail(tmp_path):
    (tmp_path / "core").mkdir()
    (tmp_path / "core" / "__init__.py").write_text("")
    (tmp_path / "core" / "new.py").write_text("")
    (tmp_path / "cli.py").write_text("")
    text = "## Module map\n\n- `core/`: x\n  - `core/gone.py`: y\n- `cli.py`: z\n"
    assert problems(text, tmp_path) == ["not in the map: core/new.py", "does not exist: core/gone.py"]


def test_one_decision_per_file_and_every_link_resolves():
    decisions = sorted((ROOT / "docs" / "decisions").glob("*.md"))
    index = (ROOT / "docs" / "decisions" / "README.md").read_text()
    listed = set(re.findall(r"\]\(([\w.-]+\.md)\)", index))
    assert listed == {p.name for p in decisions if p.name != "README.md"}
    for path in [ROOT / "ARCHITECTURE.md", ROOT / "README.md", *decisions]:
        text = path.read_text()
        if path.parent.name == "decisions" and path.name != "README.md":
            assert text.startswith("# ") and text.count("\n# ") == 0, path.name   # one decision, one title
        for target in re.findall(r"\]\(([^)#:\s]+)(?:#[^)]*)?\)", text):
            assert (path.parent / target).exists(), f"{path.relative_to(ROOT)} links to missing {target}"

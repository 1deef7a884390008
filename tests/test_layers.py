"""The package's layers hold: no module imports from a layer above its own, or from a sibling
layer of the same rank (ARCHITECTURE.md draws them). Lazy imports inside functions count too."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "mtn_runbook"

# layer -> rank; a module may import its own layer and any layer of a lower rank
RANK = {"core": 0, "mtn": 1, "targets": 1, "services": 1, "sandbox": 1, "runner": 2, "lifespan": 3,
        "watch": 4, "monitor": 5, "tasks": 6, "": 7}
# stricter than rank: the sandbox stands in for the outside world, so it leans on core alone
ONLY = {"sandbox": {"core", "sandbox"}}


def layer_of(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 2 or (len(parts) == 2 and parts[1] in RANK) else ""


def imports(path: Path) -> list[tuple[int, str]]:
    module = "mtn_runbook." + ".".join(path.relative_to(PACKAGE).with_suffix("").parts)
    package = module if path.name == "__init__.py" else module.rsplit(".", 1)[0]
    package = package.removesuffix(".__init__")
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            names = [f"{target}.{a.name}" for a in node.names] if not node.module else [target]
            found += [(node.lineno, n) for n in names]
        elif isinstance(node, ast.Import):
            found += [(node.lineno, a.name) for a in node.names]
    return [(line, t) for line, t in found if t.startswith("mtn_runbook.") or t == "mtn_runbook"]


def violations() -> list[str]:
    bad = []
    for path in sorted(PACKAGE.rglob("*.py")):
        module = "mtn_runbook." + ".".join(path.relative_to(PACKAGE).with_suffix("").parts)
        own = layer_of(module.removesuffix(".__init__"))
        for line, target in imports(path):
            other = layer_of(target)
            if other == own:
                continue
            allowed = ONLY.get(own)
            ok = other in allowed if allowed else (other in RANK and RANK[other] < RANK[own])
            if not ok:
                bad.append(f"{path.relative_to(PACKAGE)}:{line} ({own or 'top'}) imports {target} ({other or 'top'})")
    return bad


def test_every_module_is_in_a_known_layer():
    for path in PACKAGE.rglob("*.py"):
        parts = path.relative_to(PACKAGE).parts
        assert len(parts) == 1 and parts[0] in ("__init__.py", "cli.py") or parts[0] in RANK, path


def test_the_package_tree_is_the_layers():
    packages = {p.name for p in PACKAGE.iterdir() if (p / "__init__.py").is_file()}
    assert packages == {"core", "mtn", "targets", "services", "runner", "monitor", "watch", "lifespan", "tasks",
                        "sandbox"} == {layer for layer in RANK if layer}


def test_no_import_runs_up_or_sideways():
    assert violations() == []


def test_the_check_catches_an_upward_import(tmp_path, monkeypatch):
    # the test itself can fail: a core module that imports the runner is reported
    fake = tmp_path / "mtn_runbook"
    (fake / "core").mkdir(parents=True)
    (fake / "core" / "bad.py").write_text("def f():\n    from ..runner.engine import Run\n")
    (fake / "sandbox").mkdir()
    (fake / "sandbox" / "leak.py").write_text("from ..targets import push\n")
    (fake / "mtn").mkdir()
    (fake / "mtn" / "side.py").write_text("from ..targets import configured\n")
    (fake / "monitor").mkdir()
    (fake / "monitor" / "down.py").write_text("from ..watch.watcher_journal import last_install\n")   # allowed
    (fake / "watch").mkdir()
    (fake / "watch" / "up.py").write_text("from ..monitor.doctor import run_checks\n")
    monkeypatch.setattr(sys.modules[__name__], "PACKAGE", fake)
    assert violations() == ["core/bad.py:2 (core) imports mtn_runbook.runner.engine (runner)",
                            "mtn/side.py:1 (mtn) imports mtn_runbook.targets (targets)",
                            "sandbox/leak.py:1 (sandbox) imports mtn_runbook.targets (targets)",
                            "watch/up.py:1 (watch) imports mtn_runbook.monitor.doctor (monitor)"]


def circles() -> list[list[str]]:
    """Module-level import circles inside one layer (lazy imports count: a lazy import is how a
    circle hides). `from . import x` names the module x."""
    graph: dict[str, set[str]] = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        module = "mtn_runbook." + ".".join(path.relative_to(PACKAGE).with_suffix("").parts)
        module = module.removesuffix(".__init__")
        graph[module] = {t for _, t in imports(path)}
    known = set(graph)

    def resolve(target: str) -> str | None:
        while target and target not in known:
            target = target.rpartition(".")[0]
        return target or None

    edges = {m: {r for t in targets if (r := resolve(t)) and r != m and not m.startswith(r + ".")}
             for m, targets in graph.items()}
    found = []
    for a, outs in edges.items():
        for b in outs:
            if a < b and a in edges.get(b, ()):
                found.append([a, b])
    return found


def test_no_two_modules_import_each_other():
    assert circles() == []

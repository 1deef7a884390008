"""Only public APIs of the libraries: no private module or attribute of invoke, fabric, httpx,
httpcore, uvicorn or starlette is reached, and Playwright's private parts only in
mtn/playwright_private.py (version-checked there). An upgrade then breaks in one named place."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "mtn_runbook"
LIBRARIES = ("invoke", "fabric", "paramiko", "httpx", "httpcore", "uvicorn", "starlette", "playwright")
PLAYWRIGHT_PRIVATE = PACKAGE / "mtn" / "playwright_private.py"


def private_uses(path: Path) -> list[str]:
    tree = ast.parse(path.read_text())
    names: dict[str, str] = {}   # a local name -> the library it came from
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                top = alias.name.split(".")[0]
                if top in LIBRARIES:
                    names[alias.asname or top] = alias.name
                    if any(part.startswith("_") for part in alias.name.split(".")):
                        found.append(f"{node.lineno}: import {alias.name}")
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] in LIBRARIES:
            parts = node.module.split(".") + [a.name for a in node.names]
            if any(p.startswith("_") and p != "__version__" for p in parts):
                found.append(f"{node.lineno}: from {node.module} import {', '.join(a.name for a in node.names)}")
            for alias in node.names:
                names[alias.asname or alias.name] = node.module
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and node.attr.startswith("_") and not node.attr.startswith("__"):
            base = node.value
            while isinstance(base, ast.Attribute):
                base = base.value
            if isinstance(base, ast.Name) and base.id in names:
                found.append(f"{node.lineno}: {base.id}….{node.attr} ({names[base.id]})")
        if isinstance(node, ast.Attribute) and node.attr == "_impl_obj":
            found.append(f"{node.lineno}: .{node.attr} (Playwright's private side)")
    return found


def test_no_module_reaches_a_librarys_private_parts():
    found = {str(p.relative_to(PACKAGE)): private_uses(p) for p in sorted(PACKAGE.rglob("*.py")) if p != PLAYWRIGHT_PRIVATE}
    assert {k: v for k, v in found.items() if v} == {}


def test_the_check_finds_a_private_import_and_attribute(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text("import httpx\nfrom invoke.parser import _x\nhttpx._main.main()\npage._impl_obj\n")
    assert sorted(line.split(":")[0] for line in private_uses(bad)) == ["2", "3", "4"]


def test_playwrights_private_access_has_one_home():
    assert private_uses(PLAYWRIGHT_PRIVATE)   # it does reach in, and the check sees it

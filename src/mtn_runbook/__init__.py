"""mtn-runbook: keep the MTN wholesale API session alive in production."""

import gc as _gc
import os as _os
import sys as _sys
from importlib.machinery import ModuleSpec as _ModuleSpec

__version__ = "0.1.0"


class _HttpxWithoutCli:
    """An import hook for one module: httpx's __init__ imports its command line (`httpx._main`),
    which loads click, rich.syntax and pygments when they happen to be installed (about 100 ms).
    No part of this project runs httpx's CLI, so that module is an empty stand-in here."""

    @staticmethod
    def find_spec(name: str, path: object = None, target: object = None) -> "_ModuleSpec | None":
        return _ModuleSpec(name, _HttpxWithoutCli) if name == "httpx._main" else None

    @staticmethod
    def create_module(spec: _ModuleSpec) -> None:
        return None

    @staticmethod
    def exec_module(module: object) -> None:
        def main() -> None:
            raise SystemExit("httpx's command line is not loaded inside mtn-runbook")

        module.main = main  # type: ignore[attr-defined]


def _start_up() -> None:
    # Invoke turns bytecode writing off (so the user's tasks.py leaves no .pyc), which also kept
    # this editable install from ever caching its own modules: about 30 were compiled on every
    # run. PYTHONDONTWRITEBYTECODE, when set, still wins.
    if not _os.environ.get("PYTHONDONTWRITEBYTECODE"):
        _sys.dont_write_bytecode = False
    if "httpx" not in _sys.modules and _HttpxWithoutCli not in _sys.meta_path:
        _sys.meta_path.insert(0, _HttpxWithoutCli)
    # What is loaded by now (Invoke, the standard library) lives until exit. Frozen, the cyclic
    # collector no longer walks it: not in each full collection, nor in the one at interpreter
    # exit, which cost `inv --list` ~10 ms (bare Invoke pays it too).
    _gc.freeze()


_start_up()

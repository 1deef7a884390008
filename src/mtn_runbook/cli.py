"""`mtn-runbook`: the same tasks as `inv`, usable outside the repository. It reads
`invoke.yaml` (e.g. `targets:`) from the current directory, as `inv` reads it beside tasks.py."""

import os

from invoke import Program

from . import __version__
from .tasks import ns


class RunbookProgram(Program):
    def update_config(self, merge: bool = True) -> None:
        self.config.set_project_location(os.getcwd())
        self.config.load_project(merge=False)
        super().update_config(merge)


program = RunbookProgram(namespace=ns, version=__version__, name="mtn-runbook", binary="mtn-runbook")


def main() -> None:
    from .tasks.base import install_crash_hook

    install_crash_hook()
    program.run()

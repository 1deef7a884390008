"""`mtn-runbook`: the same tasks as `inv`, usable outside the repository. It reads
`invoke.yaml` (e.g. `targets:`) from the current directory, as `inv` reads it beside tasks.py.
Its argument errors (a misspelt flag, an unknown task, a flag without its value) exit 2, as all
bad input does; under `inv`, Invoke's own program ends them with exit 1."""

import os

from invoke import Exit, Program
from invoke.exceptions import ParseError

from . import __version__
from .core.errors import ExitCode
from .tasks import ns


class RunbookProgram(Program):
    def update_config(self, merge: bool = True) -> None:
        self.config.set_project_location(os.getcwd())
        self.config.load_project(merge=False)
        super().update_config(merge)

    def parse_tasks(self) -> None:
        try:
            super().parse_tasks()
        except ParseError as e:
            from .core.console import scrub
            from .tasks.base import argument_error

            raise Exit(scrub(f"✘ {argument_error(e, self.binary)}"), ExitCode.BAD_INPUT) from None


program = RunbookProgram(namespace=ns, version=__version__, name="mtn-runbook", binary="mtn-runbook")


def main() -> None:
    from .tasks.base import install_crash_hook

    install_crash_hook()
    program.run()

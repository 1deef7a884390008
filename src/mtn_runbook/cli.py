"""`mtn-runbook`: the same tasks as `inv`, usable outside the repository."""

from invoke import Program

from . import __version__
from .tasks import ns

program = Program(namespace=ns, version=__version__, name="mtn-runbook", binary="mtn-runbook")


def main() -> None:
    program.run()

"""What every target is: the `Target` shape, what its read found (`Current`), and what its
push did (`PushResult`), with the exit code a push's results add up to."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Protocol

from ..core.errors import ConfigError, ExitCode

KINDS = ("vercel", "github", "ssh", "coolify")


@dataclass
class Current:
    """What a target holds now. `holds`: True (exactly the value), False (missing or
    different), None (cannot be read back, e.g. a GitHub secret or a sensitive Vercel var)."""
    holds: bool | None
    plan: str                      # what put() would do, in the operator's words
    state: Any = None              # the target's own notes for put/verify (ids, timestamps)
    before: Any = None             # targets/holding.py Holding: what this read found (None: not said)
    after: Any = None              # the Holding verify read back after the write (None: not said)


class Target(Protocol):
    kind: str
    name: str
    look_in_check: bool            # False: --check must not even connect (SSH)

    def describe(self) -> str: ...
    def preflight(self) -> str: ...  # read-only: the token works and the target is reachable (doctor)
    def read(self, value: str) -> Current: ...
    def put(self, value: str, current: Current) -> None: ...
    def verify(self, value: str, current: Current) -> str: ...
    def activate(self) -> str: ...
    def close(self) -> None: ...


@dataclass(frozen=True)
class PushResult:
    name: str                      # the target's name, e.g. "vercel prj_x (production)"
    kind: str                      # vercel | github | ssh
    outcome: str                   # "changed", "ok" (already held it), "would" (--check), "failed"
    detail: str                    # one line: what happened, or the error and what to do
    seconds: float
    exit_code: int = ExitCode.DONE  # the error's exit code when failed (2: configuration)
    held: Any = field(default=None, compare=False, repr=False)  # Holding read last (after the write, if any)

    @property
    def failed(self) -> bool:
        return self.outcome == "failed"

    def to_json(self) -> dict:
        out = asdict(self)
        out.pop("held", None)
        return out


def exit_code(results: list[PushResult]) -> int:
    """0 all fine; 2 when every failure is a configuration error; else 1."""
    failures = [r for r in results if r.failed]
    if not failures:
        return ExitCode.DONE
    return ExitCode.BAD_INPUT if all(r.exit_code == ConfigError.exit_code for r in failures) else ExitCode.SERVICE_FAILED

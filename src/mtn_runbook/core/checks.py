"""A one-line verdict about one thing (doctor, recover's preflight, monitor): what was checked, ok
or not, and why."""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any, Callable

from .errors import RunbookError


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str = ""
    hint: str = ""          # what to do when not ok
    warning: bool = False   # ok, but worth a look
    error: RunbookError | None = field(default=None, compare=False, repr=False)  # the failure, to raise it

    @classmethod
    def of(cls, name: str, check: Callable[[], str]) -> Check:
        """Run `check` (its success's one line, or a RunbookError raised): the verdict."""
        try:
            return cls(name, True, check())
        except RunbookError as e:
            return cls.failed(name, e)

    @classmethod
    def failed(cls, name: str, e: RunbookError) -> Check:
        return cls(name, False, e.message, e.hint or "", error=e)

    def to_json(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self) if f.name != "error"}

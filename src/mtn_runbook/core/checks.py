"""A one-line verdict about one thing (doctor, monitor): what was checked, ok or not, and why."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str = ""
    hint: str = ""          # what to do when not ok
    warning: bool = False   # ok, but worth a look

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

"""How long the MTN stand-in keeps a session: a hard lifetime drawn per login, an idle (sliding)
timeout reset by every accepted API call, whichever ends it first; `time_scale` makes sandbox
time run faster than the wall clock so a rehearsal sees sessions die in seconds.

    Options.session_hours       None (never dies of age), a number of hours, or a draw:
                                "normal:24,6" (mean, sd; truncated at 2 h) or
                                "lognormal:72,1.0" (median, sigma)
    Options.session_idle_hours  None, or hours without an accepted API call after which it dies
    Options.time_scale          sandbox seconds per wall-clock second (3600: an hour a second)
    Options.lifetime_seed       seed for the draws (None: random)

MtnState asks `ended(sid)` on every API call and calls `used(sid)` when it accepts one.
"""

from __future__ import annotations

import math
import random
import threading
import time
from typing import Any, Callable

from ..core.errors import ConfigError


def drawer(spec: Any) -> Callable[[random.Random], float] | None:
    """hours -> a function of the generator; None when sessions never die of age."""
    if spec is None or spec == "":
        return None
    if isinstance(spec, (int, float)):
        if spec <= 0:
            raise ConfigError(f"session_hours {spec!r} must be above 0")
        return lambda rng: float(spec)
    kind, _, args = str(spec).partition(":")
    try:
        a, b = (float(x) for x in args.split(","))
    except ValueError:
        raise ConfigError(f"session_hours {spec!r} is not a number, 'normal:MEAN,SD' or 'lognormal:MEDIAN,SIGMA'") from None
    if kind == "normal":
        def normal(rng: random.Random) -> float:
            while True:
                h = rng.gauss(a, b)
                if h >= 2:
                    return h
        return normal
    if kind == "lognormal":
        return lambda rng: a * math.exp(rng.gauss(0, b))
    raise ConfigError(f"session_hours {spec!r}: the draws are 'normal' and 'lognormal'")


class Lifetimes:
    """Per login: when it was born, when last used, and its drawn hard lifetime (sandbox hours)."""

    def __init__(self, options: Any, clock: Callable[[], float] = time.monotonic):
        self.options, self.clock = options, clock
        self._lock = threading.Lock()
        self._rng = random.Random(getattr(options, "lifetime_seed", None))
        self._sessions: dict[str, dict] = {}

    def _hours_since(self, moment: float) -> float:
        return (self.clock() - moment) * float(self.options.time_scale) / 3600

    def born(self, sid: str) -> None:
        draw = drawer(self.options.session_hours)
        now = self.clock()
        with self._lock:
            hard = draw(self._rng) if draw else None
            self._sessions[sid] = {"born": now, "used": now, "hard": hard}

    def used(self, sid: str) -> None:
        with self._lock:
            if sid in self._sessions:
                self._sessions[sid]["used"] = self.clock()

    def ended(self, sid: str) -> str | None:
        """Why the session is over ("lifetime", "idle"), or None while it may live on."""
        idle = self.options.session_idle_hours
        with self._lock:
            s = self._sessions.get(sid)
            if s is None:
                return None
            if s["hard"] is not None and self._hours_since(s["born"]) >= s["hard"]:
                return "lifetime"
            if idle is not None and self._hours_since(s["used"]) >= float(idle):
                return "idle"
        return None

    def snapshot(self) -> dict[str, dict]:
        with self._lock:
            return {sid: {"hardHours": s["hard"], "ageHours": round(self._hours_since(s["born"]), 3)}
                    for sid, s in self._sessions.items()}

"""The keepalive rehearsal: a simulated day on the sandbox's MTN API, with time scaled down.

Three sessions on one stand-in, idle timeout 30 min (sliding), 1 wall second = 1 sandbox hour:
    kept        `Keepalive` pings it every 10 sandbox minutes for 24 sandbox hours
    left        nobody calls it
    hard        pinged the same way, but its hard lifetime is 8 h (a second stand-in)
Prints how long each lived (sandbox hours, from the stand-in's own clock), as a ratio of the idle
timeout, and the API calls keepalive made per sandbox hour (its cost). One run, no pass/fail.
"""

from __future__ import annotations

import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from mtn_runbook.core.config import Settings  # noqa: E402
from mtn_runbook.core.session import Session, save  # noqa: E402
from mtn_runbook.watch.keepalive import Keepalive  # noqa: E402
from mtn_runbook.mtn.api import validate  # noqa: E402
from mtn_runbook.sandbox import Sandbox  # noqa: E402

SCALE, IDLE, DAY, EVERY_MIN = 3600.0, 0.5, 24.0, 10.0


def run(hard_hours: float | None) -> tuple[float | None, int, str]:
    """(sandbox hours the pinged session lived, or None if alive at the end; pings; the unpinged one's state)."""
    with Sandbox(captcha_delay=None, session_idle_hours=IDLE, time_scale=SCALE, session_hours=hard_hours) as sb, \
            tempfile.TemporaryDirectory() as tmp:
        kept, left = sb.mtn.mint_session(), sb.mtn.mint_session()
        settings = Settings(mtn_api_base_url=sb.urls["mtn_api"], mtn_api_key=sb.options.mtn_api_key,
                            session_file=Path(tmp) / "s.json")
        save(settings.session_file, Session.from_dict(kept, "bench"))
        pings = int(DAY * 60 / EVERY_MIN)
        start = time.monotonic()
        job = Keepalive(settings, minutes=EVERY_MIN / SCALE, count=pings, say=lambda _: None, rng=random.Random(0))
        result = job.start()
        lived = None if not result.refused else (time.monotonic() - start) * SCALE / 3600
        left_state = validate(settings, Session.from_dict(left, "bench"), record=False).state
        why = [e.get("reason") for e in sb.history.events("mtn_sso", "expire") if e.get("sessionId") == left["sessionId"]]
        return lived, result.pings, f"{left_state} ({why[0] if why else 'not ended'})"


def main() -> None:
    lived, pings, left = run(None)
    print(f"sliding session, idle timeout {IDLE:g} h, pinged every {EVERY_MIN:g} min for {DAY:g} h: "
          + ("alive at the end" if lived is None else f"died after {lived:.2f} h")
          + f" = {DAY / IDLE:.0f}x the idle timeout; {pings} pings = {pings / DAY:.1f} API calls per hour")
    print(f"the same stand-in's unpinged session, asked at the end of the day: {left}")
    lived_hard, pings_hard, _ = run(8.0)
    print("hard lifetime 8 h, pinged the same way: "
          + (f"refused after {lived_hard:.2f} h ({lived_hard / 8:.2f}x the lifetime), {pings_hard} pings"
             if lived_hard is not None else "NOT refused within the day"))


if __name__ == "__main__":
    main()

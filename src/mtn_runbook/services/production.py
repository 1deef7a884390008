"""Is production running on the session we think it is, and does that session work?

Two checks against PRODUCTION_URL, because checking the stored secret alone once hid an outage:
  /api/mtn-wholesale/auth      must report the expected sessionId (it only loads the session), and
                               an expiresAt at least 24 h away: the app's gate, which it closes on
                               its own 5 minutes before expiresAt, whatever MTN says ("gate:" problem)
  /api/mtn-wholesale/products  must answer 200 with MTN's error_code "200" (it calls MTN)
Used by `inv verify`, `inv deploy` and the monitor. Never shows a sessionId: short forms only.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from typing import Any, Callable

from ..core.config import Settings, require
from ..core.console import Console
from ..core.errors import ServiceError
from ..core.errors import SessionFormatError
from ..core.http import Api, api_message, json_body
from ..core.pushed import GATE_MINIMUM
from ..core.session import Session
from ..core.times import duration, minutes_until, parse_time

AUTH_PATH = "/api/mtn-wholesale/auth"
PRODUCTS_PATH = "/api/mtn-wholesale/products"
GATE_FIX = "`inv recover` (no login while MTN accepts it: it extends, pushes and redeploys)"
NO_SESSION_CAUSES = ("MTN_SESSION missing or undecodable in the running deployment, or its expiresAt "
                     "under 5 min away: the app's gate")


def short(session_id: str) -> str:
    """The same harmless form as Session.short_id, for an id that came from elsewhere."""
    return f"{session_id[:4]}…{session_id[-4:]}" if len(session_id) > 12 else "…"


@dataclass(frozen=True)
class ProductionHealth:
    ok: bool
    auth: dict | None                 # what /auth answered, with sessionId in short form
    products_status: int | None       # HTTP status of /products (None: no answer)
    problems: list[str] = field(default_factory=list)  # one line per failed check
    gate_hours: float | None = None   # hours until the expiresAt /auth reports (None: none reported)

    def to_json(self) -> dict:
        return asdict(self)


def _json(response: Any) -> Any:
    return json_body(response)   # None also for JSON nested too deeply to parse


def check_production(settings: Settings, expected: Session | None) -> ProductionHealth:
    """Both checks, once. Problems are returned, not raised, except a missing PRODUCTION_URL."""
    require(settings, "PRODUCTION_URL")
    problems: list[str] = []
    auth: dict | None = None
    products_status: int | None = None
    gate_hours: float | None = None
    from concurrent.futures import ThreadPoolExecutor

    with Api("production", settings.production_url, retries=2, deadline=settings.check_deadline) as api, \
            ThreadPoolExecutor(max_workers=1, thread_name_prefix="products") as pool:
        # the two checks are independent: /products goes out while /auth is answered (one round trip)
        products = pool.submit(api.get, PRODUCTS_PATH, expect=range(100, 600))
        try:
            response = api.get(AUTH_PATH, expect=range(100, 600))
            body = _json(response)
            if response.status_code != 200 or not isinstance(body, dict):
                problems.append(f"auth: {AUTH_PATH} answered {response.status_code} {api_message(response)}".rstrip())
            else:
                reported = str(body.get("sessionId") or "")
                auth = {**body, "sessionId": short(reported) if reported else None}
                if not body.get("authenticated") or not reported:
                    problems.append(f"auth: production has no session loaded ({body.get('error') or 'no error given'}"
                                    f" — {NO_SESSION_CAUSES})")
                elif expected is not None and reported != expected.session_id:
                    problems.append(f"auth: production runs session {short(reported)}, not {expected.short_id} "
                                    "(redeploy after a push: `inv deploy`)")
                if body.get("authenticated"):
                    gate_hours, problem = _gate(body.get("expiresAt"))
                    if problem:
                        problems.append(problem)
        except ServiceError as e:
            problems.append(f"auth: {e.message}")
        try:
            response = products.result()
            products_status = response.status_code
            body = _json(response)
            code = body.get("error_code") if isinstance(body, dict) else None
            if response.status_code != 200 or str(code) != "200":
                said = api_message(response) if response.status_code != 200 else (
                    f"error_code {code!r}: {body.get('error_message', '') if isinstance(body, dict) else 'not JSON'}")
                problems.append(f"products: {PRODUCTS_PATH} answered {response.status_code} {said}".rstrip())
        except ServiceError as e:
            problems.append(f"products: {e.message}")
    return ProductionHealth(not problems, auth, products_status, problems, gate_hours)


def _gate(reported: object) -> tuple[float | None, str | None]:
    """Hours until production's expiresAt, and the "gate:" problem when that is under 24 h."""
    try:
        gate = parse_time(reported, "expiresAt")
    except SessionFormatError:
        return None, f"gate: production reports no usable expiresAt ({reported!r}): {GATE_FIX}"
    left = minutes_until(gate)
    if left >= GATE_MINIMUM.total_seconds() / 60:
        return round(left / 60, 2), None
    return round(left / 60, 2), (
        f"gate: production's expiresAt {reported} is {duration(left)} away, under 24 h: the app drops the "
        f"session 5 min before it even while MTN accepts it — {GATE_FIX}, or `inv extend`, `inv push`, `inv deploy`")


def wait_healthy(settings: Settings, expected: Session | None, *, window: float = 0.0,
                 interval: float = 2.0, on_retry: Callable[[ProductionHealth], None] | None = None
                 ) -> ProductionHealth:
    """check_production, repeated for up to `window` seconds until it passes: right after a
    deployment turns READY the app may still answer from the old one for a moment."""
    deadline = time.monotonic() + max(0.0, window)
    while True:
        health = check_production(settings, expected)
        if health.ok or time.monotonic() + interval > deadline:
            return health
        if on_retry:
            on_retry(health)
        time.sleep(interval)


def verified(settings: Settings, expected: Session | None, console: Console, *, window: float | None = None
             ) -> ProductionHealth:
    """The verify step of `inv deploy`, `inv verify` and recover: wait_healthy for the verify
    window (VERIFY_WINDOW_SECONDS unless `window`), one line per retry."""
    return wait_healthy(settings, expected, window=settings.verify_window if window is None else float(window),
                        on_retry=lambda h: console.line(f"… not yet: {h.problems[0]}; retrying"))

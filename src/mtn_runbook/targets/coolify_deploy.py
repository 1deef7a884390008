"""Deploy a Coolify application so its container starts with the new MTN_SESSION, and wait.

`POST /deploy?uuid=…` (POST only: a GET answers 405) queues a deployment, which recreates the
container; Coolify writes the container's environment when the deployment starts. It answers
200 `{"deployments": [{message, resource_uuid, deployment_uuid}]}`. While one of the
application's deployments is queued or running, the answer is "Deployment already queued for this
commit." with a deployment_uuid that does not exist: that deployment may have started before the
push, so this waits for it (found through `GET /deployments/applications/{uuid}`) and then asks
once more. `GET /deployments/{uuid}`: status queued → in_progress → finished | failed |
cancelled-by-user; each change is printed as `inv deploy` prints Vercel's.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING

from ..core.console import Console
from ..core.errors import ConfigError, ServiceError
from ..core.http import create_once

if TYPE_CHECKING:
    from .coolify import CoolifyTarget

DONE = {"finished"}
FAILED = {"failed", "cancelled-by-user"}
RUNNING = {"queued", "in_progress"}
ALREADY = "already queued"


@dataclass(frozen=True)
class CoolifyDeployment:
    id: str                  # deployment_uuid
    application: str         # the application's UUID
    state: str               # queued, in_progress, finished, failed, cancelled-by-user
    name: str = ""           # the target's name, for the lines

    @property
    def url(self) -> str:
        return f"Coolify application {self.application}"

    def to_json(self) -> dict:
        return asdict(self)


def _running(target: "CoolifyTarget") -> dict | None:
    """The application's deployment that is queued or running now, if any (newest first)."""
    body = target.get(f"/deployments/applications/{target.application}")
    items = body.get("deployments") if isinstance(body, dict) else body
    return next((d for d in items or [] if isinstance(d, dict) and d.get("status") in RUNNING), None)


def _queue(target: "CoolifyTarget") -> tuple[str, str]:
    """POST /deploy: (message, deployment_uuid). Not idempotent: after a gateway error the
    deployment it may have queued is looked for before trying again (http.create_once)."""
    def create() -> tuple[str, str]:
        body = target.api.post("/deploy", params={"uuid": target.application}).json()
        items = body.get("deployments") if isinstance(body, dict) else None
        item = next((d for d in items or [] if isinstance(d, dict) and d.get("resource_uuid") == target.application),
                    None)
        if item is None:
            raise ServiceError(f"{target.name}: POST /deploy did not queue a deployment ({body.get('message', body)})",
                               "check the application in Coolify")
        return str(item.get("message") or ""), str(item.get("deployment_uuid") or "")

    def find() -> tuple[str, str] | None:
        found = _running(target)
        return ("queued", str(found.get("deployment_uuid"))) if found else None

    return create_once(f"{target.name}: POST /deploy", create, find, label=lambda m: m[1])


def _wait(target: "CoolifyTarget", dep_id: str, console: Console, timeout: float, interval: float) -> str:
    start = time.monotonic()
    state = str(target.get(f"/deployments/{dep_id}").get("status") or "?")
    with console.waiting(f"waiting for Coolify deployment {dep_id} to finish") as update:
        while state not in DONE | FAILED:
            if time.monotonic() - start > timeout:
                raise ServiceError(f"{target.name}: deployment {dep_id} not finished after {timeout:.0f}s (still {state})",
                                   "see the deployment's logs in Coolify")
            time.sleep(interval)
            interval = min(interval * 1.5, 2.0)   # a container up unnoticed is outage time
            previous = state
            state = str(target.get(f"/deployments/{dep_id}").get("status") or "?")
            if state != previous:
                console.line(f"… deployment {dep_id}: {previous} → {state} after {time.monotonic() - start:.0f}s")
            update(f"deployment {dep_id}: {state}")
    return state


def deploy(target: "CoolifyTarget", *, console: Console, wait: bool = True, check: bool = False,
           timeout: float = 600, interval: float = 0.5) -> CoolifyDeployment:
    """Deploy the application; with `wait`, until it finished (failed raises ServiceError, exit 1).
    With `check`, only read that the application exists."""
    try:
        if check:
            app = target.get(target.path)
            return CoolifyDeployment("", target.application, str(app.get("status") or "?"), target.name)
        message, dep_id = _queue(target)
        if ALREADY in message.lower():
            running = _running(target)
            if running is not None:   # it may have started before the push: let it end, then deploy again
                other = str(running.get("deployment_uuid"))
                console.line(f"… {target.name}: deployment {other} is already {running.get('status')}; "
                             "waiting for it, then deploying again")
                _wait(target, other, console, timeout, interval)
            message, dep_id = _queue(target)
            if ALREADY in message.lower():
                raise ServiceError(f"{target.name}: Coolify still answers '{message}'",
                                   "someone keeps deploying it: wait for that deployment, then `inv deploy`")
        if not dep_id:   # e.g. "Unauthorized to deploy this application." (the token's role)
            raise ConfigError(f"{target.name}: Coolify queued no deployment: {message or 'no reason given'}",
                              "check that COOLIFY_TOKEN's user may deploy the application (an admin's token "
                              "with the deploy permission)")
        console.line(f"… {target.name}: deployment {dep_id} queued")
        if not wait:
            return CoolifyDeployment(dep_id, target.application, "queued", target.name)
        state = _wait(target, dep_id, console, timeout, interval)
    finally:
        target.close()
    if state in FAILED:
        raise ServiceError(f"{target.name}: deployment {dep_id} ended {state}",
                           "see the deployment's logs in Coolify; the previous container still runs (old "
                           "MTN_SESSION); fix it, then `inv recover --resume` (or `inv deploy`)")
    return CoolifyDeployment(dep_id, target.application, state, target.name)

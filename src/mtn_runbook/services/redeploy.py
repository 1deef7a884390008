"""Redeploy production on Vercel so the app reads the new MTN_SESSION, and wait for READY.

Env var changes reach the app only through a new deployment. The current production
deployment (`targets.production` of GET /v9/projects/{id}) is redeployed with
POST /v13/deployments?forceNew=1 {name, deploymentId, target: "production", meta: {action:
"redeploy"}} (without `target` it would become a preview), then polled until READY.

The polls come fast (every POLL_NEAR s) around when the build should end, learnt from the
project's last READY deployments (`latestDeployments`: `createdAt` to `ready`, in the same
answer as the production deployment, so no request of its own), and sparser far from it.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import asdict, dataclass

from ..core import apis
from ..core.config import Settings, require
from ..core.console import Console
from ..core.errors import ConfigError, ServiceError
from ..core.http import Api, api_message, create_once

MARK = "mtnRunbookRedeploy"   # meta key naming one redeploy request, to find it after a gateway error
DONE = {"READY"}
FAILED = {"ERROR", "CANCELED"}
POLL_NEAR = 0.1      # seconds between polls around the expected end of the build
POLL_FAR = 5.0       # the longest wait between two polls


@dataclass(frozen=True)
class Deployment:
    id: str
    url: str                 # host name, as Vercel gives it (no scheme)
    state: str               # readyState: QUEUED, INITIALIZING, BUILDING, READY, ERROR, CANCELED
    inspector_url: str = ""
    redeployed_from: str = ""  # the production deployment it replaces ("" for the current one)
    error_message: str = ""    # Vercel's errorMessage when it ended ERROR or CANCELED

    def to_json(self) -> dict:
        return asdict(self)


def _deployment(body: dict, source: str = "") -> Deployment:
    return Deployment(id=str(body.get("id") or body.get("uid") or ""), url=str(body.get("url") or ""),
                      state=str(body.get("readyState") or body.get("state") or "?"),
                      inspector_url=str(body.get("inspectorUrl") or ""), redeployed_from=source,
                      error_message=str(body.get("errorMessage") or ""))


def deploy_settings(settings: Settings) -> Settings:
    """Settings naming the project deploy redeploys: VERCEL_PROJECT_ID, else the one Vercel
    project that invoke.yaml `targets:` name (with its team). Raises ConfigError otherwise."""
    if settings.vercel_project_id:
        return settings
    projects = sorted({(str(t["project"]), str(t.get("team") or settings.vercel_team_id))
                       for t in settings.targets if t.get("kind") == "vercel" and t.get("project")})
    if len(projects) == 1:
        (project, team), = projects
        return settings.with_(vercel_project_id=project, vercel_team_id=team)
    if projects:
        raise ConfigError(f"VERCEL_PROJECT_ID not set and invoke.yaml targets name {len(projects)} Vercel projects "
                          f"({', '.join(p for p, _ in projects)}): which one does production run on?",
                          "set VERCEL_PROJECT_ID (and VERCEL_TEAM_ID) to production's project")
    raise ConfigError("VERCEL_PROJECT_ID not set (and no Vercel target in invoke.yaml names a project): "
                      "production cannot be redeployed", "set VERCEL_PROJECT_ID (and VERCEL_TEAM_ID) in .env")


def _api(settings: Settings) -> Api:
    require(settings, "VERCEL_TOKEN", "VERCEL_PROJECT_ID")
    return apis.vercel(settings, name="vercel")


@dataclass(frozen=True)
class Project:
    name: str
    current: Deployment | None        # production's deployment now (None when it has none)
    build_seconds: float | None = None  # how long its recent deployments took from created to READY


def _build_seconds(body: dict) -> float | None:
    """The median time from `createdAt` to `ready` of the project's recent READY deployments."""
    import statistics

    took = [(d["ready"] - d["createdAt"]) / 1000 for d in body.get("latestDeployments") or []
            if isinstance(d, dict) and d.get("readyState") == "READY"
            and isinstance(d.get("ready"), (int, float)) and isinstance(d.get("createdAt"), (int, float))
            and d["ready"] >= d["createdAt"]]
    return statistics.median(took) if took else None


def next_poll(elapsed: float, expected: float | None) -> float:
    """Seconds to wait before the next poll, `elapsed` seconds after the deployment was created."""
    if expected is not None:
        if elapsed < expected:  # halve the way to the expected end, so the polls gather there
            return min(POLL_FAR, max(POLL_NEAR, (expected - elapsed) / 2))
        if elapsed < expected * 1.25 + 2.0:
            return POLL_NEAR
    return min(POLL_FAR, max(POLL_NEAR * 2, elapsed / 10))  # no history, or late: lag ≤ 10 % of the wait


def production(settings: Settings) -> tuple[str, Deployment | None]:
    """The project's name and its current production deployment (None when it has none)."""
    found = project(settings)
    return found.name, found.current


def project(settings: Settings) -> Project:
    """One GET of the project: its name, production's deployment, the recent builds' durations."""
    settings = deploy_settings(settings)
    with _api(settings) as api:
        response = api.get(f"/v9/projects/{settings.vercel_project_id}", expect=(200, 404))
        if response.status_code == 404:
            raise ConfigError(f"vercel: project {settings.vercel_project_id} answered 404 {api_message(response)}",
                              "check VERCEL_PROJECT_ID and VERCEL_TEAM_ID: a team's project is only found "
                              "with its team id")
        body = response.json()
    current = (body.get("targets") or {}).get("production")
    return Project(str(body.get("name") or ""), _deployment(current) if current else None, _build_seconds(body))


def _create(settings: Settings, api: Api, name: str, current: Deployment) -> Deployment:
    """POST /v13/deployments. Not idempotent: the new deployment carries a mark in its meta, by
    which it is found after a gateway error (http.create_once): never two redeploys."""
    mark = secrets.token_hex(6)

    def create() -> Deployment:
        response = api.post("/v13/deployments", params={"forceNew": "1"}, expect=(200, 201), json={
            "name": name or settings.vercel_project_id, "deploymentId": current.id,
            "target": "production", "meta": {"action": "redeploy", MARK: mark}})
        return _deployment(response.json(), current.id)

    def find() -> Deployment | None:
        found = _marked(settings, api, mark)
        return _deployment(api.get(f"/v13/deployments/{found['uid']}").json(), current.id) if found else None

    return create_once("vercel: creating the deployment", create, find, label=lambda d: d.id)


def _marked(settings: Settings, api: Api, mark: str) -> dict | None:
    body = api.get("/v6/deployments", params={"projectId": settings.vercel_project_id, "target": "production",
                                              "limit": 20}).json()
    items = body.get("deployments") if isinstance(body, dict) else None
    return next((d for d in items or [] if isinstance(d, dict) and (d.get("meta") or {}).get(MARK) == mark), None)


def redeploy(settings: Settings, *, console: Console, wait: bool = True, check: bool = False,
             timeout: float = 600, found: Project | None = None) -> Deployment:
    """Redeploy the current production deployment. With `wait`, poll until READY (ERROR or
    CANCELED raise ServiceError with the inspector URL; so does `timeout`). With `check`,
    send nothing and return the deployment that would be redeployed. `found`: the project as
    read a moment ago (recover reads it while it pushes), else read now."""
    settings = deploy_settings(settings)
    found = found or project(settings)
    name, current = found.name, found.current
    if current is None:
        raise ServiceError(f"vercel: project {settings.vercel_project_id} has no production deployment to redeploy",
                           "deploy it once from git (or the Vercel dashboard), then rerun")
    if check:
        return current
    with _api(settings) as api:
        deployment = _create(settings, api, name, current)
        # said at once, as a line (CI logs and `| tee` see no spinner): where to watch it build
        console.line(f"… deployment {deployment.id} created ({deployment.state})"
                     + (f": {deployment.inspector_url}" if deployment.inspector_url else ""))
        if not wait:
            return deployment
        start = time.monotonic()  # the POST's answer: the deployment exists from about now
        with console.waiting(f"waiting for deployment {deployment.id} to be READY") as update:
            while deployment.state not in DONE | FAILED:
                if time.monotonic() - start > timeout:
                    raise ServiceError(f"vercel: deployment {deployment.id} not READY after {timeout:.0f}s "
                                       f"(still {deployment.state})",
                                       f"see {deployment.inspector_url or 'the Vercel dashboard'}")
                time.sleep(next_poll(time.monotonic() - start, found.build_seconds))
                previous = deployment.state
                deployment = _deployment(api.get(f"/v13/deployments/{deployment.id}").json(), current.id)
                if deployment.state != previous:
                    console.line(f"… deployment {deployment.id}: {previous} → {deployment.state} "
                                 f"after {time.monotonic() - start:.0f}s")
                update(f"deployment {deployment.id}: {deployment.state}")
    if deployment.state in FAILED:
        raise ServiceError(
            f"vercel: deployment {deployment.id} ended {deployment.state}"
            + (f": {deployment.error_message}" if deployment.error_message else ""),
            f"see {deployment.inspector_url or 'the Vercel dashboard'}; production still runs {current.id}")
    return deployment

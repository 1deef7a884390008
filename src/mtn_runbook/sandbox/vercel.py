"""Vercel REST API stand-in: the env vars and deployments of one team project.

Strict where the real API is (its public REST documentation): a missing or bad Bearer token gets 403
(`missingToken` / `invalidToken`), the team's project is found only with `?teamId=` (or `slug=`),
an env body with an unknown field or a string `target` is a 400, a create where every item failed
is a 400 (ENV_CONFLICT) while a 201 can still carry `failed[]`, upsert keeps a var's targets and
refuses to turn a `sensitive` var into another type, `sensitive` vars refuse `key` on PATCH, a
type change and the development target, an empty value is stored (as Vercel does), encrypted
values come back from the list only as ciphertext, and env changes reach the app only through a
new deployment (each deployment keeps a snapshot of its target's env). It also serves what the
real `vercel` CLI 60 asks for (tests/test_fidelity_vercel_cli.py): teams, custom environments,
the /v10 edit routes, deployments that name their team.

    GET    /v2/user                                   the token's user
    GET    /teams/{idOrSlug}, /v2/teams/{id}          the team;  GET /v1/teams, /v2/teams  {teams}
    GET    /v9/projects/{idOrName}?teamId=            project, with targets.production
    GET    /projects/{idOrName}/custom-environments   none: {environments: []}
    GET|POST /v10/projects/{idOrName}/env, GET /v1/.../env/{envId}, PATCH|DELETE /v9|v10/.../env/{envId}
                                                  the env vars: vercel_env.py
    POST   /v13/deployments?teamId=[&forceNew=1]      redeploy {name, deploymentId, target, meta}
    GET    /v13/deployments/{id or url}?teamId=       readyState QUEUED -> BUILDING -> READY|ERROR|CANCELED
    GET    /v6/deployments, /v7/deployments?teamId=&projectId=&target=   {deployments: [{uid, ...}]}

State and deployment timing: vercel_state.py; the token and team checks: vercel_http.py.

Admin routes (sandbox only; values are sandbox values):
    POST /admin/vercel/env        {key, value, type="encrypted", target=["production","preview"]}
                                  set a var directly (upsert semantics; recorded in history)
    GET  /admin/vercel/env/{key}?target=production   {key, value, fingerprint} (plaintext now stored)
    GET  /admin/vercel/production {deployment, env}  the current production deployment and its env

State helpers for tests: env_value(key, target), env_vars(), production_env(),
production_deployment(), deployments(), set_env(...), secret_values().
"""

from __future__ import annotations

import time
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from ..core.session import fingerprint
from .core import Service
from .vercel_checks import check_item
from .vercel_env import env_routes
from .vercel_http import auth_error, error, in_project, read_json, scope_error
from .vercel_state import WATCHED, VercelState


def build(sb: Any) -> list[Service]:
    state = VercelState(sb)

    async def user(request: Request) -> JSONResponse:
        if (err := auth_error(sb, request)):
            return err
        return JSONResponse({"user": {"id": "usr_sandbox", "email": "ops@example.test", "name": "Sandbox Ops",
                                      "username": "sandbox-ops", "defaultTeamId": sb.options.vercel_team_id}})

    async def team(request: Request) -> JSONResponse:
        if (err := auth_error(sb, request)):
            return err
        if request.path_params["team"] not in (sb.options.vercel_team_id, sb.options.vercel_team_slug):
            return error(404, "not_found", "Team not found")
        return JSONResponse(state.team_json())

    async def teams(request: Request) -> JSONResponse:
        if (err := auth_error(sb, request)):
            return err
        return JSONResponse({"teams": [state.team_json()], "pagination": {"count": 1, "next": None, "prev": None}})

    async def custom_environments(request: Request) -> JSONResponse:
        """The project's custom environments (none unless a test adds some: state.custom_environments)."""
        envs = [{"id": f"env_{slug}", "slug": slug, "type": "preview", "description": "",
                 "createdAt": 1700000000000, "updatedAt": 1700000000000} for slug in state.custom_environments]
        return JSONResponse({"accountLimit": {"total": 1 if envs else 0}, "environments": envs})

    async def project(request: Request) -> JSONResponse:
        o = sb.options
        with state._lock:
            now = time.time()
            prod = state._production(now)
            latest = [state.deployment_json(d, now) for d in reversed(state._deployments)][:5]
            targets = {"production": state.deployment_json(prod, now) if prod else None}
        return JSONResponse({"id": o.vercel_project_id, "name": o.vercel_project_name, "accountId": o.vercel_team_id,
                             "framework": "nextjs", "targets": targets, "latestDeployments": latest})

    async def create_deployment(request: Request) -> JSONResponse:
        if (err := auth_error(sb, request) or scope_error(sb, request)):
            return err
        body = await read_json(request)
        if body is ValueError or not isinstance(body, dict):
            return error(400, "bad_request", "Invalid request: body should be object.")
        o = sb.options
        if not isinstance(body.get("name"), str) or not body["name"]:
            return error(400, "bad_request", "Invalid request: missing required property `name`.")
        if "deploymentId" not in body:
            return error(400, "missing_files", "Missing files: a new deployment needs `files` or `deploymentId`.")
        target = body.get("target")
        if target not in (None, "production", "preview", "staging"):
            return error(400, "bad_request", "Invalid request: `target` should be \"production\" or \"preview\".")
        final = str(o.next_deploy_state or "READY").upper()
        if final not in ("READY", "ERROR", "CANCELED"):
            final = "READY"
        with state._lock:
            source = next((d for d in state._deployments if d["id"] == body["deploymentId"]), None)
            if source is None:
                return error(404, "not_found", "The deployment was not found.")
            dep_target = "production" if target == "production" else None
            env = state._env_for("production" if dep_target else "preview")
            meta = body.get("meta") if isinstance(body.get("meta"), dict) else {}
            dep = state._deployment(dep_target, env, time.time(), max(0.0, float(o.deploy_seconds)), final,
                                    str(meta.get("action", "deploy")))
            dep["meta"] = {**{k: str(v) for k, v in meta.items()}, "redeployedFrom": source["id"]}
            dep["name"] = body["name"]   # the deployment's name; the project is the source's
            state._deployments.append(dep)
            sb.history.add("vercel", "deployment.create", id=dep["id"], target=dep_target, final=final,
                           fingerprint=fingerprint(env[WATCHED]) if WATCHED in env else None)
            return JSONResponse(state.deployment_json(dep))

    async def get_deployment(request: Request) -> JSONResponse:
        if (err := auth_error(sb, request) or scope_error(sb, request)):
            return err
        wanted = request.path_params["dep"]
        with state._lock:
            dep = next((d for d in state._deployments if wanted in (d["id"], d["url"])), None)
            if dep is None:
                return error(404, "not_found", "The deployment was not found.")
            return JSONResponse(state.deployment_json(dep))

    async def list_deployments(request: Request) -> JSONResponse:
        if (err := auth_error(sb, request) or scope_error(sb, request)):
            return err
        q = request.query_params
        project_id = q.get("projectId")
        if project_id is not None and project_id not in (sb.options.vercel_project_id, sb.options.vercel_project_name):
            return error(404, "not_found", "Project not found")
        try:
            limit = int(q.get("limit", "20"))
        except ValueError:
            return error(400, "bad_request", "Invalid request: `limit` should be number.")
        now = time.time()
        with state._lock:
            items = [state.deployment_json(d, now, legacy=True) for d in reversed(state._deployments)]
        if q.get("target"):
            items = [d for d in items if d["target"] == q["target"]]
        if q.get("state"):
            wanted = set(q["state"].upper().split(","))
            items = [d for d in items if d["state"] in wanted]
        items = items[:limit]
        return JSONResponse({"deployments": items, "pagination": {"count": len(items), "next": None, "prev": None}})

    # -- admin ------------------------------------------------------------------------
    async def admin_set_env(request: Request) -> JSONResponse:
        body = await read_json(request)
        if body is ValueError or not isinstance(body, dict):
            return JSONResponse({"error": "body must be a JSON object"}, 400)
        item = {"type": "encrypted", "target": ["production", "preview"], **body}
        if (reason := check_item(item)):
            return JSONResponse({"error": reason}, 400)
        try:
            return JSONResponse(state.set_env(item["key"], item["value"], item["type"], item["target"]), 201)
        except ValueError as e:
            return JSONResponse({"error": str(e)}, 409)

    async def admin_get_env(request: Request) -> JSONResponse:
        key = request.path_params["key"]
        value = state.env_value(key, request.query_params.get("target", "production"))
        if value is None:
            return JSONResponse({"error": f"{key} not set for that target"}, 404)
        return JSONResponse({"key": key, "value": value, "fingerprint": fingerprint(value)})

    async def admin_production(request: Request) -> JSONResponse:
        return JSONResponse({"deployment": state.production_deployment()})

    async def unknown(request: Request, exc: Exception) -> JSONResponse:
        status = getattr(exc, "status_code", 404)
        return error(status, "not_found" if status == 404 else "method_not_allowed",
                     "The requested path was not found." if status == 404 else "Method not allowed.")

    p = "/{project}"
    app = Starlette(exception_handlers={404: unknown, 405: unknown}, routes=[
        Route("/v2/user", user),
        Route("/teams/{team}", team),
        Route("/v2/teams/{team}", team),
        Route("/v1/teams", teams),
        Route("/v2/teams", teams),
        Route(f"/v9/projects{p}", in_project(sb, project)),
        Route(f"/projects{p}/custom-environments", in_project(sb, custom_environments)),
        Route(f"/v9/projects{p}/custom-environments", in_project(sb, custom_environments)),
        *env_routes(sb, state, p),
        Route("/v13/deployments", create_deployment, methods=["POST"]),
        Route("/v13/deployments/{dep}", get_deployment),
        Route("/v6/deployments", list_deployments),
        Route("/v7/deployments", list_deployments),
    ])
    admin = [
        Route("/admin/vercel/env", admin_set_env, methods=["POST"]),
        Route("/admin/vercel/env/{key}", admin_get_env),
        Route("/admin/vercel/production", admin_production),
    ]
    return [Service("vercel", app, admin_routes=admin, state=state)]

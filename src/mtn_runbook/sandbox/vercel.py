"""Vercel REST API stand-in: the env vars and deployments of one team project.

Strict where the real API is (API_NOTES.md): a missing or bad Bearer token gets 403
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
    GET    /v10/projects/{idOrName}/env?teamId=       {envs: [...]} (encrypted/sensitive: ciphertext)
    POST   /v10/projects/{idOrName}/env?teamId=[&upsert=true]   201 {created, failed}
    GET    /v1/projects/{idOrName}/env/{envId}?teamId=          one var, decrypted (not sensitive)
    PATCH  /v9|v10/projects/{idOrName}/env/{envId}?teamId=      edit in place
    DELETE /v9|v10/projects/{idOrName}/env/{envId}?teamId=      remove
    POST   /v13/deployments?teamId=[&forceNew=1]      redeploy {name, deploymentId, target, meta}
    GET    /v13/deployments/{id or url}?teamId=       readyState QUEUED -> BUILDING -> READY|ERROR|CANCELED
    GET    /v6/deployments, /v7/deployments?teamId=&projectId=&target=   {deployments: [{uid, ...}]}

State and deployment timing: vercel_state.py.

Admin routes (sandbox only; values are sandbox values):
    POST /admin/vercel/env        {key, value, type="encrypted", target=["production","preview"]}
                                  set a var directly (upsert semantics; recorded in history)
    GET  /admin/vercel/env/{key}?target=production   {key, value, fingerprint} (plaintext now stored)
    GET  /admin/vercel/production {deployment, env}  the current production deployment and its env

State helpers for tests: env_value(key, target), env_vars(), production_env(),
production_deployment(), deployments(), set_env(...), secret_values().
"""

from __future__ import annotations

import json
import secrets
import time
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from ..core.session import fingerprint
from .core import Service
from .vercel_state import WATCHED, VercelState, _ms, check_fields, check_item


def error(status: int, code: str, message: str, **extra: Any) -> JSONResponse:
    return JSONResponse({"error": {"code": code, "message": message, **extra}}, status)



async def read_json(request: Request) -> Any:
    try:
        return json.loads(await request.body() or b"null")
    except ValueError:
        return ValueError


def build(sb: Any) -> list[Service]:
    state = VercelState(sb)

    def auth_error(request: Request) -> JSONResponse | None:
        header = request.headers.get("authorization", "")
        if not header:
            return error(403, "forbidden", "The request is missing an authentication token", missingToken=True)
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not secrets.compare_digest(token.strip(), sb.options.vercel_token):
            return error(403, "forbidden", "Not authorized", invalidToken=True)
        return None

    def scope_error(request: Request) -> JSONResponse | None:
        """The project lives in a team: without the team's teamId (or its slug) it is not found."""
        o, q = sb.options, request.query_params
        if "teamId" not in q and "slug" not in q:
            return error(404, "not_found", "Project not found")
        if q.get("teamId", o.vercel_team_id) != o.vercel_team_id or q.get("slug", o.vercel_team_slug) != o.vercel_team_slug:
            return error(403, "forbidden", "Not authorized: you are not a member of this team")
        return None

    def project_error(request: Request) -> JSONResponse | None:
        found = auth_error(request) or scope_error(request)
        if found:
            return found
        id_or_name = request.path_params.get("project")
        if id_or_name is not None and id_or_name not in (sb.options.vercel_project_id, sb.options.vercel_project_name):
            return error(404, "not_found", "Project not found")
        return None

    def in_project(handler: Any) -> Any:
        """Every /projects/{idOrName} route: 403 for a bad token, 404 without the team's teamId."""
        async def checked(request: Request) -> JSONResponse:
            return project_error(request) or await handler(request)
        return checked

    def find_env(env_id: str) -> dict | None:
        return next((e for e in state._envs if e["id"] == env_id), None)

    async def user(request: Request) -> JSONResponse:
        if (err := auth_error(request)):
            return err
        return JSONResponse({"user": {"id": "usr_sandbox", "email": "ops@example.test", "name": "Sandbox Ops",
                                      "username": "sandbox-ops", "defaultTeamId": sb.options.vercel_team_id}})

    async def team(request: Request) -> JSONResponse:
        if (err := auth_error(request)):
            return err
        if request.path_params["team"] not in (sb.options.vercel_team_id, sb.options.vercel_team_slug):
            return error(404, "not_found", "Team not found")
        return JSONResponse(state.team_json())

    async def teams(request: Request) -> JSONResponse:
        if (err := auth_error(request)):
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

    async def list_env(request: Request) -> JSONResponse:
        target = request.query_params.get("target")   # the CLI's `env rm X production` relies on it
        with state._lock:
            envs = [state.env_json(e) for e in state._envs if target is None or target in e["target"]]
        return JSONResponse({"envs": envs, "pagination": {"count": len(envs), "next": None, "prev": None}})

    async def create_env(request: Request) -> JSONResponse:
        body = await read_json(request)
        if body is ValueError:
            return error(400, "bad_request", "Invalid JSON.")
        items = body if isinstance(body, list) else [body]
        if not items:
            return error(400, "bad_request", "Invalid request: body should NOT have fewer than 1 items.")
        for item in items:
            if (reason := check_item(item)):
                return error(400, "bad_request", reason)
        upsert = request.query_params.get("upsert") == "true"
        with state._lock:
            result = state.create_env(items, upsert)
        created = result["created"]
        if not created:  # every item failed: a 400 with the (first) reason, not a 201
            first = result["failed"][0]["error"]
            return error(400, first["code"], first["message"], **{k: v for k, v in first.items()
                                                                   if k not in ("code", "message")})
        if not isinstance(body, list) and len(created) == 1:
            created = created[0]
        return JSONResponse({"created": created, "failed": result["failed"]}, 201)

    async def get_env(request: Request) -> JSONResponse:
        with state._lock:
            rec = find_env(request.path_params["env_id"])
            if rec is None:
                return error(404, "not_found", "Environment Variable not found")
            return JSONResponse(state.env_json(rec, reveal=True))

    async def patch_env(request: Request) -> JSONResponse:
        body = await read_json(request)
        if body is ValueError or not isinstance(body, dict):
            return error(400, "bad_request", "Invalid request: body should be object.")
        if (reason := check_fields(body)):
            return error(400, "bad_request", reason)
        with state._lock:
            rec = find_env(request.path_params["env_id"])
            if rec is None:
                return error(404, "not_found", "Environment Variable not found")
            if rec["type"] == "sensitive":
                if "key" in body:
                    return error(400, "bad_request", "Cannot change the key of a Sensitive Environment Variable. "
                                 "Remove `key` from the request body.")
                if "type" in body and body["type"] != "sensitive":
                    return error(400, "bad_request", "Cannot change the type of a Sensitive Environment Variable.")
            merged = {"type": body.get("type", rec["type"]), "target": body.get("target", rec["target"])}
            if (reason := check_fields(merged)):
                return error(400, "bad_request", reason)
            target = list(dict.fromkeys(merged["target"]))
            key = body.get("key", rec["key"])
            clash = next((e for e in state._envs if e is not rec and e["key"] == key
                          and set(e["target"]) & set(target)), None)
            if clash:
                return error(400, "ENV_CONFLICT", f"A variable with the name `{key}` already exists for the target "
                             f"{', '.join(t for t in target if t in clash['target'])} on branch undefined",
                             envVarId=clash["id"])
            rec.update(key=key, type=merged["type"], target=target, value=body.get("value", rec["value"]),
                       updatedAt=_ms())
            if isinstance(body.get("comment"), str):
                rec["comment"] = body["comment"]
            state._record_change("update", rec)
            return JSONResponse(state.env_json(rec))

    async def delete_env(request: Request) -> JSONResponse:
        with state._lock:
            rec = find_env(request.path_params["env_id"])
            if rec is None:
                return error(404, "not_found", "Environment Variable not found")
            state._envs.remove(rec)
            state._record_change("delete", rec)
            return JSONResponse(state.env_json(rec))

    async def create_deployment(request: Request) -> JSONResponse:
        if (err := auth_error(request) or scope_error(request)):
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
        if (err := auth_error(request) or scope_error(request)):
            return err
        wanted = request.path_params["dep"]
        with state._lock:
            dep = next((d for d in state._deployments if wanted in (d["id"], d["url"])), None)
            if dep is None:
                return error(404, "not_found", "The deployment was not found.")
            return JSONResponse(state.deployment_json(dep))

    async def list_deployments(request: Request) -> JSONResponse:
        if (err := auth_error(request) or scope_error(request)):
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
        Route(f"/v9/projects{p}", in_project(project)),
        Route(f"/projects{p}/custom-environments", in_project(custom_environments)),
        Route(f"/v9/projects{p}/custom-environments", in_project(custom_environments)),
        Route(f"/v10/projects{p}/env", in_project(list_env), methods=["GET"]),
        Route(f"/v10/projects{p}/env", in_project(create_env), methods=["POST"]),
        Route(f"/v1/projects{p}/env/{{env_id}}", in_project(get_env), methods=["GET"]),
        *(Route(f"/{v}/projects{p}/env/{{env_id}}", in_project(patch_env), methods=["PATCH"]) for v in ("v9", "v10")),
        *(Route(f"/{v}/projects{p}/env/{{env_id}}", in_project(delete_env), methods=["DELETE"]) for v in ("v9", "v10")),
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

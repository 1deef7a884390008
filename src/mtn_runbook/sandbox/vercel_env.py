"""The Vercel stand-in's env var routes, under /projects/{idOrName} of the team's one project.

    GET    /v10/projects/{idOrName}/env?teamId=       {envs: [...]} (encrypted/sensitive: ciphertext)
    POST   /v10/projects/{idOrName}/env?teamId=[&upsert=true]   201 {created, failed}
    GET    /v1/projects/{idOrName}/env/{envId}?teamId=          one var, decrypted (not sensitive)
    PATCH  /v9|v10/projects/{idOrName}/env/{envId}?teamId=      edit in place
    DELETE /v9|v10/projects/{idOrName}/env/{envId}?teamId=      remove

An env body with an unknown field or a string `target` is a 400 (vercel_checks.py), a create
where every item failed is a 400 (ENV_CONFLICT) while a 201 can still carry `failed[]`, upsert
keeps a var's targets and refuses to turn a `sensitive` var into another type, and a `sensitive`
var refuses `key` on PATCH and a type change.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from .vercel_checks import check_fields, check_item
from .vercel_http import error, in_project, read_json
from .vercel_state import VercelState, _ms


def env_routes(sb: Any, state: VercelState, project_path: str) -> list[Route]:
    """The env var routes; `project_path` is the `/{project}` part every one of them names."""

    def find_env(env_id: str) -> dict | None:
        return next((e for e in state._envs if e["id"] == env_id), None)

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

    p = project_path
    return [
        Route(f"/v10/projects{p}/env", in_project(sb, list_env), methods=["GET"]),
        Route(f"/v10/projects{p}/env", in_project(sb, create_env), methods=["POST"]),
        Route(f"/v1/projects{p}/env/{{env_id}}", in_project(sb, get_env), methods=["GET"]),
        *(Route(f"/{v}/projects{p}/env/{{env_id}}", in_project(sb, patch_env), methods=["PATCH"]) for v in ("v9", "v10")),
        *(Route(f"/{v}/projects{p}/env/{{env_id}}", in_project(sb, delete_env), methods=["DELETE"]) for v in ("v9", "v10")),
    ]

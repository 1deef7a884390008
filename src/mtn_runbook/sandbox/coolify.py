"""The Coolify stand-in: the API v1 routes a push and a deployment use, as strict as Coolify 4.3.11.

    GET    /api/v1/version                               "4.3.11" (text)               read
    GET    /api/v1/applications/{uuid}                   the application               read
    GET    /api/v1/applications/{uuid}/envs              production variables, then preview copies
    POST   /api/v1/applications/{uuid}/envs              201 {uuid}; 409 existing key   write
    PATCH  /api/v1/applications/{uuid}/envs              201 the variable; 404 missing  write
    DELETE /api/v1/applications/{uuid}/envs/{env_uuid}   (recorded: a push must never call it)
    POST   /api/v1/deploy?uuid=…                         200 {deployments: [...]}      deploy
    GET    /api/v1/deploy                                405 (POST only)
    GET    /api/v1/deployments/{uuid}                    the deployment (status)        read
    GET    /api/v1/deployments/applications/{uuid}       {count, deployments} newest first

Bearer token (options.coolify_token): missing or unknown → 401 {"message": "Unauthenticated."};
its abilities (options.coolify_abilities, comma-separated: root, read, read:sensitive, write,
deploy) → 403 "Missing required permissions: …"; without root or read:sensitive no `value` is
shown. Unknown application → 404 "Application not found". Env bodies: 422 "Validation failed."
with per-field errors (coolify_state.validate). Faults: service "coolify"; a failed deployment:
options.coolify_deploy_state = "failed".
"""

from __future__ import annotations

import json
import secrets
import time
from typing import Any, Callable

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse
from starlette.routing import Route

from .coolify_state import VERSION, CoolifyState, middleware, validate
from .core import Service


def _abilities(sb: Any) -> set[str]:
    return {a.strip() for a in str(sb.options.coolify_abilities or "").split(",") if a.strip()}


def build(sb: Any) -> list[Service]:
    state = CoolifyState(sb)

    def guarded(ability: str, handler: Callable) -> Callable:
        """auth:sanctum then api.ability: 401 for a missing or unknown token, 403 without the ability."""
        async def checked(request: Request) -> Any:
            scheme, _, token = request.headers.get("authorization", "").partition(" ")
            if scheme.lower() != "bearer" or not secrets.compare_digest(token.strip().encode(),
                                                                        sb.options.coolify_token.encode()):
                return JSONResponse({"message": "Unauthenticated."}, 401)
            abilities = _abilities(sb)
            if "root" not in abilities and ability not in abilities:
                return JSONResponse({"message": f"Missing required permissions: {ability}"}, 403)
            request.state.can_read_sensitive = bool(abilities & {"root", "read:sensitive"})
            return await handler(request)
        return checked

    def app_missing(request: Request) -> JSONResponse | None:
        if request.path_params["uuid"] != state.app["uuid"]:
            return JSONResponse({"message": "Application not found"}, 404)
        return None

    async def body_of(request: Request) -> dict | JSONResponse:
        try:
            body = json.loads(await request.body() or b"{}")
        except ValueError:
            return JSONResponse({"message": "Invalid JSON."}, 400)
        if not isinstance(body, dict):
            return JSONResponse({"message": "Invalid JSON."}, 400)
        return middleware(body)

    def invalid(errors: dict) -> JSONResponse:
        return JSONResponse({"message": "Validation failed.", "errors": errors}, 422)

    async def version(request: Request) -> PlainTextResponse:
        return PlainTextResponse(VERSION)

    async def application(request: Request) -> JSONResponse:
        if (missing := app_missing(request)):
            return missing
        return JSONResponse(dict(state.app))

    async def list_envs(request: Request) -> JSONResponse:
        if (missing := app_missing(request)):
            return missing
        with state._lock:
            ordered = [e for e in state._envs if not e["is_preview"]] + [e for e in state._envs if e["is_preview"]]
            return JSONResponse([state.env_json(e, request.state.can_read_sensitive) for e in ordered])

    async def create_env(request: Request) -> JSONResponse:
        if (missing := app_missing(request)):
            return missing
        body = await body_of(request)
        if isinstance(body, JSONResponse):
            return body
        if (errors := validate(body)):
            return invalid(errors)
        with state._lock:
            status, answer = state.create_env(body)
        return JSONResponse(answer, status)

    async def update_env(request: Request) -> JSONResponse:
        body = await body_of(request)          # validateIncomingRequest comes before the application
        if isinstance(body, JSONResponse):
            return body
        if (missing := app_missing(request)):
            return missing
        if (errors := validate(body)):
            return invalid(errors)
        with state._lock:
            status, rec = state.update_env(body)
            if rec is None:
                return JSONResponse({"message": "Environment variable not found."}, 404)
            return JSONResponse(state.env_json(rec, request.state.can_read_sensitive), status)

    async def delete_env(request: Request) -> JSONResponse:
        if (missing := app_missing(request)):
            return missing
        with state._lock:
            if not state.delete_env(request.path_params["env_uuid"]):
                return JSONResponse({"message": "Environment variable not found."}, 404)
        return JSONResponse({"message": "Environment variable deleted."})

    async def deploy(request: Request) -> JSONResponse:
        uuids = [u for u in request.query_params.get("uuid", "").split(",") if u]
        if not uuids and not request.query_params.get("tag"):
            return JSONResponse({"message": "You must provide uuid or tag."}, 400)
        items = []
        with state._lock:
            for uuid in uuids:
                if uuid == state.app["uuid"]:
                    message, dep_id = state.queue()
                    items.append({"message": message, "resource_uuid": uuid, "deployment_uuid": dep_id})
        if not items:
            return JSONResponse({"message": "No resources found."}, 404)
        return JSONResponse({"deployments": items})

    async def post_required(request: Request) -> JSONResponse:
        return JSONResponse({"message": "This endpoint has changed to a POST request."}, 405, headers={"Allow": "POST"})

    async def deployment(request: Request) -> JSONResponse:
        now = time.time()
        with state._lock:
            state.advance(now)
            dep = next((d for d in state._deployments if d["deployment_uuid"] == request.path_params["uuid"]), None)
            if dep is None:
                return JSONResponse({"message": "Deployment not found."}, 404)
            return JSONResponse(state.deployment_json(dep, now))

    async def app_deployments(request: Request) -> JSONResponse:
        if (missing := app_missing(request)):
            return missing
        now = time.time()
        with state._lock:
            state.advance(now)
            found = [state.deployment_json(d, now) for d in reversed(state._deployments)]
        return JSONResponse({"count": len(found), "deployments": found[:10]})

    async def health(request: Request) -> PlainTextResponse:
        return PlainTextResponse("OK")

    async def unknown(request: Request, exc: Exception) -> JSONResponse:
        status = getattr(exc, "status_code", 404)
        return JSONResponse({"message": "Not found." if status == 404 else "Method not allowed."}, status)

    v1 = "/api/v1"
    app = Starlette(exception_handlers={404: unknown, 405: unknown}, routes=[
        Route("/api/health", health),
        Route(f"{v1}/version", guarded("read", version)),
        Route(f"{v1}/applications/{{uuid}}", guarded("read", application)),
        Route(f"{v1}/applications/{{uuid}}/envs", guarded("read", list_envs), methods=["GET"]),
        Route(f"{v1}/applications/{{uuid}}/envs", guarded("write", create_env), methods=["POST"]),
        Route(f"{v1}/applications/{{uuid}}/envs", guarded("write", update_env), methods=["PATCH"]),
        Route(f"{v1}/applications/{{uuid}}/envs/{{env_uuid}}", guarded("write", delete_env), methods=["DELETE"]),
        Route(f"{v1}/deploy", guarded("deploy", deploy), methods=["POST"]),
        Route(f"{v1}/deploy", guarded("deploy", post_required), methods=["GET"]),
        Route(f"{v1}/deployments/applications/{{uuid}}", guarded("read", app_deployments)),
        Route(f"{v1}/deployments/{{uuid}}", guarded("read", deployment)),
    ])
    return [Service("coolify", app, state=state)]

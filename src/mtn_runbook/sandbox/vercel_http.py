"""How the Vercel stand-in speaks HTTP: its error body, the JSON it reads, and the token, team
and project checks its routes make before any work.

A missing or bad Bearer token is a 403 (`missingToken` / `invalidToken`); the team's project is
found only with `?teamId=` (or `slug=`): without either a 404, with another team's a 403; a
project neither the sandbox's id nor its name is a 404.
"""

from __future__ import annotations

import json
import secrets
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse


def error(status: int, code: str, message: str, **extra: Any) -> JSONResponse:
    return JSONResponse({"error": {"code": code, "message": message, **extra}}, status)


async def read_json(request: Request) -> Any:
    try:
        return json.loads(await request.body() or b"null")
    except ValueError:
        return ValueError


def auth_error(sb: Any, request: Request) -> JSONResponse | None:
    header = request.headers.get("authorization", "")
    if not header:
        return error(403, "forbidden", "The request is missing an authentication token", missingToken=True)
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not secrets.compare_digest(token.strip(), sb.options.vercel_token):
        return error(403, "forbidden", "Not authorized", invalidToken=True)
    return None


def scope_error(sb: Any, request: Request) -> JSONResponse | None:
    """The project lives in a team: without the team's teamId (or its slug) it is not found."""
    o, q = sb.options, request.query_params
    if "teamId" not in q and "slug" not in q:
        return error(404, "not_found", "Project not found")
    if q.get("teamId", o.vercel_team_id) != o.vercel_team_id or q.get("slug", o.vercel_team_slug) != o.vercel_team_slug:
        return error(403, "forbidden", "Not authorized: you are not a member of this team")
    return None


def project_error(sb: Any, request: Request) -> JSONResponse | None:
    found = auth_error(sb, request) or scope_error(sb, request)
    if found:
        return found
    id_or_name = request.path_params.get("project")
    if id_or_name is not None and id_or_name not in (sb.options.vercel_project_id, sb.options.vercel_project_name):
        return error(404, "not_found", "Project not found")
    return None


def in_project(sb: Any, handler: Any) -> Any:
    """Every /projects/{idOrName} route: 403 for a bad token, 404 without the team's teamId."""
    async def checked(request: Request) -> JSONResponse:
        return project_error(sb, request) or await handler(request)
    return checked

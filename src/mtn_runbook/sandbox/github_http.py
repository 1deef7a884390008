"""How the GitHub stand-in speaks HTTP: its error bodies, JSON and paging rules, the rate-limit
headers on every answer, and GitHub Enterprise's /api/v3 prefix (which the real `gh` uses)."""

from __future__ import annotations

import json
import threading
import time
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse

from .github_state import DOCS, MAX_BODY


def gh_error(status: int, message: str, **extra: Any) -> JSONResponse:
    return JSONResponse({"message": message, "documentation_url": DOCS, "status": str(status), **extra}, status)


def too_long(resource: str, body: Any) -> JSONResponse | None:
    if isinstance(body, str) and len(body) > MAX_BODY:
        return gh_error(422, "Validation Failed", errors=[{"resource": resource, "code": "custom", "field": "body",
                                                          "message": f"body is too long (maximum is {MAX_BODY} characters)"}])
    return None


class RateLimitHeaders:
    """Adds x-ratelimit-* to every response, counting down like the core limit."""

    def __init__(self, app: Any, limit: int = 5000):
        self.app, self.limit, self.used = app, limit, 0
        self.reset = int(time.time()) + 3600
        self._lock = threading.Lock()

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        with self._lock:
            if time.time() >= self.reset:
                self.used, self.reset = 0, int(time.time()) + 3600
            self.used += 1
            used, reset = self.used, self.reset

        async def send_with_headers(message: dict) -> None:
            if message["type"] == "http.response.start":
                message = dict(message, headers=[*message.get("headers", []),
                    (b"x-ratelimit-limit", str(self.limit).encode()),
                    (b"x-ratelimit-remaining", str(max(0, self.limit - used)).encode()),
                    (b"x-ratelimit-used", str(used).encode()),
                    (b"x-ratelimit-reset", str(reset).encode()),
                    (b"x-ratelimit-resource", b"core"),
                    (b"x-github-api-version-selected", b"2022-11-28")])
            await send(message)

        await self.app(scope, receive, send_with_headers)


class EnterpriseHost:
    """GitHub Enterprise's layout, which `gh` uses for any host but github.com: REST under
    /api/v3, GraphQL at /api/graphql. The plain listener serves the bare paths too (the tool's
    GITHUB_API_URL), as api.github.com does."""

    def __init__(self, app: Any):
        self.app = app

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        path = scope.get("path", "")
        if scope["type"] == "http" and path.startswith("/api/v3/"):
            scope = dict(scope, path=path[len("/api/v3"):], raw_path=path[len("/api/v3"):].encode())
        await self.app(scope, receive, send)


class BadJson(Exception):
    """A request body that is not JSON: GitHub answers 400 "Problems parsing JSON"."""


async def read_json(request: Request) -> Any:
    raw = await request.body()
    if not raw:
        return {}
    try:
        return json.loads(raw)
    except ValueError:
        raise BadJson from None


def paging(request: Request) -> tuple[int, int] | JSONResponse:
    try:
        per_page = int(request.query_params.get("per_page", "30"))
        page = int(request.query_params.get("page", "1"))
    except ValueError:
        return gh_error(422, "Invalid request: per_page and page must be integers.")
    return max(1, min(per_page, 100)), max(1, page)

"""The production app stand-in: what a deployed app that reads MTN_SESSION answers.

It follows CircleTel's lib/services/mtn-sso-auth.ts and its two API routes, not this project's code:
  - it reads MTN_SESSION from the env snapshot of the CURRENT production deployment on the Vercel
    stand-in, never from the live env var (an env change reaches the app only through a redeploy);
    with the sandbox's production="coolify", from the environment the Coolify container was
    started with (the newest finished deployment's), likewise;
  - it decodes it as Node does (node.py: Buffer.from(v, 'base64') -> UTF-8 -> JSON.parse), never
    with the project's decode(); anything that fails: no session, silently;
  - isSessionValid: it uses the session only while `expiresAt` is MORE than 5 minutes away; after
    that it behaves exactly as with no session, whatever MTN thinks of it (the gate);
  - getCookieHeader: it sends EVERY cookie of the session, `name=value` joined with "; ",
    whatever the cookie's domain or path.

    GET /api/mtn-wholesale/auth       {success, authenticated, sessionId, expiresAt, cookiesCount}
                                      without calling MTN; no usable session: {success: false,
                                      authenticated: false, cookiesCount: 0, error: NO_SESSION}
    GET /api/mtn-wholesale/products   calls the MTN API stand-in over real HTTP, no redirects
                                      followed: MTN's 200 JSON passed through; no usable session,
                                      a redirect, 401 or 403 -> 401 {"error": "Authentication failed"};
                                      a Cookie header fetch would refuse, or a broken cookies list
                                      -> 500; anything else -> 502

Admin route (sandbox only):
    GET /admin/app/calls              the /products calls so far: cookie NAMES sent, MTN's answer

State helpers for tests: session() (the session object production runs with, or None),
calls(), snapshot() (with `problem`: why there is no session, which the real app never says).
"""

from __future__ import annotations

import threading
import time
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from . import node
from .core import Service

MTN_PRODUCTS_PATH = "/api/v1/feasibility/product/wholesale/mns"
GATE_MS = 5 * 60 * 1000   # isSessionValid: valid only if expiresAt is more than 5 minutes away
NO_SESSION = "No valid MTN session. Please update MTN_SESSION environment variable in Vercel dashboard."
AUTH_FAILED = {"error": "Authentication failed",
               "message": "Failed to authenticate with MTN SSO. Please check credentials."}


def _now_ms() -> int:
    return int(time.time() * 1000)


class AppState:
    def __init__(self, sb: Any):
        self.sb = sb
        self._lock = threading.Lock()
        self._calls: list[dict] = []

    def loaded(self) -> tuple[dict | None, str | None]:
        """getAuthSession on Vercel: the session object (expiresAt as epoch ms) and, for the
        admin view only, why there is none."""
        value = self.sb.production_env().get("MTN_SESSION")
        if not value:
            return None, "MTN_SESSION is not set in the production deployment"
        data = node.parse_session(value)
        if data is None:
            return None, "MTN_SESSION could not be decoded (base64 -> UTF-8 -> JSON object)"
        expires = node.date_ms(data.get("expiresAt", node.UNDEFINED))
        if expires is None:
            return None, "expiresAt is missing or not a date"
        if expires - _now_ms() <= GATE_MS:
            return None, (f"expiresAt {node.iso_ms(expires)} is not more than 5 minutes away: "
                          "isSessionValid refuses the session (the app's gate)")
        return {**data, "expiresAt": expires}, None

    def session(self) -> dict | None:
        session, _ = self.loaded()
        return None if session is None else {**session, "expiresAt": node.iso_ms(session["expiresAt"])}

    def record(self, call: dict) -> None:
        with self._lock:
            self._calls.append(call)

    def calls(self) -> list[dict]:
        with self._lock:
            return [dict(c) for c in self._calls]

    def snapshot(self) -> dict:
        session, problem = self.loaded()
        return {"sessionLoaded": session is not None, "problem": problem,
                "expiresAt": node.iso_ms(session["expiresAt"]) if session else None, "calls": self.calls()}


def _cookies_count(cookies: Any) -> Any:
    """`session.cookies?.length || 0`."""
    if isinstance(cookies, (list, str)):
        length: Any = len(cookies)
    elif isinstance(cookies, dict):
        length = cookies.get("length", node.UNDEFINED)
    else:
        length = node.UNDEFINED
    return length if node.truthy(length) else 0


def cookie_header(cookies: Any) -> tuple[str, list[str]]:
    """getCookieHeader: every cookie, `${name}=${value}` joined with "; ". Raises TypeError where
    JavaScript would (`cookies.map is not a function`, a null cookie)."""
    if not isinstance(cookies, list):
        raise TypeError("session.cookies.map is not a function")
    pairs, names = [], []
    for cookie in cookies:
        if cookie is None:
            raise TypeError("Cannot read properties of null (reading 'name')")
        get = cookie.get if isinstance(cookie, dict) else (lambda key, default: default)
        name = node.js_string(get("name", node.UNDEFINED))
        pairs.append(f"{name}={node.js_string(get('value', node.UNDEFINED))}")
        names.append(name)
    return "; ".join(pairs), names


def build(sb: Any) -> list[Service]:
    state = AppState(sb)

    async def auth(request: Request) -> JSONResponse:
        session, _ = state.loaded()
        if session is None:
            return JSONResponse({"success": False, "authenticated": False, "cookiesCount": 0, "error": NO_SESSION})
        body = {"success": True, "authenticated": True, "sessionId": session.get("sessionId", node.UNDEFINED),
                "expiresAt": node.iso_ms(session["expiresAt"]),
                "cookiesCount": _cookies_count(session.get("cookies", node.UNDEFINED))}
        return JSONResponse({k: v for k, v in body.items() if v is not node.UNDEFINED})  # as JSON.stringify

    def products(request: Request) -> JSONResponse:   # sync: Starlette runs it in a worker thread
        import httpx

        session, _ = state.loaded()
        cookies = node.UNDEFINED if session is None else session.get("cookies", node.UNDEFINED)
        if session is None or not node.truthy(cookies):
            state.record({"mtnStatus": None, "answered": 401, "cookieNames": []})
            return JSONResponse({**AUTH_FAILED, **({"details": NO_SESSION} if session is None else {})}, 401)
        try:
            header, names = cookie_header(cookies)
            raw = header.encode("latin-1")          # fetch refuses a header value that is not a ByteString
            if any(c in raw for c in b"\r\n\0"):
                raise TypeError("Headers.append: invalid header value")
        except (TypeError, UnicodeEncodeError) as e:
            state.record({"mtnStatus": None, "answered": 500, "cookieNames": []})
            return JSONResponse({"error": "Failed to fetch products from MTN API", "details": str(e)}, 500)
        url = sb.urls["mtn_api"] + MTN_PRODUCTS_PATH
        headers = {"Accept": "application/json", "Cookie": raw}
        if sb.options.mtn_api_key:
            headers["X-API-Key"] = sb.options.mtn_api_key
        call = {"cookieNames": names}
        try:
            with httpx.Client(follow_redirects=False, timeout=10.0) as client:
                reply = client.get(url, headers=headers)
        except httpx.HTTPError as e:
            state.record({**call, "mtnStatus": None, "answered": 502})
            return JSONResponse({"error": "MTN API unreachable", "details": type(e).__name__}, 502)
        if reply.is_redirect or reply.status_code in (401, 403):
            state.record({**call, "mtnStatus": reply.status_code, "answered": 401})
            return JSONResponse({"error": "Authentication failed",
                                 "details": "MTN session expired or invalid; refresh MTN_SESSION",
                                 "mtnStatus": reply.status_code}, 401)
        try:
            data = reply.json() if reply.status_code == 200 else None
        except ValueError:
            data = None
        if data is None:
            state.record({**call, "mtnStatus": reply.status_code, "answered": 502})
            return JSONResponse({"error": "MTN API error", "mtnStatus": reply.status_code}, 502)
        state.record({**call, "mtnStatus": 200, "answered": 200})
        return JSONResponse(data)

    async def admin_calls(request: Request) -> JSONResponse:
        return JSONResponse(state.calls())

    async def unknown(request: Request, exc: Exception) -> JSONResponse:
        return JSONResponse({"error": "Not found"}, getattr(exc, "status_code", 404))

    app = Starlette(exception_handlers={404: unknown, 405: unknown}, routes=[
        Route("/api/mtn-wholesale/auth", auth),
        Route("/api/mtn-wholesale/products", products),
    ])
    return [Service("app", app, admin_routes=[Route("/admin/app/calls", admin_calls)], state=state)]

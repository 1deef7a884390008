"""The production app stand-in: what a deployed app that reads MTN_SESSION answers.

It reads MTN_SESSION from the env snapshot of the CURRENT production deployment on the Vercel
stand-in, never from the live env var: as on Vercel, an env change reaches the app only through a
new deployment. It decodes it like the real app (base64 -> UTF-8 -> JSON; anything wrong: no
session, silently).

    GET /api/mtn-wholesale/auth       {success, authenticated, sessionId, expiresAt, cookiesCount, error}
                                      without calling MTN ("authenticated" = a session was loaded)
    GET /api/mtn-wholesale/products   calls the MTN API stand-in over real HTTP with only the cookies
                                      that match the API host, no redirects followed: MTN's 200 JSON
                                      passed through; a redirect, 401 or 403 -> 401
                                      {"error": "Authentication failed", ...}; anything else -> 502

Admin route (sandbox only):
    GET /admin/app/calls              the /products calls made so far and what MTN answered

State helpers for tests: session() (the decoded session dict production runs with, or None),
calls().
"""

from __future__ import annotations

import threading
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from ..core.errors import SessionFormatError
from ..core.session import Session, decode, iso
from .core import Service

MTN_PRODUCTS_PATH = "/api/v1/feasibility/product/wholesale/mns"


class AppState:
    def __init__(self, sb: Any):
        self.sb = sb
        self._lock = threading.Lock()
        self._calls: list[dict] = []

    def loaded(self) -> tuple[Session | None, str | None]:
        """The session production runs with, and why there is none."""
        value = self.sb.vercel.production_env().get("MTN_SESSION")
        if value is None:
            return None, "MTN_SESSION is not set in the production deployment"
        try:
            session, _ = decode(value)
        except SessionFormatError:
            return None, "MTN_SESSION could not be decoded"
        return session, None

    def session(self) -> dict | None:
        session, _ = self.loaded()
        return None if session is None else session.to_dict()

    def record(self, call: dict) -> None:
        with self._lock:
            self._calls.append(call)

    def calls(self) -> list[dict]:
        with self._lock:
            return [dict(c) for c in self._calls]

    def snapshot(self) -> dict:
        session, problem = self.loaded()
        return {"sessionLoaded": session is not None, "problem": problem,
                "sessionFingerprint": session.fingerprint if session else None, "calls": self.calls()}


def build(sb: Any) -> list[Service]:
    state = AppState(sb)

    async def auth(request: Request) -> JSONResponse:
        session, problem = state.loaded()
        if session is None:
            return JSONResponse({"success": True, "authenticated": False, "sessionId": None, "expiresAt": None,
                                 "cookiesCount": 0, "error": problem})
        return JSONResponse({"success": True, "authenticated": True, "sessionId": session.session_id,
                             "expiresAt": iso(session.expires_at), "cookiesCount": len(session.cookies),
                             "error": None})

    def products(request: Request) -> JSONResponse:   # sync: Starlette runs it in a worker thread
        import httpx

        session, problem = state.loaded()
        if session is None:
            state.record({"mtnStatus": None, "answered": 401})
            return JSONResponse({"error": "Authentication failed", "details": problem}, 401)
        url = sb.urls["mtn_api"] + MTN_PRODUCTS_PATH
        cookies = session.cookies_for(url)
        headers = {"Accept": "application/json", "Cookie": "; ".join(f"{k}={v}" for k, v in cookies.items())}
        if sb.options.mtn_api_key:
            headers["X-API-Key"] = sb.options.mtn_api_key
        try:
            with httpx.Client(follow_redirects=False, timeout=10.0) as client:
                reply = client.get(url, headers=headers)
        except httpx.HTTPError as e:
            state.record({"mtnStatus": None, "answered": 502})
            return JSONResponse({"error": "MTN API unreachable", "details": type(e).__name__}, 502)
        if reply.is_redirect or reply.status_code in (401, 403):
            state.record({"mtnStatus": reply.status_code, "answered": 401})
            return JSONResponse({"error": "Authentication failed",
                                 "details": "MTN session expired or invalid; refresh MTN_SESSION",
                                 "mtnStatus": reply.status_code}, 401)
        try:
            data = reply.json() if reply.status_code == 200 else None
        except ValueError:
            data = None
        if data is None:
            state.record({"mtnStatus": reply.status_code, "answered": 502})
            return JSONResponse({"error": "MTN API error", "mtnStatus": reply.status_code}, 502)
        state.record({"mtnStatus": 200, "answered": 200})
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

"""Stand-ins for MTN's SSO (a CAS server with a reCAPTCHA) and the MTN wholesale API.

SSO ("mtn_sso", http://127.0.0.1:P): the login page, its captcha stand-in and the login itself,
mtn_sso.py. State shared by both (flows, tokens, tickets, logins, API sessions): mtn_state.py.
API ("mtn_api", http://localhost:P, another host name so the cookies stay apart):
    GET  /login/cas?ticket=ST-   redeems the one-time ticket (issued to this service, at most 10 s
                                 old): the API host's own JSESSIONID, 302 to /
    GET  /                       a landing page (its URL has no "login" in it)
    GET  /api/v1/feasibility/product/wholesale/mns
                                 200 MTN's JSON with a live API JSESSIONID (any of those sent) and
                                 X-API-Key (options.mtn_api_key, set by default; 401 without it);
                                 a dead or missing session: 302 to the SSO. The names of the
                                 cookies sent are recorded (history "cookies"), never the values
Admin: POST /admin/mtn/expire {"sessionId"?}, POST /admin/mtn/mint.
"""

from __future__ import annotations

from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from .core import Service
from .mtn_sso import sso_app
from .mtn_state import MtnState

PRODUCTS_PATH = "/api/v1/feasibility/product/wholesale/mns"
PRODUCTS = (
    "Wholesale Cloud Connect",
    "Wholesale Access Connect",
    "Wholesale Cloud Connect Lite",
    "Wholesale Ethernet Connect",
    "Fixed Wireless Broadband",
    "Wholesale FTTH FNO",
    "Wholesale FTTH (MNS)",
)


def build(sb: Any) -> list[Service]:
    state = MtnState(sb)
    api_base = sb.urls["mtn_api"]
    allowed_service = f"{api_base}/login/cas"

    def to_sso() -> RedirectResponse:
        return RedirectResponse(sb.login_url, 302)

    async def cas(request: Request) -> Response:
        api_sid = state.redeem(request.query_params.get("ticket", ""), allowed_service)
        if api_sid is None:
            return HTMLResponse('<div class="error">Ticket validation failed: the ticket is unknown, '
                                'used or expired.</div>', 401)
        response = RedirectResponse("/", 302)
        response.set_cookie("JSESSIONID", api_sid, path="/", httponly=True, samesite="lax")
        return response

    def live_session(request: Request) -> bool:
        """Tomcat tries every JSESSIONID in the Cookie header (the real app sends the SSO host's
        too); the names sent are recorded, never the values."""
        pairs = [p.strip().partition("=") for p in request.headers.get("cookie", "").split(";") if p.strip()]
        sb.history.add("mtn_api", "cookies", path=request.url.path, names=[name for name, _, _ in pairs])
        return any(state.is_live(value) for name, _, value in pairs if name == "JSESSIONID")

    async def home(request: Request) -> Response:
        if not live_session(request):
            return to_sso()
        return HTMLResponse("<!doctype html><title>MTN Feasibility (sandbox)</title><h1>Feasibility portal</h1>")

    async def products(request: Request) -> Response:
        if not live_session(request):
            return to_sso()
        key = sb.options.mtn_api_key
        if key and request.headers.get("x-api-key") != key:
            return JSONResponse({"error_code": "401", "error_message": "Invalid or missing API key."}, 401)
        return JSONResponse({"error_code": "200", "error_message": "operation successful.",
                             "outputs": list(PRODUCTS)})

    async def admin_expire(request: Request) -> JSONResponse:
        body = await request.json() if await request.body() else {}
        return JSONResponse({"expired": state.expire(body.get("sessionId"))})

    async def admin_mint(request: Request) -> JSONResponse:
        return JSONResponse(state.mint_session(), 201)

    api_app = Starlette(routes=[
        Route("/login/cas", cas, methods=["GET"]),
        Route("/", home, methods=["GET"]),
        Route(PRODUCTS_PATH, products, methods=["GET"]),
    ])
    admin_routes = [
        Route("/admin/mtn/expire", admin_expire, methods=["POST"]),
        Route("/admin/mtn/mint", admin_mint, methods=["POST"]),
    ]
    return [
        Service("mtn_sso", sso_app(sb, state, allowed_service), state=state),
        Service("mtn_api", api_app, host="localhost", state=state, admin_routes=admin_routes),
    ]

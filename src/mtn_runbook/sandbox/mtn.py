"""Stand-ins for MTN's SSO (a CAS server with a reCAPTCHA) and the MTN wholesale API.

SSO ("mtn_sso", http://127.0.0.1:P):
    GET  /login?service=URL      the login page: #dummyUser, #password, div.g-recaptcha,
                                 textarea#g-recaptcha-response, #submit-button (disabled until solved)
    GET  /recaptcha/solve?c=ID   the captcha stand-in: a one-time token once options.captcha_delay
                                 seconds have passed since the page was served (never when None)
    POST /login?service=URL      checks the one-time flow id and the captcha token (solved on that
                                 page, at most 2 minutes old), then the credentials
                                 (against sb.options, at request time); success sets JSESSIONID,
                                 CASTGC and _GRECAPTCHA (httpOnly) and 302s to service?ticket=ST-...
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

options.lure_url (a fault; None by default) turns the login page hostile: hostile_page.py.
"""

from __future__ import annotations

import html
import secrets
import threading
import time
from typing import Any
from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from . import hostile_page
from .core import Service
from .lifetimes import Lifetimes

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
SITE_KEY = "6LcSandboxSiteKeyNotARealOne000000000000"
INVALID_CREDENTIALS = "Invalid credentials."
CAPTCHA_MISSING = "Please verify that you are not a robot."
FLOW_EXPIRED = "Your login flow has expired. Please try again."
SERVICE_NOT_ALLOWED = "Application Not Authorized to Use CAS"
CAPTCHA_TOKEN_SECONDS = 120.0   # a reCAPTCHA response token is good for two minutes
TICKET_SECONDS = 10.0           # CAS's default service ticket lifetime


def _hex(n: int = 16) -> str:
    return secrets.token_hex(n).upper()


class MtnState:
    """Logins, tickets, captcha tokens and API sessions; shared by the SSO and API stand-ins."""

    def __init__(self, sb: Any):
        self.sb = sb
        self._lock = threading.Lock()
        self.challenges: dict[str, dict] = {}    # page flow id -> {served, token, used}
        self.captcha_tokens: dict[str, dict] = {}  # token -> {flow, issued, used}: one flow, 2 minutes
        self.tickets: dict[str, dict] = {}       # ST-... -> {login, service, issued, used}
        self.sso_sessions: dict[str, dict] = {}  # SSO JSESSIONID -> {castgc, grecaptcha, live, created}
        self.api_sessions: dict[str, str] = {}   # API JSESSIONID -> SSO JSESSIONID of its login
        self.logins = 0
        self._issued: set[str] = set()
        self.lifetimes = Lifetimes(sb.options)   # kills sessions after a drawn lifetime or idle spell

    # -- the SSO side ---------------------------------------------------------------------
    def new_challenge(self) -> str:
        flow = secrets.token_urlsafe(12)
        with self._lock:
            self.challenges[flow] = {"served": time.monotonic(), "token": None}
        return flow

    def solve(self, flow: str) -> tuple[int, str | None]:
        """The stand-in captcha: (200, token) once the delay has passed; never a second token."""
        delay = self.sb.options.captcha_delay
        with self._lock:
            challenge = self.challenges.get(flow)
            if challenge is None:
                return 404, None
            if delay is None or time.monotonic() - challenge["served"] < float(delay):
                return 425, None
            if challenge["token"] is not None:
                return 409, None
            token = "03AFcWeA" + secrets.token_urlsafe(48)
            challenge["token"] = token
            self.captcha_tokens[token] = {"flow": flow, "issued": time.monotonic(), "used": False}
            self._issued.add(token)
        return 200, token

    def use_flow(self, flow: str) -> bool:
        with self._lock:
            return self.challenges.pop(flow, None) is not None

    def use_captcha_token(self, token: str, flow: str) -> bool:
        """A reCAPTCHA token verifies once, whatever the outcome of the login, only for the page
        (flow) it was solved on, and only within CAPTCHA_TOKEN_SECONDS (Google's two minutes)."""
        with self._lock:
            entry = self.captcha_tokens.get(token)
            if entry is None or entry["used"]:
                return False
            entry["used"] = True
            return entry["flow"] == flow and time.monotonic() - entry["issued"] <= CAPTCHA_TOKEN_SECONDS

    def new_login(self) -> dict:
        sid = _hex()
        login = {"sessionId": sid, "castgc": f"TGT-{self.logins + 1}-{secrets.token_urlsafe(32)}-cas",
                 "grecaptcha": secrets.token_urlsafe(40), "live": True, "created": time.time()}
        with self._lock:
            self.logins += 1
            self.sso_sessions[sid] = login
            self._issued.update({sid, login["castgc"], login["grecaptcha"]})
        self.lifetimes.born(sid)
        self.sb.history.add("mtn_sso", "login", sessionId=sid)
        return login

    def new_ticket(self, sid: str, service: str) -> str:
        ticket = f"ST-{self.logins}-{secrets.token_urlsafe(20)}-cas"
        with self._lock:
            self.tickets[ticket] = {"login": sid, "service": service, "issued": time.monotonic(), "used": False}
            self._issued.add(ticket)
        return ticket

    # -- the API side ---------------------------------------------------------------------
    def redeem(self, ticket: str, service: str) -> str | None:
        """A service ticket is good once, for the service it was issued to, within
        TICKET_SECONDS (CAS's default), and only while its login is live: the API JSESSIONID."""
        with self._lock:
            entry = self.tickets.get(ticket)
            if entry is None or entry["used"] or not self.sso_sessions[entry["login"]]["live"]:
                return None
            entry["used"] = True
            if entry["service"] != service or time.monotonic() - entry["issued"] > TICKET_SECONDS:
                return None
            api_sid = _hex()
            self.api_sessions[api_sid] = entry["login"]
            self._issued.add(api_sid)
        self.sb.history.add("mtn_api", "session", sessionId=entry["login"])
        return api_sid

    def is_live(self, api_jsessionid: str | None) -> bool:
        with self._lock:
            login = self.api_sessions.get(api_jsessionid or "")
            if login is None or not self.sso_sessions[login]["live"]:
                return False
        why = self.lifetimes.ended(login)
        if why:
            with self._lock:
                self.sso_sessions[login]["live"] = False
            self.sb.history.add("mtn_sso", "expire", sessionId=login, reason=why)
            return False
        self.lifetimes.used(login)
        return True

    def expire(self, session_id: str | None = None) -> int:
        """End one login (by its SSO sessionId) or all of them, as MTN's server does at will."""
        with self._lock:
            chosen = [s for s in self.sso_sessions.values() if session_id in (None, s["sessionId"]) and s["live"]]
            for login in chosen:
                login["live"] = False
        for login in chosen:
            self.sb.history.add("mtn_sso", "expire", sessionId=login["sessionId"])
        return len(chosen)

    def mint_session(self) -> dict:
        """A live session without a browser, in the session file format (cookies for both hosts)."""
        from ..core.session import Session

        login = self.new_login()
        service = f"{self.sb.urls['mtn_api']}/login/cas"
        api_sid = self.redeem(self.new_ticket(login["sessionId"], service), service)
        sso, api = (urlsplit(self.sb.urls[name]).hostname for name in ("mtn_sso", "mtn_api"))
        cookies = [
            _cookie("JSESSIONID", login["sessionId"], sso),
            _cookie("CASTGC", login["castgc"], sso),
            _cookie("_GRECAPTCHA", login["grecaptcha"], sso),
            _cookie("JSESSIONID", api_sid, api),
        ]
        session = Session.from_cookies(cookies, login["sessionId"])
        with self._lock:
            self._issued.add(session.encode())
        return session.to_dict()

    def secret_values(self) -> set[str]:
        """Every cookie value, ticket and token this stand-in ever issued (for leak checks)."""
        with self._lock:
            return set(self._issued)

    def snapshot(self) -> dict:
        with self._lock:
            return {
                "logins": self.logins,
                "sessions": [{"sessionId": s["sessionId"], "live": s["live"], "created": s["created"]}
                             for s in self.sso_sessions.values()],
                "apiSessions": len(self.api_sessions),
            }


def _cookie(name: str, value: str, domain: str) -> dict:
    return {"name": name, "value": value, "domain": domain, "path": "/", "expires": -1,
            "httpOnly": True, "secure": False, "sameSite": "Lax"}


def _with_query(url: str, **params: str) -> str:
    parts = urlsplit(url)
    query = parse_qsl(parts.query) + list(params.items())
    return urlunsplit(parts._replace(query=urlencode(query)))


def _login_page(flow: str, service: str, delay: float | None, error: str = "", username: str = "",
                click: bool = False, lure_url: str | None = None) -> str:
    action = "/login?" + urlencode({"service": service})
    error_html = f'<div class="alert alert-danger" role="alert">{html.escape(error)}</div>' if error else ""
    # click mode: only a trusted click (a person's, or input dispatched through CDP) starts it
    start = ("document.querySelector('.g-recaptcha').addEventListener('click', function f(e) {"
             " if (e.isTrusted) { this.removeEventListener('click', f); poll(); } });") if click else "poll();"
    solve = "" if delay is None else f"""
<script>
  // the sandbox's captcha stand-in: asks the server for a one-time token once the delay has passed
  function poll() {{
    fetch("/recaptcha/solve?c={quote(flow)}").then(function (r) {{
      if (r.status === 200) {{
        r.json().then(function (d) {{
          document.getElementById("g-recaptcha-response").value = d.token;
          document.getElementById("submit-button").disabled = false;
          document.getElementById("captcha-state").textContent = "solved";
        }});
      }} else if (r.status === 425) {{ setTimeout(poll, 100); }}
    }});
  }}
  {start}
</script>"""
    return f"""<!doctype html>
<html><head><meta charset="utf-8"><title>MTN Business | Login (sandbox)</title></head>
<body>
<h1>MTN Business Single Sign-On</h1>
<p><em>Sandbox stand-in: not the real MTN.</em></p>
{error_html}
<form id="fm1" method="post" action="{html.escape(action)}">
  <label for="dummyUser">Username</label>
  <input id="dummyUser" name="username" type="text" autocomplete="off" value="{html.escape(username)}">
  <label for="password">Password</label>
  <input id="password" name="password" type="password" autocomplete="off">
  <div class="g-recaptcha" data-sitekey="{SITE_KEY}" style="display:inline-block;border:1px solid #999;padding:16px 24px;margin:12px 0"><span id="captcha-state">I'm not a robot</span></div>
  <textarea id="g-recaptcha-response" name="g-recaptcha-response" style="display:none"></textarea>
  <input type="hidden" name="execution" value="{html.escape(flow)}">
  <input type="hidden" name="_eventId" value="submit">
  <button id="submit-button" type="submit" disabled>Login</button>
</form>
{hostile_page.extras(lure_url)}
{solve}
</body></html>"""


def build(sb: Any) -> list[Service]:
    state = MtnState(sb)
    api_base = sb.urls["mtn_api"]
    allowed_service = f"{api_base}/login/cas"

    def page(request: Request, service: str, error: str = "", username: str = "", status: int = 200) -> HTMLResponse:
        flow = state.new_challenge()
        body = _login_page(flow, service, sb.options.captcha_delay, error, username,
                           click=sb.options.captcha == "click", lure_url=sb.options.lure_url)
        return HTMLResponse(body, status, headers={"cache-control": "no-store"})

    def service_ok(service: str) -> bool:
        return service == allowed_service

    async def login_get(request: Request) -> Response:
        service = request.query_params.get("service", "")
        if not service_ok(service):
            return HTMLResponse(f'<div class="error">{SERVICE_NOT_ALLOWED}</div>', 403)
        return page(request, service)

    async def login_post(request: Request) -> Response:
        service = request.query_params.get("service", "")
        if not service_ok(service):
            return HTMLResponse(f'<div class="error">{SERVICE_NOT_ALLOWED}</div>', 403)
        form = await request.form()
        username = str(form.get("username", ""))
        if not state.use_flow(str(form.get("execution", ""))):
            return page(request, service, FLOW_EXPIRED, username)
        if not state.use_captcha_token(str(form.get("g-recaptcha-response", "")), str(form.get("execution", ""))):
            return page(request, service, CAPTCHA_MISSING, username)
        o = sb.options
        if username != o.username or str(form.get("password", "")) != o.password:
            sb.history.add("mtn_sso", "login.failed")
            return page(request, service, INVALID_CREDENTIALS, username, status=401)
        login = state.new_login()
        ticket = state.new_ticket(login["sessionId"], service)
        response = RedirectResponse(_with_query(service, ticket=ticket), 302)
        for name, value in (("JSESSIONID", login["sessionId"]), ("CASTGC", login["castgc"]),
                            ("_GRECAPTCHA", login["grecaptcha"])):
            response.set_cookie(name, value, path="/", httponly=True, samesite="lax")
        return response

    async def solve(request: Request) -> Response:
        status, token = state.solve(request.query_params.get("c", ""))
        return JSONResponse({"token": token} if token else {"success": False}, status)

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

    sso_app = Starlette(routes=[
        Route("/login", login_get, methods=["GET"]),
        Route("/login", login_post, methods=["POST"]),
        Route("/recaptcha/solve", solve, methods=["GET"]),
        *hostile_page.routes(sb),
    ])
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
        Service("mtn_sso", sso_app, state=state),
        Service("mtn_api", api_app, host="localhost", state=state, admin_routes=admin_routes),
    ]

"""The MTN SSO stand-in ("mtn_sso", http://127.0.0.1:P): a CAS server's login page with a reCAPTCHA.

    GET  /login?service=URL      the login page: #dummyUser, #password, div.g-recaptcha,
                                 textarea#g-recaptcha-response, #submit-button (disabled until solved)
    GET  /recaptcha/solve?c=ID   the captcha stand-in: a one-time token once options.captcha_delay
                                 seconds have passed since the page was served (never when None)
    POST /login?service=URL      checks the one-time flow id and the captcha token (solved on that
                                 page, at most 2 minutes old), then the credentials
                                 (against sb.options, at request time); success sets JSESSIONID,
                                 CASTGC and _GRECAPTCHA (httpOnly) and 302s to service?ticket=ST-...

Any other `service` than the API stand-in's /login/cas is a 403. options.captcha "click": the
captcha starts only on a trusted click on its box. options.lure_url (a fault; None by default)
turns the login page hostile: hostile_page.py. State (flows, tokens, logins): mtn_state.py.
"""

from __future__ import annotations

import html
from typing import Any
from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from . import hostile_page
from .mtn_state import MtnState

SITE_KEY = "6LcSandboxSiteKeyNotARealOne000000000000"
INVALID_CREDENTIALS = "Invalid credentials."
CAPTCHA_MISSING = "Please verify that you are not a robot."
FLOW_EXPIRED = "Your login flow has expired. Please try again."
SERVICE_NOT_ALLOWED = "Application Not Authorized to Use CAS"


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


def sso_app(sb: Any, state: MtnState, allowed_service: str) -> Starlette:
    """The SSO's routes: the login page, its captcha stand-in and the login itself."""

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

    return Starlette(routes=[
        Route("/login", login_get, methods=["GET"]),
        Route("/login", login_post, methods=["POST"]),
        Route("/recaptcha/solve", solve, methods=["GET"]),
        *hostile_page.routes(sb),
    ])

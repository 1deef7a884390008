"""A fault for the MTN SSO stand-in: the login page turned hostile (options.lure_url).

What a real login page may carry and the login link (`--link`) must survive, added to the normal
stand-in page only while options.lure_url is set:

    #show-password   a "show password" button: type=password <-> text; 300 ms later the page
                     reports what the field looks like: GET /lure/shown?type=&masked=&readonly=
                     (history "mtn_sso" "lure.shown"; masked is its -webkit-text-security)
    #lure-away       a same-origin link to GET /lure/away, which 302s to lure_url
    #lure-popup      a target=_blank link straight to lure_url

Point lure_url at another loopback host (127.0.0.2) that records its requests: the link's
browser must never send it one.
"""

from __future__ import annotations

import html
from typing import Any

from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

SHOW_JS = """
<script>
  // the hostile page's "show password" button (sandbox fault options.lure_url)
  document.getElementById("show-password").addEventListener("click", function () {
    const field = document.getElementById("password");
    field.type = field.type === "password" ? "text" : "password";
    setTimeout(function () {
      const masked = getComputedStyle(field).webkitTextSecurity;
      fetch("/lure/shown?" + new URLSearchParams({type: field.type, masked: masked, readonly: String(field.readOnly)}));
    }, 300);
  });
</script>"""


def extras(lure_url: str | None) -> str:
    """The HTML added after the login form ("" for the normal page)."""
    if not lure_url:
        return ""
    return ('<p><button id="show-password" type="button" style="padding:10px 16px">Show password</button></p>'
            '<p><a id="lure-away" href="/lure/away" style="display:inline-block;padding:10px">Forgot password?</a> '
            f'<a id="lure-popup" href="{html.escape(lure_url)}" target="_blank" '
            'style="display:inline-block;padding:10px">Help (new window)</a></p>' + SHOW_JS)


def routes(sb: Any) -> list[Route]:
    async def away(request: Request) -> Response:
        if not sb.options.lure_url:
            return HTMLResponse("Not Found", 404)
        return RedirectResponse(sb.options.lure_url, 302)

    async def shown(request: Request) -> Response:
        if not sb.options.lure_url:
            return HTMLResponse("Not Found", 404)
        q = request.query_params
        sb.history.add("mtn_sso", "lure.shown", type=q.get("type", ""), masked=q.get("masked", ""),
                       readonly=q.get("readonly", ""))
        return Response(status_code=204)

    return [Route("/lure/away", away, methods=["GET"]), Route("/lure/shown", shown, methods=["GET"])]

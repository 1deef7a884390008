"""The one-time login page: the viewer (viewer/*) and its WebSocket, served by uvicorn in a thread.

    GET /l/TOKEN      the viewer page, for one viewer: the first browser to open it gets a
                      cookie; another browser, a wrong token, or any request after the login's
                      deadline gets 403
    WS  /l/TOKEN/ws   binary messages: JPEG frames of the headless page; text messages: JSON
                      status ({"type": "status"|"notice"|"end", "text", "left"}); the viewer
                      sends its input as JSON ({"type": "mouse"|"wheel"|"key"|"text", ...})
    GET /viewer.js, /viewer.css   the viewer's code (no secret in it)

A request whose Host header is not one of the names the link was made for (`host_names`, see
link.py) gets the 403 page, and a WebSocket from it is refused before it opens: a DNS-rebinding
page's requests carry its own name. The WebSocket also needs the Origin of that Host.
Every response carries a strict Content-Security-Policy, `Referrer-Policy: no-referrer` and
`Cache-Control: no-store`. No access log: the token is in the path.
"""

from __future__ import annotations

import asyncio
import base64
import errno
import hashlib
import json
import re
import secrets
import socket
import threading
import time
from pathlib import Path
from typing import Any, Callable

from ..core.errors import ConfigError

VIEWER = Path(__file__).with_name("viewer")
MAX_MESSAGE = 1024
HOST_SAFE = re.compile(r"^[A-Za-z0-9.\-\[\]:]{1,100}$")
HOW_TO_PORT = "set MTN_LINK_PORT to a free port (0, the default: one chosen at random), or stop what listens there"
HOW_TO_BIND = "set MTN_LINK_BIND to 127.0.0.1 (the default; reach it with ssh -L) or to an address of this machine"
FORBIDDEN_STYLE = ("body{margin:0;padding:24px 18px;font:17px/1.5 system-ui,sans-serif;color:#222;background:#f4f4f4}"
                   "h1{font-size:20px;margin:0 0 12px;padding:10px 12px;background:#ffcb05}p{margin:0 0 12px}")
FORBIDDEN_HTML = ("<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">"
                  "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
                  f"<title>Login link not valid</title><style>{FORBIDDEN_STYLE}</style></head><body>"
                  "<h1>This login link does not work</h1>"
                  "<p>It is wrong, was opened in another browser, or has expired (a link works once, in one "
                  "browser, until the login ends).</p>"
                  "<p>Ask whoever runs the tool at the terminal for a new link.</p></body></html>")
FORBIDDEN_STYLE_HASH = "'sha256-" + base64.b64encode(hashlib.sha256(FORBIDDEN_STYLE.encode()).digest()).decode() + "'"


def security_headers(host: str) -> list[tuple[bytes, bytes]]:
    ws = f" ws://{host} wss://{host}" if HOST_SAFE.match(host) else ""
    csp = (f"default-src 'none'; script-src 'self'; style-src 'self' {FORBIDDEN_STYLE_HASH}; img-src blob:; "
           f"connect-src 'self'{ws}; base-uri 'none'; form-action 'none'; frame-ancestors 'none'")
    return [(b"content-security-policy", csp.encode()), (b"referrer-policy", b"no-referrer"),
            (b"cache-control", b"no-store"), (b"x-content-type-options", b"nosniff"),
            (b"x-frame-options", b"DENY")]


def bind(host: str, port: int) -> socket.socket:
    """The listening socket, bound now so a busy port is a clear error before anything opens.
    An address that is not this machine's blames MTN_LINK_BIND; a busy or privileged port, the port."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as e:
        raise ConfigError(f"the login link cannot listen on MTN_LINK_BIND {host}: {e.strerror or e}", HOW_TO_BIND) from None
    sock = socket.socket(infos[0][0], socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(infos[0][4])
    except OSError as e:
        sock.close()
        if e.errno in (errno.EADDRNOTAVAIL, errno.EAFNOSUPPORT):
            raise ConfigError(f"the login link cannot listen on MTN_LINK_BIND {host}: it is not an address of "
                              f"this machine ({e.strerror or e})", HOW_TO_BIND) from None
        raise ConfigError(f"the login link cannot listen on {host}:{port} ({e.strerror or e})", HOW_TO_PORT) from None
    return sock


class LinkPage:
    def __init__(self, sock: socket.socket, *, deadline: float, on_input: Callable[[dict], None],
                 waiting_for: str, host_names: set[str] | None = None, any_ip: bool = False):
        self.sock = sock
        host = sock.getsockname()[0]
        self.host_names = {n.lower() for n in (host_names or {host, "localhost"})}
        self.any_ip = any_ip               # bound to every address: any IP literal is a Host it was made for
        self.token = secrets.token_urlsafe(32)
        self.deadline = deadline            # time.monotonic() after which every request gets 403
        self._on_input = on_input
        self._status = waiting_for
        self._viewer: str | None = None     # the cookie of the one browser that may view
        self._socket: Any = None
        self._frame: bytes | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._frame_ready: asyncio.Event | None = None
        self._server: Any = None
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return self.sock.getsockname()[1]

    def url(self, host: str) -> str:
        return f"http://{host}:{self.port}/l/{self.token}"

    # -- from other threads -----------------------------------------------------------------
    def start(self) -> None:
        import uvicorn

        config = uvicorn.Config(self._app(), log_level="critical", access_log=False, lifespan="off",
                                ws="wsproto", timeout_graceful_shutdown=2)
        self._server = uvicorn.Server(config)
        self._loop = asyncio.new_event_loop()
        self._frame_ready = asyncio.Event()
        self._thread = threading.Thread(target=self._run, name="login-link", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise ConfigError("the login link's server did not start", HOW_TO_PORT)
            time.sleep(0.01)

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._loop.run_until_complete(self._server.serve(sockets=[self.sock]))

    def stop(self, last_words: str | None = None) -> None:
        """Tell the viewer how it ended, then stop listening (the port is free on return)."""
        if self._loop is not None and self._thread is not None and self._thread.is_alive():
            done = asyncio.run_coroutine_threadsafe(self._goodbye(last_words), self._loop)
            try:
                done.result(timeout=3)
            except Exception:
                pass
            self._server.should_exit = True
            self._thread.join(timeout=10)
        self.sock.close()

    def frame(self, data: bytes) -> None:
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._set_frame, data)

    def notice(self, text: str) -> None:
        if self._loop is not None:
            self._loop.call_soon_threadsafe(lambda: asyncio.ensure_future(self._say("notice", text)))

    # -- on the server's loop ---------------------------------------------------------------
    def _set_frame(self, data: bytes) -> None:
        self._frame = data
        self._frame_ready.set()

    def _left(self) -> float:
        return max(0.0, self.deadline - time.monotonic())

    async def _say(self, kind: str, text: str) -> None:
        if self._socket is not None:
            try:
                await self._socket.send_text(json.dumps({"type": kind, "text": text, "left": round(self._left())}))
            except Exception:
                pass

    async def _goodbye(self, last_words: str | None, *, spend: bool = True) -> None:
        if spend:
            self.deadline = 0.0  # whatever happens next, the token is spent
        ws, self._socket = self._socket, None
        if ws is not None:
            try:
                if last_words:
                    await ws.send_text(json.dumps({"type": "end", "text": last_words, "left": 0}))
                await ws.close(1000)
            except Exception:
                pass

    def host_ok(self, host_header: str) -> bool:
        """Is this Host header (name or address, with or without the port) one the link was made for?"""
        from urllib.parse import urlsplit

        try:
            name = (urlsplit(f"//{host_header}").hostname or "").lower()
        except ValueError:
            return False
        if not name:
            return False
        if name in self.host_names:
            return True
        if self.any_ip:
            import ipaddress

            try:
                ipaddress.ip_address(name)
            except ValueError:
                return False
            return True
        return False

    def _allowed(self, token: str, viewer: str | None) -> bool:
        if time.monotonic() > self.deadline or not secrets.compare_digest(token, self.token):
            return False
        return self._viewer is None or (viewer is not None and secrets.compare_digest(viewer, self._viewer))

    def _app(self) -> Any:
        from starlette.applications import Starlette
        from starlette.responses import FileResponse, HTMLResponse
        from starlette.routing import Route, WebSocketRoute

        forbidden = HTMLResponse(FORBIDDEN_HTML, 403)

        async def page(request: Any) -> Any:
            token, viewer = request.path_params["token"], request.cookies.get("viewer")
            if not self._allowed(token, viewer):
                return forbidden
            response = HTMLResponse((VIEWER / "index.html").read_text())
            if self._viewer is None:
                self._viewer = secrets.token_urlsafe(24)
            response.set_cookie("viewer", self._viewer, path=f"/l/{token}", httponly=True, samesite="strict")
            return response

        async def socket_(ws: Any) -> None:
            token, viewer = ws.path_params["token"], ws.cookies.get("viewer")
            same_origin = ws.headers.get("origin") in (f"http://{ws.headers.get('host')}",
                                                       f"https://{ws.headers.get('host')}")
            if self._viewer is None or not same_origin or not self._allowed(token, viewer):
                await ws.close(1008)  # before accept: the client sees 403
                return
            await ws.accept()
            if self._socket is not None:  # the same viewer reloaded: the newest page wins
                await self._goodbye("This page was opened again in this browser.", spend=False)
            self._socket = ws
            await self._say("status", self._status)
            sender = asyncio.ensure_future(self._send_frames(ws))
            try:
                while self._socket is ws:
                    text = await ws.receive_text()
                    if len(text) <= MAX_MESSAGE and time.monotonic() <= self.deadline:
                        try:
                            message = json.loads(text)
                        except ValueError:
                            continue
                        if isinstance(message, dict):
                            self._on_input(message)
            except Exception:  # the viewer went away
                pass
            finally:
                sender.cancel()
                if self._socket is ws:
                    self._socket = None

        def static(name: str, media: str) -> Route:
            return Route(f"/{name}", lambda request: FileResponse(VIEWER / name, media_type=media))

        app = Starlette(routes=[
            Route("/l/{token}", page), WebSocketRoute("/l/{token}/ws", socket_),
            static("viewer.js", "text/javascript"), static("viewer.css", "text/css"),
        ])
        return _Headers(app, self.host_ok)

    async def _send_frames(self, ws: Any) -> None:
        """The newest frame only: a slow phone skips frames instead of falling behind."""
        if self._frame is not None:
            self._frame_ready.set()
        while True:
            await self._frame_ready.wait()
            self._frame_ready.clear()
            await ws.send_bytes(self._frame)


class _Headers:
    """ASGI wrapper: the security headers on every HTTP response (403s and 404s included), and
    the 403 page (a refused WebSocket) for a Host the link was not made for."""

    def __init__(self, app: Any, host_ok: Callable[[str], bool]):
        self.app, self.host_ok = app, host_ok

    async def __call__(self, scope: dict, receive: Callable, send: Callable) -> None:
        host = dict(scope.get("headers") or []).get(b"host", b"").decode("latin-1")
        if scope["type"] in ("http", "websocket") and not self.host_ok(host):
            if scope["type"] == "websocket":
                await send({"type": "websocket.close", "code": 1008})
                return
            from starlette.responses import HTMLResponse

            host = ""  # no ws: source for a name that is not ours
            app = HTMLResponse(FORBIDDEN_HTML, 403)
        else:
            app = self.app

        async def with_headers(message: dict) -> None:
            if message["type"] in ("http.response.start", "websocket.http.response.start"):
                message = {**message, "headers": [*message.get("headers", []), *security_headers(host)]}
            await send(message)

        await app(scope, receive, with_headers)

"""The sandbox's machinery: services on loopback ports, fault injection, recorded history.

Each stand-in module (mtn.py, vercel.py, github.py, app.py) has `build(sandbox) -> list[Service]`.
A Service is one Starlette app on its own loopback port, wrapped in `FaultLayer`, which records
every request and applies the faults injected through the admin endpoint.
"""

from __future__ import annotations

import asyncio
import json
import re
import socket
import threading
import time
from dataclasses import asdict, dataclass, field
from typing import Any, Callable


@dataclass
class Service:
    name: str                     # "mtn_sso", "mtn_api", "vercel", "github", "app", "admin"
    app: Callable                 # an ASGI app (Starlette)
    host: str = "127.0.0.1"       # the host name in its URL; mtn_api uses "localhost" so cookies stay apart
    admin_routes: list = field(default_factory=list)  # starlette Routes mounted on the admin app
    state: Any = None             # the stand-in's state object, for tests in-process
    tls: bool = False             # served over HTTPS with the sandbox's own certificate (tls.py)

    @property
    def label(self) -> str:
        """The name its faults and history go under: github_tls is the same GitHub as github."""
        return self.name.removesuffix("_tls")


@dataclass
class Fault:
    service: str                  # a Service.name, or "*"
    method: str = "*"             # "GET", "POST", ... or "*"
    path: str = ".*"              # a regular expression matched against the request path
    status: int | None = None     # answer with this status instead of calling the stand-in
    retry_after: float | None = None
    delay: float = 0.0            # seconds to wait before answering (then call the stand-in unless status/drop)
    drop: bool = False            # start a response and cut the connection
    body: Any = None              # answer this JSON (with `status`, default 200) instead of the stand-in
    drip: float = 0.0             # send the answer one byte every `drip` seconds (a slow, live server)
    after: bool = False           # with `status`: let the stand-in do the work first (a gateway failing late)
    html: str | None = None       # answer with this HTML page (status `status`, else 200), e.g. a hung login page
    count: int = 1                # how many matching requests it applies to; -1: until cleared
    hits: int = 0

    def matches(self, service: str, method: str, path: str) -> bool:
        return (self.service in ("*", service) and self.method in ("*", method.upper())
                and re.fullmatch(self.path, path) is not None)


class Faults:
    def __init__(self) -> None:
        self._rules: list[Fault] = []
        self._lock = threading.Lock()

    def add(self, **spec: Any) -> Fault:
        fault = Fault(**spec)
        with self._lock:
            self._rules.append(fault)
        return fault

    def clear(self) -> None:
        with self._lock:
            self._rules.clear()

    def take(self, service: str, method: str, path: str) -> Fault | None:
        with self._lock:
            for fault in self._rules:
                if fault.matches(service, method, path) and (fault.count < 0 or fault.hits < fault.count):
                    fault.hits += 1
                    return fault
        return None

    def snapshot(self) -> list[dict]:
        with self._lock:
            return [asdict(f) for f in self._rules]


class History:
    """Every request each stand-in received, and every change a stand-in recorded (env vars,
    secrets, deployments), each with a wall-clock `t` so tests can order and time them."""

    def __init__(self) -> None:
        self._events: list[dict] = []
        self._lock = threading.Lock()

    def add(self, service: str, event: str, **details: Any) -> dict:
        entry = {"t": time.time(), "service": service, "event": event, **details}
        with self._lock:
            self._events.append(entry)
        return entry

    def events(self, service: str | None = None, event: str | None = None) -> list[dict]:
        with self._lock:
            return [dict(e) for e in self._events
                    if (service is None or e["service"] == service) and (event is None or e["event"] == event)]

    def requests(self, service: str | None = None) -> list[dict]:
        return self.events(service, "request")

    def clear(self) -> None:
        with self._lock:
            self._events.clear()


class FaultLayer:
    """ASGI wrapper: record the request, apply a matching fault, else call the stand-in."""

    def __init__(self, app: Callable, service: str, faults: Faults, history: History):
        self.app, self.service, self.faults, self.history = app, service, faults, history

    async def __call__(self, scope: dict, receive: Callable, send: Callable) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        record = self.history.add(self.service, "request", method=scope["method"], path=scope["path"],
                                  query=scope.get("query_string", b"").decode("latin-1"), status=None)
        try:
            await self._answer(scope, receive, send, record)
        finally:
            record["seconds"] = time.time() - record["t"]  # how long the server took (bench/recover_wall.py)

    async def _answer(self, scope: dict, receive: Callable, send: Callable, record: dict) -> None:
        method, path = scope["method"], scope["path"]
        fault = self.faults.take(self.service, method, path)
        if fault and fault.delay:
            await asyncio.sleep(fault.delay)
        if fault and fault.drop:
            await send({"type": "http.response.start", "status": 200,
                        "headers": [(b"content-type", b"application/json"), (b"content-length", b"1000")]})
            await send({"type": "http.response.body", "body": b'{"cut', "more_body": True})
            record["status"] = "dropped"
            raise ConnectionAbortedError("sandbox: injected dropped connection")
        if fault and fault.html is not None:
            record["status"] = fault.status or 200
            page = fault.html.encode()
            await send({"type": "http.response.start", "status": fault.status or 200,
                        "headers": [(b"content-type", b"text/html; charset=utf-8"),
                                    (b"content-length", str(len(page)).encode())]})
            await send({"type": "http.response.body", "body": page})
            return
        if fault and fault.after and fault.status:
            async def discard(message: dict) -> None:
                pass

            await self.app(scope, receive, discard)
        if fault and (fault.status or fault.body is not None):
            status = fault.status or 200
            record["status"] = status
            message = f"sandbox: injected {status}"
            body = json.dumps(fault.body if fault.body is not None else
                              {"error": {"code": "sandbox_fault", "message": message}, "message": message}).encode()
            headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
            if fault.retry_after is not None:
                headers.append((b"retry-after", str(int(fault.retry_after)).encode()))
            await send({"type": "http.response.start", "status": status, "headers": headers})
            await self._body(send, body, fault.drip)
            return
        if fault and fault.drip:
            return await self._dripping(scope, receive, send, record, fault.drip)

        async def recording_send(message: dict) -> None:
            if message["type"] == "http.response.start":
                record["status"] = message["status"]
            await send(message)

        await self.app(scope, receive, recording_send)

    @staticmethod
    async def _body(send: Callable, body: bytes, drip: float) -> None:
        if not drip:
            await send({"type": "http.response.body", "body": body})
            return
        for i in range(len(body)):  # a client that gives up ends this: the send fails
            await send({"type": "http.response.body", "body": body[i:i + 1], "more_body": i + 1 < len(body)})
            if i + 1 < len(body):
                await asyncio.sleep(drip)

    async def _dripping(self, scope: dict, receive: Callable, send: Callable, record: dict, drip: float) -> None:
        """The stand-in's own answer, its body sent one byte every `drip` seconds."""
        start: dict = {}
        chunks: list[bytes] = []

        async def collect(message: dict) -> None:
            if message["type"] == "http.response.start":
                start.update(message)
                record["status"] = message["status"]
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))

        await self.app(scope, receive, collect)
        await send(start)
        await self._body(send, b"".join(chunks), drip)


def free_socket(host: str = "127.0.0.1") -> socket.socket:
    """A listening-ready socket on a free loopback port (bound now, so the URL is known early)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    # asyncio sets TCP_NODELAY only on sockets made with proto IPPROTO_TCP, not on ones accepted
    # from this (proto 0); without it uvicorn's two writes (headers, body) met the client's
    # delayed ACK, and every request on a kept-alive connection waited ~40 ms, which no real
    # service adds. Connections accepted on Linux inherit it from the listener.
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.bind((host, 0))
    return sock


class ServerThread:
    """One uvicorn server in its own thread and event loop, so a stand-in may call another
    stand-in synchronously without blocking it."""

    def __init__(self, app: Callable, sock: socket.socket, name: str, certificates: Any = None):
        import uvicorn

        tls = {} if certificates is None else {"ssl_certfile": str(certificates.cert_file),
                                                "ssl_keyfile": str(certificates.key_file)}
        config = uvicorn.Config(app, log_level="critical", access_log=False, lifespan="off", **tls)
        self.server = uvicorn.Server(config)
        self.sock = sock
        self.thread = threading.Thread(target=self._run, name=f"sandbox-{name}", daemon=True)

    def _run(self) -> None:
        self.server.run(sockets=[self.sock])

    def start(self, timeout: float = 10.0) -> None:
        self.thread.start()
        deadline = time.monotonic() + timeout
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("sandbox server did not start")
            time.sleep(0.01)

    def ask_to_stop(self) -> None:
        """uvicorn's own flags: leave the serve loop, and do not wait for open connections."""
        self.server.should_exit = True
        self.server.force_exit = True

    def stop(self) -> None:
        self.ask_to_stop()
        self.thread.join(timeout=5)   # a bound, not a wait: the loop sees the flags within 0.1 s

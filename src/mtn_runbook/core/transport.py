"""The network end of every httpx client: httpcore's connection pool, built with the
`DeadlineBackend` (deadline.py) through httpcore's public `network_backend` parameter, behind
httpx's public `BaseTransport` interface. httpx.HTTPTransport offers no way to pass a network
backend, so this is the few lines it would otherwise do: turn an httpx request into an httpcore
one and back, and raise httpx's exceptions for httpcore's. Plain-http requests (the sandbox, a
Coolify on a LAN) go to a pool of their own, so the TLS context (~60 ms of CPU) is built only when
the first https request is sent."""

from __future__ import annotations

import contextlib
import ssl
import threading
from typing import Callable, Iterable, Iterator, cast

import httpcore
import httpx

from .deadline import DeadlineBackend

# most specific first: the first match wins
_ERRORS: tuple[tuple[type[Exception], type[httpx.HTTPError]], ...] = (
    (httpcore.ConnectTimeout, httpx.ConnectTimeout),
    (httpcore.ReadTimeout, httpx.ReadTimeout),
    (httpcore.WriteTimeout, httpx.WriteTimeout),
    (httpcore.PoolTimeout, httpx.PoolTimeout),
    (httpcore.TimeoutException, httpx.TimeoutException),
    (httpcore.ConnectError, httpx.ConnectError),
    (httpcore.ReadError, httpx.ReadError),
    (httpcore.WriteError, httpx.WriteError),
    (httpcore.NetworkError, httpx.NetworkError),
    (httpcore.ProxyError, httpx.ProxyError),
    (httpcore.UnsupportedProtocol, httpx.UnsupportedProtocol),
    (httpcore.LocalProtocolError, httpx.LocalProtocolError),
    (httpcore.RemoteProtocolError, httpx.RemoteProtocolError),
    (httpcore.ProtocolError, httpx.ProtocolError),
)


@contextlib.contextmanager
def _as_httpx_errors() -> Iterator[None]:
    try:
        yield
    except Exception as e:
        for core, public in _ERRORS:
            if isinstance(e, core):
                raise public(str(e)) from e
        raise


class _Body(httpx.SyncByteStream):
    def __init__(self, stream: Iterable[bytes]):
        self._stream = stream

    def __iter__(self) -> Iterator[bytes]:
        with _as_httpx_errors():
            yield from self._stream

    def close(self) -> None:
        close = getattr(self._stream, "close", None)
        if close is not None:
            close()


class DeadlineTransport(httpx.BaseTransport):
    """What httpx.HTTPTransport(verify=context) does without a proxy, on the deadline backend."""

    def __init__(self, ssl_context: Callable[[], ssl.SSLContext]):
        self._ssl_context = ssl_context
        self._pools: dict[bool, httpcore.ConnectionPool] = {}   # by "is TLS"
        self._lock = threading.Lock()   # a client may be used from more than one thread

    def _pool(self, tls: bool) -> httpcore.ConnectionPool:
        with self._lock:
            if tls not in self._pools:
                limits = httpx.Limits()   # httpx's defaults, as HTTPTransport uses them
                self._pools[tls] = httpcore.ConnectionPool(
                    ssl_context=self._ssl_context() if tls else None, max_connections=limits.max_connections,
                    max_keepalive_connections=limits.max_keepalive_connections,
                    keepalive_expiry=limits.keepalive_expiry, network_backend=DeadlineBackend(httpcore.SyncBackend()))
            return self._pools[tls]

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        url = request.url
        sent = httpcore.Request(
            method=request.method,
            url=httpcore.URL(scheme=url.raw_scheme, host=url.raw_host, port=url.port, target=url.raw_path),
            headers=request.headers.raw, content=request.stream, extensions=request.extensions)
        with _as_httpx_errors():
            got = self._pool(url.raw_scheme in (b"https", b"wss")).handle_request(sent)
        return httpx.Response(status_code=got.status, headers=got.headers, stream=_Body(cast(Iterable[bytes], got.stream)),
                              extensions=got.extensions)

    def close(self) -> None:
        with self._lock:
            pools, self._pools = list(self._pools.values()), {}
        for pool in pools:
            pool.close()

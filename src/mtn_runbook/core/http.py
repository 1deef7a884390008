"""The one way to talk HTTP: timeouts, bounded retries that honour Retry-After, clean errors.

Retried: 429, 502, 503, 504, a rate-limited 403 (`x-ratelimit-remaining: 0` or `retry-after`),
500 for idempotent requests only, and connection failures. Other 4xx are answered at once.
Errors name the service and the API's own message, never a token, a cookie or (for URLs that carry a token) the path.
"""

from __future__ import annotations

import functools
import ssl
import time
from typing import Any, Callable, Iterable

import httpx

from .errors import ConfigError, ServiceError

RETRY_STATUSES = frozenset({429, 502, 503, 504})
IDEMPOTENT = frozenset({"GET", "HEAD", "PUT", "PATCH", "DELETE", "OPTIONS"})
TIMEOUT = httpx.Timeout(20.0, connect=10.0)


def retry_delay(response: httpx.Response, attempt: int, clock: Callable[[], float] = time.time) -> float:
    """Seconds to wait before the next try: Retry-After, else x-ratelimit-reset, else backoff."""
    after = response.headers.get("retry-after")
    if after:
        try:
            return max(0.0, float(after))
        except ValueError:
            pass  # an HTTP date: fall through to backoff
    reset = response.headers.get("x-ratelimit-reset")
    if reset and response.headers.get("x-ratelimit-remaining") == "0":
        try:
            return max(0.0, float(reset) - clock())
        except ValueError:
            pass
    return backoff(attempt)


def backoff(attempt: int) -> float:
    return min(0.5 * 2**attempt, 8.0)


def is_rate_limited(response: httpx.Response) -> bool:
    if response.status_code in RETRY_STATUSES:
        return True
    return response.status_code == 403 and (
        response.headers.get("x-ratelimit-remaining") == "0" or "retry-after" in response.headers
    )


class RetryTransport(httpx.BaseTransport):
    """Wraps a transport with bounded retries; POST is retried on a lost connection only when the
    caller marks it idempotent (`extensions={"idempotent": True}`), e.g. Vercel's upsert."""

    def __init__(self, inner: httpx.BaseTransport, retries: int = 4, max_wait: float = 30.0,
                 sleep: Callable[[float], None] = time.sleep):
        self.inner, self.retries, self.max_wait, self.sleep = inner, retries, max_wait, sleep

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        idempotent = request.method in IDEMPOTENT or request.extensions.get("idempotent", False)
        for attempt in range(self.retries + 1):
            last = attempt == self.retries
            try:
                response = self.inner.handle_request(request)
                response.read()  # a connection cut mid-body surfaces here, where it can be retried
            except (httpx.ConnectError, httpx.ConnectTimeout):
                if last:
                    raise
                self.sleep(backoff(attempt))
                continue
            except (httpx.ReadError, httpx.RemoteProtocolError, httpx.ReadTimeout, httpx.WriteError):
                if last or not idempotent:
                    raise
                self.sleep(backoff(attempt))
                continue
            # a 500 is retried only where repeating the request is harmless (e.g. a secret PUT)
            retry = is_rate_limited(response) or (idempotent and response.status_code == 500)
            if last or not retry:
                return response
            wait = retry_delay(response, attempt)
            response.read()
            response.close()
            if wait > self.max_wait:
                return response  # too long to wait inside one call: let the caller report it
            self.sleep(wait)
        raise AssertionError("unreachable")

    def close(self) -> None:
        self.inner.close()


@functools.lru_cache(maxsize=1)
def tls_context() -> ssl.SSLContext:
    """One TLS context for every client: each costs ~60 ms of CPU to build, which twenty
    concurrent push targets would otherwise pay twenty times over."""
    return httpx.create_ssl_context()


def make_client(base_url: str = "", *, headers: dict | None = None, params: dict | None = None,
                timeout: httpx.Timeout | float = TIMEOUT, retries: int = 4,
                follow_redirects: bool = False) -> httpx.Client:
    """The one httpx client factory of the project."""
    return httpx.Client(
        base_url=base_url, headers=headers or {}, params=params or {}, timeout=timeout,
        follow_redirects=follow_redirects,
        transport=RetryTransport(httpx.HTTPTransport(verify=tls_context()), retries=retries),
    )


def api_message(response: httpx.Response) -> str:
    """The API's own words for an error (Vercel: error.message, GitHub: message)."""
    try:
        body = response.json()
    except ValueError:
        return response.reason_phrase or ""
    if isinstance(body, dict):
        err = body.get("error")
        if isinstance(err, dict):
            return " ".join(str(p) for p in (err.get("message"), f"({err['code']})" if err.get("code") else None) if p)
        if isinstance(err, str):
            return err
        if body.get("message"):
            return str(body["message"])
    return response.reason_phrase or ""


class Api:
    """A named REST API: base URL, auth, default params, and errors in the operator's words."""

    def __init__(self, service: str, base_url: str, *, token: str = "", token_var: str = "",
                 headers: dict | None = None, params: dict | None = None, hide_paths: bool = False,
                 timeout: httpx.Timeout | float = TIMEOUT, retries: int = 4):
        self.service, self.token_var, self.hide_paths = service, token_var, hide_paths
        headers = dict(headers or {})
        if token:
            headers["Authorization"] = f"Bearer {token}"
        self.client = make_client(base_url.rstrip("/"), headers=headers, params=params,
                                  timeout=timeout, retries=retries)

    def __enter__(self) -> "Api":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.client.close()

    def close(self) -> None:
        self.client.close()

    def request(self, method: str, path: str, *, expect: Iterable[int] = (200,), what: str = "",
                idempotent: bool = False, **kwargs: Any) -> httpx.Response:
        where = what or ("request" if self.hide_paths else f"{method} {path}")
        try:
            response = self.client.request(method, path, extensions={"idempotent": idempotent}, **kwargs)
        except httpx.TimeoutException:
            raise ServiceError(f"{self.service}: {where} timed out", "check the service's status and retry") from None
        except httpx.HTTPError as e:
            raise ServiceError(f"{self.service}: {where} failed ({type(e).__name__})",
                               "check the URL and your network, then retry") from None
        if response.status_code in tuple(expect):
            return response
        message = api_message(response)
        line = f"{self.service}: {where} answered {response.status_code}" + (f" {message}" if message else "")
        if response.status_code in (401, 403) and not is_rate_limited(response) and self.token_var:
            raise ConfigError(line, f"check {self.token_var}: it is missing, wrong, expired or lacks rights")
        if response.status_code == 404 and self.token_var:
            raise ConfigError(line, "check the id/name configured for it, and that the token can see it")
        raise ServiceError(line, "retry later; if it persists, check the service's status page")

    def get(self, path: str, **kw: Any) -> httpx.Response:
        return self.request("GET", path, **kw)

    def post(self, path: str, **kw: Any) -> httpx.Response:
        return self.request("POST", path, **kw)

    def put(self, path: str, **kw: Any) -> httpx.Response:
        return self.request("PUT", path, **kw)

    def patch(self, path: str, **kw: Any) -> httpx.Response:
        return self.request("PATCH", path, **kw)

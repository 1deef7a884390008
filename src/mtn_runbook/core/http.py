"""The one way to talk HTTP: timeouts, a total deadline, bounded retries that honour Retry-After,
clean errors.

Retried: 429, a rate-limited 403 (`x-ratelimit-remaining: 0` or `retry-after`) and connection
failures (nothing was sent); 500, 502, 503, 504 and a connection cut mid-answer only for
idempotent requests: a POST that creates something (a deployment, an issue) may have done so
before the gateway failed, so the caller checks before trying again (alerts.py, redeploy.py).
TLS certificate errors are never retried. Each retry is announced through the console ("retrying
in 4 s, 3 left"), terminal or not. Every call ends within its total deadline (deadline.py), and
Ctrl-C cancels calls in flight in every thread.
Errors name the service and the API's own message, never a token, a cookie or (for URLs that carry a token) the path.
"""

from __future__ import annotations

import functools
import ssl
import time
from typing import Any, Callable, Iterable

import httpx

from . import deadline
from .console import notice
from .errors import ConfigError, Interrupted, ServiceError
from .transport import DeadlineTransport

RETRY_STATUSES = frozenset({429, 502, 503, 504})
GATEWAY_STATUSES = frozenset({500, 502, 503, 504})   # the request may have been processed
IDEMPOTENT = frozenset({"GET", "HEAD", "PUT", "PATCH", "DELETE", "OPTIONS"})
TIMEOUT = httpx.Timeout(20.0, connect=10.0)
DEADLINE = 60.0     # seconds one call may take in all: every attempt, read and wait included


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
    return min(0.5 * 2.0**attempt, 8.0)


def create_once(what: str, create: Callable[[], Any], find: Callable[[], Any], *, past: str = "created",
                label: Callable[[Any], str] = str, attempts: int = 3) -> Any:
    """A non-idempotent create (a deployment, an issue): after a gateway error the thing may exist
    anyway, so `find` looks for it before trying again; never two of them. The notices read
    "{what} answered 504, but it was {past} ({label(found)})"."""
    for attempt in range(attempts):
        try:
            return create()
        except ServiceError as e:
            if e.status not in GATEWAY_STATUSES:
                raise
            found = find()
            if found is not None:
                notice(f"{what} answered {e.status}, but it was {past} ({label(found)})")
                return found
            if attempt == attempts - 1:
                raise
            wait = backoff(attempt)
            notice(f"{what} answered {e.status} and {past} none; retrying in {wait:g} s, {attempts - 1 - attempt} left")
            deadline.sleep(wait)
    raise AssertionError("unreachable")


def is_rate_limited(response: httpx.Response) -> bool:
    if response.status_code in RETRY_STATUSES:
        return True
    return response.status_code == 403 and (
        response.headers.get("x-ratelimit-remaining") == "0" or "retry-after" in response.headers
    )


def tls_failure(error: BaseException | None) -> ssl.SSLCertVerificationError | None:
    """The certificate error behind a connection failure, if that is what it was."""
    seen = set()
    while error is not None and id(error) not in seen:
        if isinstance(error, ssl.SSLCertVerificationError):
            return error
        seen.add(id(error))
        error = error.__cause__ or error.__context__
    return None


def _report(text: str) -> None:
    from .console import notice

    notice(text)


class RetryTransport(httpx.BaseTransport):
    """Wraps a transport with bounded retries within one total deadline. A POST counts as
    idempotent only when the caller says so (`extensions={"idempotent": True}`), e.g. Vercel's
    upsert. `extensions={"what": ...}` names the call in retry lines (e.g. "vercel: PATCH /v9/...")."""

    def __init__(self, inner: httpx.BaseTransport, retries: int = 4, max_wait: float = 30.0,
                 sleep: Callable[[float], None] = deadline.sleep, total: float = DEADLINE,
                 report: Callable[[str], None] = _report):
        self.inner, self.retries, self.max_wait, self.sleep = inner, retries, max_wait, sleep
        self.total, self.report = total, report

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        with deadline.within(self.total):
            return self._attempts(request)

    def _attempts(self, request: httpx.Request) -> httpx.Response:
        idempotent = request.method in IDEMPOTENT or request.extensions.get("idempotent", False)
        what = request.extensions.get("what") or f"{request.method} {request.url.host}{request.url.path}"
        for attempt in range(self.retries + 1):
            last = attempt == self.retries
            try:
                response = self.inner.handle_request(request)
                response.read()  # a connection cut mid-body surfaces here, where it can be retried
            except (httpx.ConnectError, httpx.ConnectTimeout) as e:
                if last or tls_failure(e) is not None:
                    raise
                self._wait(backoff(attempt), f"{what} failed ({type(e).__name__})", attempt)
                continue
            except (httpx.ReadError, httpx.RemoteProtocolError, httpx.ReadTimeout, httpx.WriteError) as e:
                if last or not idempotent:
                    raise
                self._wait(backoff(attempt), f"{what} failed ({type(e).__name__})", attempt)
                continue
            if response.status_code in GATEWAY_STATUSES and not idempotent:
                return response  # it may have been done: the caller checks before trying again
            retry = is_rate_limited(response) or (idempotent and response.status_code == 500)
            if last or not retry:
                return response
            wait = retry_delay(response, attempt)
            left = deadline.remaining()
            if wait > self.max_wait or (left is not None and wait >= left):
                return response  # too long to wait inside one call: let the caller report it
            response.close()
            self._wait(wait, f"{what} answered {response.status_code}", attempt)
        raise AssertionError("unreachable")

    def _wait(self, seconds: float, why: str, attempt: int) -> None:
        left = deadline.remaining()
        if left is not None and seconds >= left:
            raise deadline.DeadlinePassed(self.total)
        tries = self.retries - attempt
        shown = f"{seconds:.1f}".rstrip("0").rstrip(".")
        self.report(f"{why}; retrying in {shown} s, {tries} left")
        self.sleep(seconds)

    def close(self) -> None:
        self.inner.close()


@functools.lru_cache(maxsize=1)
def tls_context() -> ssl.SSLContext:
    """One TLS context for every client: each costs ~60 ms of CPU to build, which twenty
    concurrent push targets would otherwise pay twenty times over."""
    return httpx.create_ssl_context()


def network_transport() -> DeadlineTransport:
    """The network transport, with every network wait bounded by the call's deadline (deadline.py);
    it builds the TLS context at its first https request."""
    return DeadlineTransport(tls_context)


def make_client(base_url: str = "", *, headers: dict[str, Any] | None = None, params: dict[str, Any] | None = None,
                timeout: httpx.Timeout | float = TIMEOUT, retries: int = 4,
                follow_redirects: bool = False, total: float = DEADLINE) -> httpx.Client:
    """The one httpx client factory of the project."""
    return httpx.Client(
        base_url=base_url, headers=headers or {}, params=params or {}, timeout=timeout,
        follow_redirects=follow_redirects,
        transport=RetryTransport(network_transport(), retries=retries, total=total),
    )


def json_body(response: httpx.Response) -> Any:
    """The JSON of an answer, or None when it is not JSON (or nested too deeply to parse)."""
    try:
        return response.json()
    except (ValueError, RecursionError):
        return None


def api_message(response: httpx.Response) -> str:
    """The API's own words for an error (Vercel: error.message, GitHub: message)."""
    body = json_body(response)
    if body is None:
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
                 headers: dict[str, Any] | None = None, params: dict[str, Any] | None = None, hide_paths: bool = False,
                 timeout: httpx.Timeout | float = TIMEOUT, retries: int = 4, deadline: float = DEADLINE):
        self.service, self.token_var, self.hide_paths = service, token_var, hide_paths
        headers = dict(headers or {})
        if token:
            headers["Authorization"] = f"Bearer {token}"
        self.client = make_client(base_url.rstrip("/"), headers=headers, params=params,
                                  timeout=timeout, retries=retries, total=deadline)

    def __enter__(self) -> "Api":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.client.close()

    def close(self) -> None:
        self.client.close()

    def request(self, method: str, path: str, *, expect: Iterable[int] = (200,), what: str = "",
                idempotent: bool = False, **kwargs: Any) -> httpx.Response:
        where = what or ("request" if self.hide_paths else f"{method} {path}")
        extensions = {"idempotent": idempotent, "what": f"{self.service}: {where}"}
        try:
            response = self.client.request(method, path, extensions=extensions, **kwargs)
        except deadline.Cancelled:
            raise Interrupted(f"{self.service}: {where} cancelled") from None
        except deadline.DeadlinePassed as e:
            raise ServiceError(f"{self.service}: {where} gave {e}", "the service answers too slowly; check its "
                               "status and retry") from None
        except httpx.TimeoutException:
            raise ServiceError(f"{self.service}: {where} timed out", "check the service's status and retry") from None
        except httpx.HTTPError as e:
            bad_cert = tls_failure(e)
            if bad_cert is not None:
                host = _host(e, self.client)
                raise ServiceError(f"{self.service}: the TLS certificate of {host} is not trusted "
                                   f"({bad_cert.verify_message or 'verification failed'})",
                                   "check the URL (a proxy or a wrong host?); not retried") from None
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
        error = ServiceError(line, "retry later; if it persists, check the service's status page")
        error.status = response.status_code
        raise error

    def get(self, path: str, **kw: Any) -> httpx.Response:
        return self.request("GET", path, **kw)

    def post(self, path: str, **kw: Any) -> httpx.Response:
        return self.request("POST", path, **kw)

    def put(self, path: str, **kw: Any) -> httpx.Response:
        return self.request("PUT", path, **kw)

    def patch(self, path: str, **kw: Any) -> httpx.Response:
        return self.request("PATCH", path, **kw)


def _host(error: httpx.HTTPError, client: httpx.Client) -> str:
    try:
        return error.request.url.host
    except RuntimeError:  # no request attached
        return client.base_url.host or "the host"

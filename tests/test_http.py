"""http.py: which answers are retried, how long it waits, and what an error says.

Unit level with httpx.MockTransport (sleeps recorded, not slept), then end to end against the
sandbox's fault injection.
"""

from __future__ import annotations

import httpx
import pytest

from mtn_runbook.core.errors import ConfigError, ServiceError
from mtn_runbook.core.http import Api, RetryTransport, api_message, retry_delay

TOKEN = "tok-secret-123456"


class Script:
    """A mock server answering from a list: statuses, (status, headers), or exceptions."""

    def __init__(self, *answers):
        self.answers, self.calls, self.sleeps = list(answers), [], []

    def handler(self, request: httpx.Request) -> httpx.Response:
        self.calls.append(request.method)
        answer = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
        if isinstance(answer, Exception):
            raise answer
        status, headers = answer if isinstance(answer, tuple) else (answer, {})
        return httpx.Response(status, headers=headers, json={"error": {"code": "x", "message": f"said {status}"}})

    def client(self, retries: int = 4, max_wait: float = 30.0) -> httpx.Client:
        transport = RetryTransport(httpx.MockTransport(self.handler), retries=retries, max_wait=max_wait,
                                   sleep=self.sleeps.append)
        return httpx.Client(base_url="http://api.test", transport=transport)


@pytest.mark.parametrize("status", [429, 502, 503, 504])
def test_retryable_statuses_are_retried(status):
    script = Script(status, 200)
    assert script.client().get("/x").status_code == 200
    assert script.calls == ["GET", "GET"]


def test_retry_after_is_honoured():
    script = Script((429, {"Retry-After": "1"}), (429, {"Retry-After": "3"}), 200)
    assert script.client().post("/x").status_code == 200
    assert script.sleeps == [1.0, 3.0]


def test_x_ratelimit_reset_is_honoured_on_a_rate_limited_403():
    response = httpx.Response(403, headers={"x-ratelimit-remaining": "0", "x-ratelimit-reset": "1000"})
    assert retry_delay(response, 0, clock=lambda: 990.0) == 10.0
    script = Script((403, {"x-ratelimit-remaining": "0", "x-ratelimit-reset": "0"}), 200)
    assert script.client().get("/x").status_code == 200


def test_too_long_a_wait_is_not_slept_through():
    script = Script((429, {"Retry-After": "3600"}))
    assert script.client(max_wait=30).get("/x").status_code == 429
    assert script.sleeps == [] and len(script.calls) == 1


def test_retries_are_bounded_with_backoff():
    script = Script(503)
    assert script.client(retries=3).get("/x").status_code == 503
    assert len(script.calls) == 4
    assert script.sleeps == [0.5, 1.0, 2.0]


@pytest.mark.parametrize("status", [400, 401, 403, 404, 409, 422])
def test_other_4xx_are_answered_at_once(status):
    script = Script(status, 200)
    assert script.client().get("/x").status_code == status
    assert len(script.calls) == 1


def test_500_is_retried_only_for_idempotent_requests():
    put = Script(500, 204)
    assert put.client().put("/secret").status_code == 204
    post = Script(500, 201)
    assert post.client().post("/deployments").status_code == 500
    upsert = Script(500, 201)
    assert upsert.client().post("/env", extensions={"idempotent": True}).status_code == 201


def test_connection_errors():
    refused = Script(httpx.ConnectError("refused"), 200)
    assert refused.client().post("/x").status_code == 200  # nothing was sent: safe for any method
    cut_get = Script(httpx.ReadError("cut"), 200)
    assert cut_get.client().get("/x").status_code == 200
    cut_post = Script(httpx.ReadError("cut"), 200)
    with pytest.raises(httpx.ReadError):  # it may have been processed: not repeated
        cut_post.client().post("/x")


def test_api_errors_name_the_service_and_its_message_never_the_token():
    def answer(status, body):
        return lambda request: httpx.Response(status, json=body)

    def api(handler) -> Api:
        a = Api("vercel prj_x", "http://api.test", token=TOKEN, token_var="VERCEL_TOKEN", retries=0)
        a.client = httpx.Client(base_url="http://api.test", transport=httpx.MockTransport(handler),
                                headers=a.client.headers)
        return a

    with pytest.raises(ConfigError) as denied:
        api(answer(403, {"error": {"code": "forbidden", "message": "Not authorized", "invalidToken": True}})).get("/v2/user")
    assert denied.value.line().startswith("vercel prj_x: GET /v2/user answered 403 Not authorized (forbidden)")
    assert "VERCEL_TOKEN" in denied.value.hint and TOKEN not in denied.value.line()

    with pytest.raises(ServiceError) as broken:
        api(answer(400, {"message": "Bad thing"})).post("/v13/deployments")
    assert "answered 400 Bad thing" in broken.value.line() and TOKEN not in broken.value.line()

    assert api_message(httpx.Response(502, text="<html>bad gateway</html>")) == "Bad Gateway"


# -- end to end, against the sandbox's fault injection ------------------------------------
def vercel(sandbox, retries: int = 4) -> Api:
    o = sandbox.options
    return Api("vercel", sandbox.urls["vercel"], token=o.vercel_token, token_var="VERCEL_TOKEN",
               params={"teamId": o.vercel_team_id}, retries=retries)


def statuses(sandbox, path: str) -> list:
    return [r["status"] for r in sandbox.history.requests("vercel") if r["path"] == path]


def test_sandbox_429_with_retry_after_is_waited_out(sandbox):
    sandbox.faults.add(service="vercel", path="/v2/user", status=429, retry_after=1)
    with vercel(sandbox) as api:
        assert api.get("/v2/user").json()["user"]["id"] == "usr_sandbox"
    assert statuses(sandbox, "/v2/user") == [429, 200]
    waited = [r["t"] for r in sandbox.history.requests("vercel")]
    assert waited[1] - waited[0] >= 0.9


def test_sandbox_dropped_connection_is_retried_for_get(sandbox):
    sandbox.faults.add(service="vercel", path="/v2/user", drop=True)
    with vercel(sandbox) as api:
        assert api.get("/v2/user").status_code == 200
    assert statuses(sandbox, "/v2/user") == ["dropped", 200]


def test_sandbox_dropped_post_is_not_repeated(sandbox):
    sandbox.faults.add(service="vercel", method="POST", path="/v13/deployments", drop=True)
    with vercel(sandbox) as api, pytest.raises(ServiceError, match="vercel: POST /v13/deployments failed"):
        api.post("/v13/deployments", json={})
    assert statuses(sandbox, "/v13/deployments") == ["dropped"]


def test_sandbox_persistent_503_gives_up_with_a_clean_error(sandbox):
    sandbox.faults.add(service="vercel", path="/v2/user", status=503, count=-1)
    with vercel(sandbox, retries=1) as api, pytest.raises(ServiceError) as failed:
        api.get("/v2/user")
    assert failed.value.line().startswith("vercel: GET /v2/user answered 503 sandbox: injected 503")
    assert sandbox.options.vercel_token not in failed.value.line()
    assert statuses(sandbox, "/v2/user") == [503, 503]


def test_sandbox_timeout_is_reported(sandbox):
    sandbox.faults.add(service="vercel", path="/v2/user", delay=2.0, count=-1)
    o = sandbox.options
    with Api("vercel", sandbox.urls["vercel"], token=o.vercel_token, timeout=0.3, retries=0) as api, \
            pytest.raises(ServiceError, match="timed out"):
        api.get("/v2/user")


# -- the TLS context is built at the first https request, not for plain http ---------------------
@pytest.mark.tls
def test_the_tls_context_is_built_only_when_an_https_request_is_sent(sandbox):
    import ssl

    from mtn_runbook.core.transport import DeadlineTransport

    built = []

    def context() -> ssl.SSLContext:
        built.append(1)
        return ssl.create_default_context(cafile=str(sandbox.certificates.ca_file))

    headers = {"Authorization": f"token {sandbox.options.github_token}"}
    with httpx.Client(transport=DeadlineTransport(context), headers=headers) as client:
        plain = client.get(f"{sandbox.urls['github']}/repos/{sandbox.options.github_repository}")
        assert plain.status_code == 200 and built == []   # ~60 ms of CPU a plain-http run never pays
        for _ in range(2):
            tls = client.get(f"{sandbox.urls['github_tls']}/api/v3/repos/{sandbox.options.github_repository}")
            assert tls.status_code == 200 and tls.json()["default_branch"] == "main"
        assert built == [1]   # once, then the pool keeps it

"""Faults injected through the admin endpoint reach clients as the real failures would."""

from __future__ import annotations

import httpx
import pytest


def add_fault(sandbox, **spec) -> dict:
    reply = httpx.post(f"{sandbox.urls['admin']}/admin/faults", json=spec, timeout=10)
    assert reply.status_code == 201, reply.text
    return reply.json()


def vercel_env(sandbox, timeout: float = 10) -> httpx.Response:
    o = sandbox.options
    return httpx.get(f"{sandbox.urls['vercel']}/v10/projects/{o.vercel_project_id}/env",
                     params={"teamId": o.vercel_team_id}, headers={"Authorization": f"Bearer {o.vercel_token}"},
                     timeout=timeout)


def test_a_status_fault_answers_the_next_n_calls_with_retry_after(sandbox):
    add_fault(sandbox, service="vercel", method="GET", path="/v10/projects/.*/env", status=429, retry_after=2, count=2)
    first, second, third = vercel_env(sandbox), vercel_env(sandbox), vercel_env(sandbox)
    assert [first.status_code, second.status_code, third.status_code] == [429, 429, 200]
    assert first.headers["retry-after"] == "2"
    assert "envs" in third.json()
    statuses = [r["status"] for r in sandbox.history.requests("vercel")]
    assert statuses == [429, 429, 200]


def test_a_fault_only_hits_its_service_method_and_path(sandbox):
    add_fault(sandbox, service="github", method="PUT", path="/repos/.*/actions/secrets/.*", status=503, count=-1)
    assert vercel_env(sandbox).status_code == 200
    o = sandbox.options
    reply = httpx.get(f"{sandbox.urls['github']}/repos/{o.github_repository}/actions/secrets/public-key",
                      headers={"Authorization": f"Bearer {o.github_token}"})
    assert reply.status_code == 200
    put = httpx.put(f"{sandbox.urls['github']}/repos/{o.github_repository}/actions/secrets/MTN_SESSION",
                    headers={"Authorization": f"Bearer {o.github_token}"}, json={})
    assert put.status_code == 503


def test_a_dropped_connection_raises_in_the_client(sandbox):
    add_fault(sandbox, service="vercel", path="/v10/projects/.*/env", drop=True)
    with pytest.raises((httpx.RemoteProtocolError, httpx.ReadError)):
        vercel_env(sandbox)
    assert sandbox.history.requests("vercel")[-1]["status"] == "dropped"
    assert vercel_env(sandbox).status_code == 200   # count=1: the next call goes through


def test_a_delay_outlasts_a_short_client_timeout(sandbox):
    add_fault(sandbox, service="app", path="/api/mtn-wholesale/auth", delay=2.0)
    with pytest.raises(httpx.ReadTimeout):
        httpx.get(f"{sandbox.urls['app']}/api/mtn-wholesale/auth", timeout=httpx.Timeout(5.0, read=0.2))


def test_faults_can_be_cleared_and_unknown_fields_are_refused(sandbox):
    add_fault(sandbox, service="vercel", status=500, count=-1)
    assert vercel_env(sandbox).status_code == 500
    assert httpx.delete(f"{sandbox.urls['admin']}/admin/faults").status_code == 200
    assert vercel_env(sandbox).status_code == 200
    bad = httpx.post(f"{sandbox.urls['admin']}/admin/faults", json={"service": "vercel", "statuss": 500})
    assert bad.status_code == 400


def test_history_is_served_by_the_admin_endpoint(sandbox):
    sandbox.vercel.set_env("MTN_SESSION", "via-helper")
    events = httpx.get(f"{sandbox.urls['admin']}/admin/history",
                       params={"service": "vercel", "event": "env.change"}).json()
    assert len(events) == 1 and events[0]["production_has"] is True and "via-helper" not in str(events)


def test_a_body_fault_answers_that_json(sandbox):
    add_fault(sandbox, service="app", method="GET", path="/api/mtn-wholesale/auth",
              body={"success": False, "error": "echoed"})
    reply = httpx.get(f"{sandbox.urls['app']}/api/mtn-wholesale/auth", timeout=10)
    assert reply.status_code == 200 and reply.json() == {"success": False, "error": "echoed"}


def test_a_drip_fault_sends_the_answer_one_byte_at_a_time(sandbox):
    add_fault(sandbox, service="app", method="GET", path="/api/mtn-wholesale/auth", drip=0.01)
    chunks = []
    with httpx.stream("GET", f"{sandbox.urls['app']}/api/mtn-wholesale/auth", timeout=10) as reply:
        for chunk in reply.iter_raw():
            chunks.append(chunk)
    assert len(chunks) >= 5   # bytes sent apart (a loaded machine may still join a few)
    assert b"".join(chunks).startswith(b'{"success"')


def test_an_after_fault_does_the_work_then_answers_the_status(sandbox):
    o = sandbox.options
    add_fault(sandbox, service="github", method="POST", path="/repos/.*/issues", status=502, after=True)
    before = len(sandbox.github.issues())
    reply = httpx.post(f"{sandbox.urls['github']}/repos/{o.github_repository}/issues",
                       headers={"Authorization": f"Bearer {o.github_token}"}, json={"title": "t"}, timeout=10)
    assert reply.status_code == 502
    assert len(sandbox.github.issues()) == before + 1


def test_the_stand_ins_answer_kept_alive_connections_without_nagle_delay(sandbox):
    """The server side of every accepted connection has TCP_NODELAY, as asyncio gives sockets it
    creates itself: without it, uvicorn's two writes (headers, then body) met the client's delayed
    ACK and each request on a kept-alive connection waited ~40 ms, which no real service adds
    (it made `inv validate`'s ledger calls look slow; bench/startup.py)."""
    import socket

    o = sandbox.options
    with httpx.Client(headers={"Authorization": f"Bearer {o.github_token}"}) as client:
        for _ in range(2):
            assert client.get(f"{sandbox.urls['github']}/repos/{o.github_repository}/issues").status_code == 200
        assert vercel_env(sandbox).status_code == 200
        accepted = [conn.transport.get_extra_info("socket") for thread in sandbox._threads
                    for conn in thread.server.server_state.connections]
        assert accepted, "no open connection found on the stand-ins' servers"
        assert all(sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) for sock in accepted)

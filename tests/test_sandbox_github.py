"""The GitHub stand-in: real sealed boxes, the real API's rejections, issues that include PRs."""

from __future__ import annotations

import base64
import re
import ssl

import httpx
import pytest
from nacl.encoding import Base64Encoder
from nacl.public import PrivateKey, PublicKey, SealedBox

from mtn_runbook.core.session import fingerprint

STAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")


@pytest.fixture
def api(sandbox):
    headers = {"Authorization": f"Bearer {sandbox.options.github_token}",
               "Accept": "application/vnd.github+json", "X-GitHub-Api-Version": "2022-11-28"}
    with httpx.Client(base_url=sandbox.urls["github"], headers=headers, timeout=10) as client:
        yield client


def repo(sandbox) -> str:
    return f"/repos/{sandbox.options.github_repository}"


def seal(key_b64: str, value: str) -> str:
    box = SealedBox(PublicKey(key_b64.encode(), Base64Encoder))
    return base64.b64encode(box.encrypt(value.encode())).decode()


def put_secret(sandbox, api, name: str, value: str, env: str | None = None) -> httpx.Response:
    base = f"{repo(sandbox)}/environments/{env}/secrets" if env else f"{repo(sandbox)}/actions/secrets"
    key = api.get(f"{base}/public-key").json()
    return api.put(f"{base}/{name}", json={"encrypted_value": seal(key["key"], value), "key_id": key["key_id"]})


# -- auth ---------------------------------------------------------------------------------------
def test_bad_token_is_401_and_other_repos_are_404(sandbox, api):
    url = sandbox.urls["github"]
    bad = httpx.get(f"{url}{repo(sandbox)}", headers={"Authorization": "Bearer ghp_wrong"})
    assert bad.status_code == 401 and bad.json()["message"] == "Bad credentials"
    assert httpx.get(f"{url}/user").status_code == 401
    missing = httpx.get(f"{url}{repo(sandbox)}")   # rule 9: no token is 401, as GitHub says (it was 404)
    assert missing.status_code == 401 and missing.json()["message"] == "Requires authentication"
    secrets_without_token = httpx.get(f"{url}{repo(sandbox)}/actions/secrets/public-key")
    assert secrets_without_token.status_code == 401
    other = api.get("/repos/acme/other-repo/actions/secrets/public-key")
    assert other.status_code == 404 and other.json()["message"] == "Not Found"
    assert api.get(repo(sandbox)).json()["full_name"] == sandbox.options.github_repository
    assert api.get("/user").json()["login"]


def test_missing_accept_and_version_headers_are_tolerated(sandbox):
    reply = httpx.get(f"{sandbox.urls['github']}{repo(sandbox)}",
                      headers={"Authorization": f"token {sandbox.options.github_token}"})
    assert reply.status_code == 200


def test_every_response_carries_rate_limit_headers(sandbox, api):
    first = api.get(repo(sandbox))
    for reply in (first, api.get("/repos/acme/nope"), httpx.get(f"{sandbox.urls['github']}/user")):
        assert reply.headers["x-ratelimit-remaining"].isdigit()
        assert int(reply.headers["x-ratelimit-reset"]) > 0
    assert int(api.get(repo(sandbox)).headers["x-ratelimit-remaining"]) < int(first.headers["x-ratelimit-remaining"])


# -- secrets ------------------------------------------------------------------------------------
def test_sealed_box_round_trip_201_then_204(sandbox, api):
    created = put_secret(sandbox, api, "NEW_SECRET", "value-one")
    assert created.status_code == 201 and created.json() == {}
    updated = put_secret(sandbox, api, "new_secret", "value-two")   # names are case-insensitive
    assert updated.status_code == 204 and updated.content == b""
    assert sandbox.github.secret_value("NEW_SECRET") == "value-two"
    meta = api.get(f"{repo(sandbox)}/actions/secrets/NEW_SECRET").json()
    assert meta["name"] == "NEW_SECRET" and STAMP.match(meta["updated_at"]) and STAMP.match(meta["created_at"])
    puts = sandbox.history.events("github", "secret.put")
    assert [(p["name"], p["environment"], p["fingerprint"], p["created"]) for p in puts] == [
        ("NEW_SECRET", None, fingerprint("value-one"), True), ("NEW_SECRET", None, fingerprint("value-two"), False)]


def test_seeded_secret_holds_the_same_old_session_as_vercel(sandbox, api):
    assert sandbox.github.secret_value("MTN_SESSION") == sandbox.vercel.seed_value
    assert put_secret(sandbox, api, "MTN_SESSION", "replacement").status_code == 204
    names = [s["name"] for s in api.get(f"{repo(sandbox)}/actions/secrets").json()["secrets"]]
    assert names == ["MTN_SESSION"]


def test_wrong_key_id_or_undecryptable_value_is_422(sandbox, api):
    base = f"{repo(sandbox)}/actions/secrets"
    key = api.get(f"{base}/public-key").json()
    wrong_id = api.put(f"{base}/MTN_SESSION", json={"encrypted_value": seal(key["key"], "x"), "key_id": "123"})
    assert wrong_id.status_code == 422
    foreign = PrivateKey.generate().public_key.encode(Base64Encoder).decode()
    undecryptable = api.put(f"{base}/MTN_SESSION", json={"encrypted_value": seal(foreign, "x"), "key_id": key["key_id"]})
    assert undecryptable.status_code == 422
    not_base64 = api.put(f"{base}/MTN_SESSION", json={"encrypted_value": "!!!", "key_id": key["key_id"]})
    assert not_base64.status_code == 422
    plaintext = api.put(f"{base}/MTN_SESSION", json={"encrypted_value": base64.b64encode(b"plain").decode(),
                                                     "key_id": key["key_id"]})
    assert plaintext.status_code == 422
    assert api.put(f"{base}/MTN_SESSION", json={"key_id": key["key_id"]}).status_code == 422
    assert sandbox.github.secret_value("MTN_SESSION") == sandbox.vercel.seed_value
    assert sandbox.history.events("github", "secret.put") == []


@pytest.mark.parametrize("name", ["GITHUB_SESSION", "github_token", "1SESSION", "MTN-SESSION", "MTN%20SESSION"])
def test_bad_secret_names_are_422(sandbox, api, name):
    assert put_secret(sandbox, api, name, "v").status_code == 422


def test_secrets_over_48_kb_are_422(sandbox, api):
    assert put_secret(sandbox, api, "BIG", "x" * (48 * 1024 + 1)).status_code == 422
    assert put_secret(sandbox, api, "BIG", "x" * (48 * 1024)).status_code == 201


def test_environment_secrets_have_their_own_key_and_need_a_known_environment(sandbox, api):
    repo_key = api.get(f"{repo(sandbox)}/actions/secrets/public-key").json()
    env_key = api.get(f"{repo(sandbox)}/environments/production/secrets/public-key").json()
    assert env_key["key_id"] != repo_key["key_id"] and env_key["key"] != repo_key["key"]
    assert put_secret(sandbox, api, "MTN_SESSION", "env-value", env="production").status_code == 201
    assert sandbox.github.secret_value("MTN_SESSION", "production") == "env-value"
    assert sandbox.github.secret_value("MTN_SESSION") == sandbox.vercel.seed_value
    assert sandbox.history.events("github", "secret.put")[-1]["environment"] == "production"
    # the repository key does not open environment secrets
    crossed = api.put(f"{repo(sandbox)}/environments/production/secrets/MTN_SESSION",
                      json={"encrypted_value": seal(repo_key["key"], "x"), "key_id": repo_key["key_id"]})
    assert crossed.status_code == 422
    assert api.get(f"{repo(sandbox)}/environments/staging/secrets/public-key").status_code == 404
    assert api.get(f"{repo(sandbox)}/environments/production").status_code == 200


# -- issues -------------------------------------------------------------------------------------
def test_issue_list_includes_the_seeded_pull_request(sandbox, api):
    items = api.get(f"{repo(sandbox)}/issues", params={"state": "open", "labels": "mtn-session"}).json()
    assert len(items) == 1 and "pull_request" in items[0]
    closed = api.get(f"{repo(sandbox)}/issues", params={"state": "closed", "labels": "mtn-session"}).json()
    assert [i["state_reason"] for i in closed] == ["completed"] and "pull_request" not in closed[0]
    assert api.get(f"{repo(sandbox)}/issues", params={"labels": "mtn-session,other"}).json() == []
    assert api.get(f"{repo(sandbox)}/issues", params={"state": "bogus"}).status_code == 422


def test_create_comment_and_close_an_issue(sandbox, api):
    assert api.post(f"{repo(sandbox)}/issues", json={"body": "no title"}).status_code == 422
    created = api.post(f"{repo(sandbox)}/issues", json={"title": "MTN session expired", "body": "details",
                                                        "labels": ["mtn-session"]})
    assert created.status_code == 201
    number = created.json()["number"]
    assert [lab["name"] for lab in created.json()["labels"]] == ["mtn-session"]
    open_items = api.get(f"{repo(sandbox)}/issues", params={"labels": "mtn-session"}).json()
    assert [i["number"] for i in open_items if "pull_request" not in i] == [number]

    assert api.post(f"{repo(sandbox)}/issues/{number}/comments", json={}).status_code == 422
    comment = api.post(f"{repo(sandbox)}/issues/{number}/comments", json={"body": "still expired"})
    assert comment.status_code == 201
    assert [c["body"] for c in api.get(f"{repo(sandbox)}/issues/{number}/comments").json()] == ["still expired"]
    assert api.post(f"{repo(sandbox)}/issues/999/comments", json={"body": "x"}).status_code == 404

    assert api.patch(f"{repo(sandbox)}/issues/{number}", json={"state": "done"}).status_code == 422
    assert api.patch(f"{repo(sandbox)}/issues/{number}", json={"state": "closed",
                                                              "state_reason": "fixed"}).status_code == 422
    closed = api.patch(f"{repo(sandbox)}/issues/{number}", json={"state": "closed", "state_reason": "completed"})
    assert closed.status_code == 200 and closed.json()["state"] == "closed"
    assert closed.json()["state_reason"] == "completed" and closed.json()["closed_at"]
    stored = next(i for i in sandbox.github.issues() if i["number"] == number)
    assert stored["state"] == "closed" and stored["comments"] == 1
    assert [c["body"] for c in sandbox.github.comments(number)] == ["still expired"]


# -- workflows ----------------------------------------------------------------------------------
def test_workflow_enable_disable_dispatch_and_runs(sandbox, api):
    wf = f"{repo(sandbox)}/actions/workflows/validate-mtn-session.yml"
    assert api.get(wf).json()["state"] == "active"
    latest = api.get(f"{wf}/runs", params={"per_page": 1}).json()
    assert latest["workflow_runs"][0]["event"] == "schedule"
    assert latest["workflow_runs"][0]["conclusion"] == "success"

    assert api.put(f"{wf}/disable").status_code == 204
    assert api.get(wf).json()["state"] == "disabled_manually"
    assert api.post(f"{wf}/dispatches", json={"ref": "main"}).status_code == 422
    assert api.put(f"{wf}/enable").status_code == 204
    assert api.post(f"{wf}/dispatches", json={}).status_code == 422
    assert api.post(f"{wf}/dispatches", json={"ref": "no-such-branch"}).status_code == 422
    sandbox.options.run_seconds = 30   # stays queued for this test
    assert api.post(f"{wf}/dispatches", json={"ref": "main"}).status_code == 204
    runs = api.get(f"{wf}/runs", params={"per_page": 1}).json()
    assert runs["total_count"] == 2 and len(runs["workflow_runs"]) == 1
    assert runs["workflow_runs"][0]["event"] == "workflow_dispatch" and runs["workflow_runs"][0]["status"] == "queued"
    assert api.get(f"{repo(sandbox)}/actions/workflows/other.yml").status_code == 404


def test_set_workflow_helper_and_admin_route(sandbox, api):
    wf = f"{repo(sandbox)}/actions/workflows/validate-mtn-session.yml"
    sandbox.github.set_workflow(state="disabled_inactivity")
    assert api.get(wf).json()["state"] == "disabled_inactivity"
    reply = httpx.post(f"{sandbox.urls['admin']}/admin/github/workflow",
                       json={"state": "active", "last_run": {"conclusion": "failure", "event": "schedule"}})
    assert reply.status_code == 200
    run = api.get(f"{wf}/runs", params={"per_page": 1}).json()["workflow_runs"][0]
    assert run["conclusion"] == "failure" and api.get(wf).json()["state"] == "active"
    secret = httpx.get(f"{sandbox.urls['admin']}/admin/github/secret/MTN_SESSION").json()
    assert secret["value"] == sandbox.vercel.seed_value and STAMP.match(secret["updated_at"])


@pytest.mark.parametrize("method, path", [
    ("POST", "/issues"), ("PATCH", "/issues/2"), ("POST", "/issues/2/comments"),
    ("PUT", "/actions/secrets/MTN_SESSION"), ("POST", "/actions/workflows/validate-mtn-session.yml/dispatches"),
])
def test_a_body_that_is_not_json_is_400(sandbox, api, method, path):
    response = api.request(method, f"{repo(sandbox)}{path}", content=b"{not json")
    assert response.status_code == 400
    assert response.json()["message"] == "Problems parsing JSON"


def test_deleting_a_comment_and_overlong_bodies(sandbox, api):
    r = repo(sandbox)
    number = api.post(f"{r}/issues", json={"title": "ledger", "body": "x"}).json()["number"]
    first = api.post(f"{r}/issues/{number}/comments", json={"body": "one"}).json()
    api.post(f"{r}/issues/{number}/comments", json={"body": "two"})
    assert api.delete(f"{r}/issues/comments/{first['id']}").status_code == 204
    again = api.delete(f"{r}/issues/comments/{first['id']}")
    assert again.status_code == 404 and again.json()["message"] == "Not Found"   # a second writer's delete
    assert [c["body"] for c in sandbox.github.comments(number)] == ["two"]
    long = "x" * 65537
    for response in (api.post(f"{r}/issues/{number}/comments", json={"body": long}),
                     api.patch(f"{r}/issues/{number}", json={"body": long}),
                     api.post(f"{r}/issues", json={"title": "t", "body": long})):
        assert response.status_code == 422
        assert response.json()["errors"][0]["message"] == "body is too long (maximum is 65536 characters)"
    assert api.patch(f"{r}/issues/{number}", json={"body": "x" * 65536}).status_code == 200


# -- rules 8 and 10: what the stand-in used to accept or invent ------------------------------------
def test_dispatch_with_inputs_the_workflow_does_not_declare_is_422(sandbox, api):
    wf = f"{repo(sandbox)}/actions/workflows/validate-mtn-session.yml"
    before = len(sandbox.github.runs())
    reply = api.post(f"{wf}/dispatches", json={"ref": "main", "inputs": {"force": "true"}})
    assert reply.status_code == 422 and reply.json()["message"].startswith("Unexpected inputs provided")
    assert len(sandbox.github.runs()) == before
    assert api.post(f"{wf}/dispatches", json={"ref": "main", "inputs": {}}).status_code == 204


def test_a_dispatched_run_moves_on_to_completed(sandbox, api):
    import time

    sandbox.options.run_seconds = 0.6
    wf = f"{repo(sandbox)}/actions/workflows/validate-mtn-session.yml"
    assert api.post(f"{wf}/dispatches", json={"ref": "main"}).status_code == 204
    seen = []
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and (not seen or seen[-1] != "completed"):
        run = api.get(f"{wf}/runs", params={"per_page": 1, "event": "workflow_dispatch"}).json()["workflow_runs"][0]
        if not seen or seen[-1] != run["status"]:
            seen.append(run["status"])
        time.sleep(0.05)
    assert seen[-1] == "completed" and run["conclusion"] == "success"
    assert "in_progress" in seen


def test_runs_are_filtered_by_branch_and_listed_for_the_repository(sandbox, api):
    wf = f"{repo(sandbox)}/actions/workflows/validate-mtn-session.yml"
    assert api.get(f"{wf}/runs", params={"branch": "main"}).json()["total_count"] == 1
    assert api.get(f"{wf}/runs", params={"branch": "feature"}).json()["total_count"] == 0
    everything = api.get(f"{repo(sandbox)}/actions/runs", params={"per_page": 20}).json()
    assert everything["total_count"] == 1 and everything["workflow_runs"][0]["event"] == "schedule"


def test_secret_names_keep_their_case_and_match_whatever_the_case(sandbox, api):
    """Rule 10: the stand-in upper-cased names; GitHub matches them case-insensitively."""
    assert put_secret(sandbox, api, "Mixed_Case", "v1").status_code == 201
    assert [s["name"] for s in api.get(f"{repo(sandbox)}/actions/secrets").json()["secrets"]] == \
        ["Mixed_Case", "MTN_SESSION"]
    assert put_secret(sandbox, api, "MIXED_CASE", "v2").status_code == 204   # the same secret
    assert sandbox.github.secret_value("mixed_case") == "v2"
    assert api.get(f"{repo(sandbox)}/actions/secrets/MIXED_CASE").json()["name"] == "Mixed_Case"


# -- what the real gh needs (tests/test_fidelity_gh.py runs gh itself) --------------------------
@pytest.mark.tls
def test_https_listener_serves_rest_under_api_v3_with_the_sandbox_ca(sandbox):
    headers = {"Authorization": f"token {sandbox.options.github_token}"}
    url = sandbox.urls["github_tls"]
    assert url.startswith("https://127.0.0.1:")
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{url}/api/v3{repo(sandbox)}", headers=headers)   # not trusted without the CA
    reply = httpx.get(f"{url}/api/v3{repo(sandbox)}", headers=headers, verify=ssl.create_default_context(cafile=str(sandbox.certificates.ca_file)))
    assert reply.status_code == 200 and reply.json()["default_branch"] == "main"
    assert [r["service"] for r in sandbox.history.requests()][-1] == "github"


def test_graphql_lists_issues_without_pull_requests_and_creates_one(sandbox):
    url = f"{sandbox.urls['github']}/api/graphql"
    headers = {"Authorization": f"bearer {sandbox.options.github_token}"}
    listed = httpx.post(url, headers=headers, json={
        "query": "query IssueList($owner: String!) { repository { issues { nodes { number } } } }",
        "variables": {"owner": "acme", "repo": "mtn-app", "states": ["OPEN", "CLOSED"], "limit": 30}})
    numbers = [n["number"] for n in listed.json()["data"]["repository"]["issues"]["nodes"]]
    assert numbers == [2]   # the seeded PR #1 is not an issue to GraphQL
    made = httpx.post(url, headers=headers, json={
        "query": "mutation IssueCreate($input: CreateIssueInput!) { createIssue(input: $input) { issue { url } } }",
        "variables": {"input": {"repositoryId": "R_kgDOSandbox", "title": "MTN session expired",
                                "labelIds": ["LA_mtn-session"]}}})
    assert made.json()["data"]["createIssue"]["issue"]["url"].endswith("/issues/3")
    assert sandbox.github.issues()[-1]["labels"][0]["name"] == "mtn-session"
    unknown = httpx.post(url, headers=headers, json={"query": "query Whatever { viewer { login } }"})
    assert unknown.json()["errors"][0]["message"].startswith("sandbox: GraphQL operation Whatever")
    assert httpx.post(url, json={"query": "query IssueList { x }"}).status_code == 401

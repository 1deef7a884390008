"""The Vercel stand-in rejects what the real API rejects, and deployments snapshot the env."""

from __future__ import annotations

import time

import httpx
import pytest

from mtn_runbook.core.session import fingerprint

FINAL = ("READY", "ERROR", "CANCELED")


@pytest.fixture
def api(sandbox):
    o = sandbox.options
    with httpx.Client(base_url=sandbox.urls["vercel"], headers={"Authorization": f"Bearer {o.vercel_token}"},
                      params={"teamId": o.vercel_team_id}, timeout=10) as client:
        yield client


def env_path(sandbox, version: str = "v10", env_id: str | None = None) -> str:
    path = f"/{version}/projects/{sandbox.options.vercel_project_id}/env"
    return f"{path}/{env_id}" if env_id else path


def mtn_var(sandbox) -> dict:
    return next(e for e in sandbox.vercel.env_vars() if e["key"] == "MTN_SESSION")


def wait_final(api, dep_id: str) -> dict:
    deadline = time.monotonic() + 15
    seen = []
    while time.monotonic() < deadline:
        dep = api.get(f"/v13/deployments/{dep_id}").json()
        if not seen or seen[-1] != dep["readyState"]:
            seen.append(dep["readyState"])
        if dep["readyState"] in FINAL:
            dep["seen"] = seen
            return dep
        time.sleep(0.05)
    raise AssertionError(f"deployment never finished: {seen}")


def redeploy(sandbox, api, **body) -> dict:
    prod = api.get(f"/v9/projects/{sandbox.options.vercel_project_id}").json()["targets"]["production"]
    payload = {"name": sandbox.options.vercel_project_name, "deploymentId": prod["id"], "target": "production",
               "meta": {"action": "redeploy"}, **body}
    reply = api.post("/v13/deployments", params={"forceNew": "1"}, json={k: v for k, v in payload.items() if v is not None})
    assert reply.status_code == 200, reply.text
    return reply.json()


# -- auth and scope --------------------------------------------------------------------------
def test_missing_or_bad_token_is_403_not_401(sandbox):
    url = sandbox.urls["vercel"]
    missing = httpx.get(f"{url}/v2/user")
    assert missing.status_code == 403 and missing.json()["error"]["missingToken"] is True
    bad = httpx.get(f"{url}/v2/user", headers={"Authorization": "Bearer not-the-token"})
    assert bad.status_code == 403 and bad.json()["error"]["invalidToken"] is True
    good = httpx.get(f"{url}/v2/user", headers={"Authorization": f"Bearer {sandbox.options.vercel_token}"})
    assert good.status_code == 200 and good.json()["user"]["username"]


def test_team_project_is_found_only_with_team_id(sandbox, api):
    o = sandbox.options
    headers = {"Authorization": f"Bearer {o.vercel_token}"}
    no_team = httpx.get(f"{sandbox.urls['vercel']}/v9/projects/{o.vercel_project_id}", headers=headers)
    assert no_team.status_code == 404 and no_team.json()["error"]["code"] == "not_found"
    assert httpx.get(f"{sandbox.urls['vercel']}{env_path(sandbox)}", headers=headers).status_code == 404
    assert api.get(f"/v9/projects/{o.vercel_project_id}", params={"teamId": "team_other"}).status_code == 403
    by_name = api.get(f"/v9/projects/{o.vercel_project_name}")
    assert by_name.status_code == 200 and by_name.json()["id"] == o.vercel_project_id
    assert api.get("/v9/projects/prj_unknown").status_code == 404


# -- env vars -----------------------------------------------------------------------------------
def test_seeded_session_is_encrypted_for_production_and_preview(sandbox):
    var = mtn_var(sandbox)
    assert var["type"] == "encrypted" and var["target"] == ["production", "preview"]
    assert sandbox.vercel.env_value("MTN_SESSION") == sandbox.vercel.seed_value
    assert sandbox.vercel.production_env()["MTN_SESSION"] == sandbox.vercel.seed_value


def test_list_shows_ciphertext_and_get_one_decrypts(sandbox, api):
    plain = sandbox.vercel.env_value("MTN_SESSION")
    for params in ({}, {"decrypt": "true"}):
        envs = api.get(env_path(sandbox), params=params).json()["envs"]
        listed = next(e for e in envs if e["key"] == "MTN_SESSION")
        assert listed["value"] and listed["value"] != plain and plain not in listed["value"]
        assert listed["decrypted"] is False
    one = api.get(env_path(sandbox, "v1", listed["id"])).json()
    assert one["decrypted"] is True and one["value"] == plain
    assert api.get(env_path(sandbox, "v1", "nope")).status_code == 404


def test_duplicate_without_upsert_is_a_400_env_conflict(sandbox, api):
    """Rule 5: a create where every item failed is a 400 ENV_CONFLICT, not a 201 (it was a 201)."""
    before = sandbox.vercel.env_value("MTN_SESSION")
    reply = api.post(env_path(sandbox), json={"key": "MTN_SESSION", "value": "new-value", "type": "encrypted",
                                              "target": ["production"]})
    assert reply.status_code == 400, reply.text
    err = reply.json()["error"]
    assert err["code"] == "ENV_CONFLICT" and err["envVarId"] == mtn_var(sandbox)["id"]
    assert sandbox.vercel.env_value("MTN_SESSION") == before


def test_a_batch_where_only_some_items_failed_is_a_201_that_carries_them(sandbox, api):
    reply = api.post(env_path(sandbox), json=[
        {"key": "MTN_SESSION", "value": "new-value", "type": "encrypted", "target": ["production"]},
        {"key": "OTHER_VAR", "value": "v", "type": "plain", "target": ["production"]}])
    assert reply.status_code == 201, reply.text
    body = reply.json()
    assert [c["key"] for c in body["created"]] == ["OTHER_VAR"]
    assert body["failed"][0]["error"]["code"] == "ENV_CONFLICT"
    assert sandbox.vercel.env_value("MTN_SESSION") == sandbox.vercel.seed_value


def test_upsert_replaces_in_place_and_is_recorded(sandbox, api):
    old_id = mtn_var(sandbox)["id"]
    reply = api.post(env_path(sandbox), params={"upsert": "true"},
                     json={"key": "MTN_SESSION", "value": "fresh", "type": "encrypted", "target": ["production", "preview"]})
    assert reply.status_code == 201 and reply.json()["failed"] == []
    assert reply.json()["created"]["id"] == old_id
    assert sandbox.vercel.env_value("MTN_SESSION") == "fresh"
    assert sandbox.vercel.env_value("MTN_SESSION", "preview") == "fresh"
    change = sandbox.history.events("vercel", "env.change")[-1]
    assert change["key"] == "MTN_SESSION" and change["action"] == "upsert"
    assert change["fingerprint"] == fingerprint("fresh") and change["production_has"] is True
    assert change["targets"] == ["production", "preview"] and change["type"] == "encrypted" and change["t"] > 0


def test_upsert_keeps_the_targets_and_refuses_a_sensitive_type_change(sandbox, api):
    """Rule 3: upsert used to replace the type (sensitive -> encrypted) and the targets."""
    created = api.post(env_path(sandbox), json={"key": "API_SECRET", "value": "first", "type": "sensitive",
                                                "target": ["production", "preview"]})
    assert created.status_code == 201, created.text
    retype = api.post(env_path(sandbox), params={"upsert": "true"},
                      json={"key": "API_SECRET", "value": "second", "type": "encrypted", "target": ["production"]})
    assert retype.status_code == 400 and "Sensitive" in retype.json()["error"]["message"]
    var = next(e for e in sandbox.vercel.env_vars() if e["key"] == "API_SECRET")
    assert var["type"] == "sensitive" and var["value"] == "first"
    same_type = api.post(env_path(sandbox), params={"upsert": "true"},
                         json={"key": "API_SECRET", "value": "third", "type": "sensitive", "target": ["production"]})
    assert same_type.status_code == 201, same_type.text
    var = next(e for e in sandbox.vercel.env_vars() if e["key"] == "API_SECRET")
    assert var["value"] == "third" and var["target"] == ["production", "preview"]
    assert sandbox.vercel.env_value("API_SECRET", "preview") == "third"


def test_an_empty_value_is_stored_as_vercel_does(sandbox, api):
    """Rule 10: Vercel stores "" (the CLI has been seen to exit 0 doing so); the stand-in refused it."""
    reply = api.post(env_path(sandbox), json={"key": "X_EMPTY", "value": "", "type": "encrypted",
                                              "target": ["production"]})
    assert reply.status_code == 201, reply.text
    assert sandbox.vercel.env_value("X_EMPTY") == ""
    var = mtn_var(sandbox)
    assert api.patch(env_path(sandbox, "v9", var["id"]), json={"value": ""}).status_code == 200
    assert sandbox.vercel.env_value("MTN_SESSION") == ""


@pytest.mark.parametrize("item, words", [
    ({"key": "X_EXTRA", "value": "v", "type": "plain", "target": ["production"], "force": True}, "additional"),
    ({"key": "X_STRTARGET", "value": "v", "type": "plain", "target": "production"}, "target"),
    ({"key": "X_NUM", "value": 42, "type": "encrypted", "target": ["production"]}, "string"),
    ({"key": "X_NOTYPE", "value": "v", "target": ["production"]}, "type"),
    ({"key": "X_NOTARGET", "value": "v", "type": "plain"}, "target"),
    ({"key": "X_BADTARGET", "value": "v", "type": "plain", "target": ["staging"]}, "target"),
    ({"key": "1BAD", "value": "v", "type": "plain", "target": ["production"]}, "invalid characters"),
    ({"key": "X_TYPE", "value": "v", "type": "secretish", "target": ["production"]}, "type"),
    ({"key": "X_SENS", "value": "v", "type": "sensitive", "target": ["development"]}, "Development"),
])
def test_invalid_env_bodies_are_400(sandbox, api, item, words):
    reply = api.post(env_path(sandbox), params={"upsert": "true"}, json=item)
    assert reply.status_code == 400, reply.text
    assert words in reply.json()["error"]["message"]
    assert sandbox.vercel.env_value(item["key"]) is None


def test_sensitive_vars_never_return_their_value_and_refuse_key_and_type_edits(sandbox, api):
    created = api.post(env_path(sandbox), json={"key": "API_SECRET", "value": "s3cret-value", "type": "sensitive",
                                                "target": ["production", "preview"]})
    assert created.status_code == 201 and created.json()["failed"] == []
    env_id = created.json()["created"]["id"]
    listed = next(e for e in api.get(env_path(sandbox)).json()["envs"] if e["id"] == env_id)
    assert "s3cret-value" not in str(listed)
    one = api.get(env_path(sandbox, "v1", env_id)).json()
    assert "value" not in one and one["decrypted"] is False

    with_key = api.patch(env_path(sandbox, "v9", env_id), json={"key": "API_SECRET", "value": "other"})
    assert with_key.status_code == 400
    retype = api.patch(env_path(sandbox, "v9", env_id), json={"type": "encrypted", "value": "other"})
    assert retype.status_code == 400
    to_dev = api.patch(env_path(sandbox, "v9", env_id), json={"target": ["development"], "value": "other"})
    assert to_dev.status_code == 400
    assert sandbox.vercel.env_value("API_SECRET") == "s3cret-value"

    ok = api.patch(env_path(sandbox, "v9", env_id), json={"value": "rotated", "target": ["production", "preview"]})
    assert ok.status_code == 200, ok.text
    assert sandbox.vercel.env_value("API_SECRET") == "rotated"


def test_patch_edits_in_place_and_rejects_bad_bodies(sandbox, api):
    """Rule 4 for PATCH: an unknown field or a string `target` is a 400 (both used to pass)."""
    var = mtn_var(sandbox)
    assert api.patch(env_path(sandbox, "v9", var["id"]), json={"value": None}).status_code == 400
    extra = api.patch(env_path(sandbox, "v9", var["id"]), json={"value": "x", "upsert": True})
    assert extra.status_code == 400 and "additional property" in extra.json()["error"]["message"]
    as_string = api.patch(env_path(sandbox, "v9", var["id"]), json={"value": "x", "target": "production"})
    assert as_string.status_code == 400
    assert sandbox.vercel.env_value("MTN_SESSION") == sandbox.vercel.seed_value
    assert mtn_var(sandbox)["target"] == ["production", "preview"]
    reply = api.patch(env_path(sandbox, "v9", var["id"]), json={"key": "MTN_SESSION", "value": "patched",
                                                                 "type": "encrypted", "target": ["production", "preview"]})
    assert reply.status_code == 200 and reply.json()["id"] == var["id"]
    assert sandbox.vercel.env_value("MTN_SESSION") == "patched"
    assert "patched" not in reply.text  # encrypted: ciphertext in the answer
    assert sandbox.history.events("vercel", "env.change")[-1]["production_has"] is True


def test_delete_then_add_is_visible_in_history(sandbox, api):
    """The hazard the guide's rm-then-add has: history shows the moment production lacked MTN_SESSION."""
    var = mtn_var(sandbox)
    assert api.delete(env_path(sandbox, "v9", var["id"])).status_code == 200
    api.post(env_path(sandbox), json={"key": "MTN_SESSION", "value": "readded", "type": "sensitive",
                                      "target": ["production"]})
    changes = sandbox.history.events("vercel", "env.change")
    assert [c["production_has"] for c in changes] == [False, True]
    assert sandbox.vercel.env_value("MTN_SESSION", "preview") is None


# -- deployments --------------------------------------------------------------------------------
def test_redeploy_goes_queued_building_ready_and_becomes_production(sandbox, api):
    old_prod = sandbox.vercel.production_deployment()["id"]
    dep = redeploy(sandbox, api)
    assert dep["readyState"] == "QUEUED" and dep["target"] == "production"
    done = wait_final(api, dep["id"])
    assert done["readyState"] == "READY" and "BUILDING" in done["seen"]
    project = api.get(f"/v9/projects/{sandbox.options.vercel_project_id}").json()
    assert project["targets"]["production"]["id"] == dep["id"] != old_prod
    listed = api.get("/v6/deployments", params={"projectId": sandbox.options.vercel_project_id,
                                                "target": "production"}).json()["deployments"]
    assert listed[0]["uid"] == dep["id"] and listed[0]["state"] == "READY"


def test_env_change_reaches_production_only_through_a_new_deployment(sandbox, api):
    seed = sandbox.vercel.seed_value
    sandbox.vercel.set_env("MTN_SESSION", "next-session")
    assert sandbox.vercel.production_env()["MTN_SESSION"] == seed
    dep = redeploy(sandbox, api)
    assert sandbox.vercel.production_env()["MTN_SESSION"] == seed  # still building: old deployment serves
    wait_final(api, dep["id"])
    assert sandbox.vercel.production_env()["MTN_SESSION"] == "next-session"
    created = sandbox.history.events("vercel", "deployment.create")[-1]
    assert created["fingerprint"] == fingerprint("next-session")


def test_redeploy_without_target_is_a_preview_that_never_becomes_production(sandbox, api):
    prod = sandbox.vercel.production_deployment()["id"]
    dep = redeploy(sandbox, api, target=None)
    assert dep["target"] is None
    assert wait_final(api, dep["id"])["readyState"] == "READY"
    assert sandbox.vercel.production_deployment()["id"] == prod


@pytest.mark.parametrize("outcome", ["ERROR", "CANCELED"])
def test_failed_deployments_carry_a_message_and_leave_production_alone(sandbox, api, outcome):
    prod = sandbox.vercel.production_deployment()["id"]
    reply = httpx.post(f"{sandbox.urls['admin']}/admin/options", json={"next_deploy_state": outcome})
    assert reply.status_code == 200
    done = wait_final(api, redeploy(sandbox, api)["id"])
    assert done["readyState"] == outcome and done["errorMessage"] and done["inspectorUrl"].startswith("https://")
    assert sandbox.vercel.production_deployment()["id"] == prod


def test_redeploy_rejects_an_unknown_deployment_and_a_missing_team(sandbox, api):
    prod = sandbox.vercel.production_deployment()["id"]
    body = {"name": sandbox.options.vercel_project_name, "deploymentId": "dpl_nope", "target": "production"}
    assert api.post("/v13/deployments", json=body).status_code == 404
    body["deploymentId"] = prod
    no_team = httpx.post(f"{sandbox.urls['vercel']}/v13/deployments", json=body,
                         headers={"Authorization": f"Bearer {sandbox.options.vercel_token}"})
    assert no_team.status_code == 404
    assert len(sandbox.vercel.deployments()) == 1


def test_admin_routes_seed_and_read_env(sandbox):
    admin = sandbox.urls["admin"]
    reply = httpx.post(f"{admin}/admin/vercel/env", json={"key": "MTN_SESSION", "value": "from-admin"})
    assert reply.status_code == 201
    got = httpx.get(f"{admin}/admin/vercel/env/MTN_SESSION").json()
    assert got["value"] == "from-admin" and got["fingerprint"] == fingerprint("from-admin")
    assert httpx.post(f"{admin}/admin/vercel/env", json={"key": "X", "value": "v", "target": "production"}).status_code == 400
    prod = httpx.get(f"{admin}/admin/vercel/production").json()["deployment"]
    assert prod["readyState"] == "READY" and prod["env"]["MTN_SESSION"] == sandbox.vercel.seed_value
    state = httpx.get(f"{admin}/admin/state").json()["vercel"]
    assert state["production"] == prod["id"] and "from-admin" not in str(state)


def test_the_seeded_session_is_dead_and_listed_for_leak_checks(sandbox):
    seeded = sandbox.vercel.seed_session
    api_cookie = next(c for c in seeded["cookies"] if c["domain"] == "localhost")
    assert not sandbox.mtn.is_live(api_cookie["value"])
    assert {sandbox.vercel.seed_value, api_cookie["value"]} <= sandbox.vercel.secret_values()


def test_a_redeploy_may_carry_another_name_and_stays_in_the_project(sandbox, api):
    """Rule 10: the name is the deployment's, not a key to the project (the stand-in demanded the project's)."""
    dep = redeploy(sandbox, api, name="mtn-app-redeploy")
    assert dep["name"] == "mtn-app-redeploy" and dep["projectId"] == sandbox.options.vercel_project_id
    assert wait_final(api, dep["id"])["readyState"] == "READY"
    assert sandbox.vercel.production_deployment()["id"] == dep["id"]


# -- what the real vercel CLI needs (tests/test_fidelity_vercel_cli.py runs the CLI itself) -----------
def test_teams_and_the_team_slug(sandbox, api):
    o = sandbox.options
    headers = {"Authorization": f"Bearer {o.vercel_token}"}
    url = sandbox.urls["vercel"]
    for path in (f"/teams/{o.vercel_team_id}", f"/teams/{o.vercel_team_slug}", f"/v2/teams/{o.vercel_team_id}"):
        team = httpx.get(url + path, headers=headers)
        assert team.status_code == 200 and team.json()["slug"] == o.vercel_team_slug
    assert httpx.get(f"{url}/teams/team_other", headers=headers).status_code == 404
    listed = httpx.get(f"{url}/v1/teams", headers=headers).json()["teams"]
    assert [t["id"] for t in listed] == [o.vercel_team_id]
    assert httpx.get(f"{url}/v1/teams").status_code == 403
    by_slug = httpx.get(f"{url}/v9/projects/{o.vercel_project_id}", headers=headers, params={"slug": o.vercel_team_slug})
    assert by_slug.status_code == 200, by_slug.text   # rule 10: slug= in place of teamId
    other = httpx.get(f"{url}/v9/projects/{o.vercel_project_id}", headers=headers, params={"slug": "other-team"})
    assert other.status_code == 403


def test_v10_edits_and_removes_and_deployments_carry_the_team(sandbox, api):
    var = mtn_var(sandbox)
    assert api.patch(env_path(sandbox, "v10", var["id"]), json={"target": ["preview"]}).status_code == 200
    assert mtn_var(sandbox)["target"] == ["preview"] and sandbox.vercel.env_value("MTN_SESSION") is None
    assert api.delete(env_path(sandbox, "v10", var["id"])).status_code == 200
    assert not [e for e in sandbox.vercel.env_vars() if e["key"] == "MTN_SESSION"]
    dep = api.get(f"/v13/deployments/{sandbox.vercel.production_deployment()['id']}").json()
    assert dep["ownerId"] == sandbox.options.vercel_team_id and dep["team"]["id"] == sandbox.options.vercel_team_id
    customs = api.get(f"/projects/{sandbox.options.vercel_project_id}/custom-environments")
    assert customs.status_code == 200 and customs.json()["environments"] == []


def test_the_sandbox_token_is_one_the_vercel_cli_accepts(sandbox):
    import re
    assert re.fullmatch(r"[A-Za-z0-9]+", sandbox.options.vercel_token)


def test_the_env_list_is_filtered_by_target(sandbox, api):
    """The vercel CLI's `env rm X production` lists with ?target=production and removes what it gets."""
    sandbox.vercel.set_env("ONLY_PREVIEW", "p", target=["preview"])
    keys = {e["key"] for e in api.get(env_path(sandbox), params={"target": "production"}).json()["envs"]}
    assert keys == {"MTN_SESSION"}
    keys = {e["key"] for e in api.get(env_path(sandbox)).json()["envs"]}
    assert keys == {"MTN_SESSION", "ONLY_PREVIEW"}

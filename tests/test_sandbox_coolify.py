"""The Coolify stand-in rejects what Coolify 4.3.11's API rejects (docs/coolify-api.md): one test per rule."""

from __future__ import annotations

import os
import subprocess
import time

import httpx
import pytest

from mtn_runbook.sandbox import Sandbox

pytestmark = pytest.mark.e2e   # every test here starts a sandbox of its own (the `sb` fixture)


@pytest.fixture
def sb():
    with Sandbox(production="coolify", deploy_seconds=1.2) as sandbox:
        yield sandbox


def api(sb, token: str | None = "default") -> httpx.Client:
    token = sb.options.coolify_token if token == "default" else token
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.Client(base_url=sb.urls["coolify"] + "/api/v1", headers=headers, timeout=10)


def envs_path(sb) -> str:
    return f"/applications/{sb.options.coolify_app_uuid}/envs"


def production_var(sb, key="MTN_SESSION") -> dict:
    return next(e for e in sb.coolify.variables() if e["key"] == key and not e["is_preview"])


def test_rule_a_missing_or_unknown_bearer_token_is_401_unauthenticated(sb):
    for token in (None, "3|wrong"):
        with api(sb, token) as c:
            r = c.get(envs_path(sb))
        assert (r.status_code, r.json()) == (401, {"message": "Unauthenticated."})


def test_rule_a_token_without_the_ability_is_403_missing_required_permissions(sb):
    sb.options.coolify_abilities = "read"
    with api(sb) as c:
        r = c.patch(envs_path(sb), json={"key": "MTN_SESSION", "value": "x"})
        d = c.post("/deploy", params={"uuid": sb.options.coolify_app_uuid})
    assert (r.status_code, r.json()["message"]) == (403, "Missing required permissions: write")
    assert (d.status_code, d.json()["message"]) == (403, "Missing required permissions: deploy")


def test_rule_values_are_hidden_without_read_sensitive_and_for_is_shown_once(sb):
    sb.options.coolify_abilities = "read,write,deploy"
    with api(sb) as c:
        listed = c.get(envs_path(sb)).json()
    assert listed and all("value" not in e and "real_value" not in e for e in listed)
    sb.options.coolify_abilities = "root"
    sb.coolify.set_env("MTN_SESSION", "abc", is_shown_once=True)
    with api(sb) as c:
        listed = c.get(envs_path(sb)).json()
    mtn = [e for e in listed if e["key"] == "MTN_SESSION" and not e["is_preview"]][0]
    assert "value" not in mtn and mtn["is_shown_once"] is True


def test_rule_envs_list_production_variables_first_then_preview_copies(sb):
    with api(sb) as c:
        listed = c.get(envs_path(sb)).json()
    flags = [e["is_preview"] for e in listed]
    assert flags == sorted(flags) and True in flags and False in flags


def test_rule_an_unknown_application_is_404_application_not_found(sb):
    with api(sb) as c:
        r = c.get("/applications/nope/envs")
        d = c.post("/deploy", params={"uuid": "nope"})
    assert (r.status_code, r.json()) == (404, {"message": "Application not found"})
    assert (d.status_code, d.json()) == (404, {"message": "No resources found."})


def test_rule_post_on_an_existing_key_is_409_use_patch(sb):
    with api(sb) as c:
        r = c.post(envs_path(sb), json={"key": "MTN_SESSION", "value": "x"})
    assert r.status_code == 409 and "Use PATCH request to update it" in r.json()["message"]


def test_rule_post_creates_201_with_uuid_and_a_preview_copy(sb):
    with api(sb) as c:
        r = c.post(envs_path(sb), json={"key": "NEW_ONE", "value": "v", "is_literal": True, "is_shown_once": True})
    assert r.status_code == 201 and list(r.json()) == ["uuid"]
    made = [e for e in sb.coolify.variables() if e["key"] == "NEW_ONE"]
    assert sorted(e["is_preview"] for e in made) == [False, True]
    preview = next(e for e in made if e["is_preview"])
    assert preview["is_literal"] is True and preview["is_shown_once"] is False   # the model copies all but shown-once


def test_rule_patch_answers_201_and_a_missing_key_is_404(sb):
    with api(sb) as c:
        ok = c.patch(envs_path(sb), json={"key": "MTN_SESSION", "value": "new"})
        missing = c.patch(envs_path(sb), json={"key": "NOT_THERE", "value": "x"})
    assert ok.status_code == 201 and ok.json()["value"] == "new"
    assert (missing.status_code, missing.json()) == (404, {"message": "Environment variable not found."})


def test_rule_a_patch_that_leaves_out_the_flags_resets_them_but_keeps_runtime_and_buildtime(sb):
    sb.coolify.set_env("MTN_SESSION", "abc", is_literal=True, is_multiline=True, is_shown_once=True,
                       is_runtime=True, is_buildtime=False)
    with api(sb) as c:
        assert c.patch(envs_path(sb), json={"key": "MTN_SESSION", "value": "def"}).status_code == 201
    var = production_var(sb)
    assert (var["is_literal"], var["is_multiline"], var["is_shown_once"]) == (False, False, False)
    assert (var["is_runtime"], var["is_buildtime"]) == (True, False)


def test_rule_values_are_trimmed_and_an_empty_value_becomes_null(sb):
    with api(sb) as c:
        c.patch(envs_path(sb), json={"key": "MTN_SESSION", "value": "  padded \n"})
        assert production_var(sb)["value"] == "padded"
        c.patch(envs_path(sb), json={"key": "MTN_SESSION", "value": ""})
    assert production_var(sb)["value"] is None


def test_rule_validation_is_422_with_messages_per_field_and_unknown_fields_refused(sb):
    with api(sb) as c:
        r = c.patch(envs_path(sb), json={"key": "9 bad", "value": 3, "is_literal": "yes", "type": "secret"})
        missing_key = c.post(envs_path(sb), json={"value": "x"})
    assert r.status_code == 422 and r.json()["message"] == "Validation failed."
    errors = r.json()["errors"]
    assert set(errors) == {"key", "value", "is_literal", "type"}
    assert errors["type"] == ["This field is not allowed."]
    assert missing_key.status_code == 422 and missing_key.json()["errors"]["key"] == ["The key field is required."]


def test_rule_deploy_is_post_only_a_get_is_405(sb):
    with api(sb) as c:
        r = c.get("/deploy", params={"uuid": sb.options.coolify_app_uuid})
    assert r.status_code == 405 and r.headers["allow"] == "POST"


def test_rule_while_a_deployment_runs_a_new_one_is_already_queued_with_an_id_that_does_not_exist(sb):
    with api(sb) as c:
        first = c.post("/deploy", params={"uuid": sb.options.coolify_app_uuid}).json()["deployments"][0]
        second = c.post("/deploy", params={"uuid": sb.options.coolify_app_uuid}).json()["deployments"][0]
        assert second["message"] == "Deployment already queued for this commit."
        assert c.get(f"/deployments/{second['deployment_uuid']}").status_code == 404
        assert c.get(f"/deployments/{first['deployment_uuid']}").status_code == 200


def test_rule_deployments_go_queued_in_progress_then_finished_or_failed(sb):
    seen = []
    with api(sb) as c:
        for final in ("finished", "failed"):
            sb.options.coolify_deploy_state = final
            dep = c.post("/deploy", params={"uuid": sb.options.coolify_app_uuid}).json()["deployments"][0]
            states = []
            while not states or states[-1] in ("queued", "in_progress"):
                status = c.get(f"/deployments/{dep['deployment_uuid']}").json()["status"]
                if not states or states[-1] != status:
                    states.append(status)
                time.sleep(0.05)
            seen.append(states)
    assert seen == [["queued", "in_progress", "finished"], ["queued", "in_progress", "failed"]]


def test_rule_the_container_reads_the_environment_written_when_its_deployment_started(sb):
    with api(sb) as c:
        c.patch(envs_path(sb), json={"key": "MTN_SESSION", "value": "before-start"})
        assert sb.coolify.running_env()["MTN_SESSION"] != "before-start"   # a push alone is not live
        dep = c.post("/deploy", params={"uuid": sb.options.coolify_app_uuid}).json()["deployments"][0]
        while c.get(f"/deployments/{dep['deployment_uuid']}").json()["status"] == "queued":
            time.sleep(0.02)
        c.patch(envs_path(sb), json={"key": "MTN_SESSION", "value": "after-start"})   # too late for it
        while c.get(f"/deployments/{dep['deployment_uuid']}").json()["status"] != "finished":
            time.sleep(0.05)
    assert sb.coolify.running_env()["MTN_SESSION"] == "before-start"


def test_rule_a_failed_deployment_leaves_the_running_container(sb):
    before = sb.coolify.running_env()
    sb.options.coolify_deploy_state = "failed"
    with api(sb) as c:
        c.patch(envs_path(sb), json={"key": "MTN_SESSION", "value": "never-live"})
        dep = c.post("/deploy", params={"uuid": sb.options.coolify_app_uuid}).json()["deployments"][0]
        while c.get(f"/deployments/{dep['deployment_uuid']}").json()["status"] != "failed":
            time.sleep(0.05)
    assert sb.coolify.running_env() == before


def test_the_app_serves_from_coolify_in_coolify_mode_and_env_points_there(sb):
    env = sb.env()
    assert env["COOLIFY_API_URL"] == sb.urls["coolify"] and "VERCEL_TOKEN" not in env
    auth = httpx.get(f"{sb.urls['app']}/api/mtn-wholesale/auth", timeout=10).json()
    assert auth["sessionId"] == sb.coolify.seed_session["sessionId"]


def test_inv_sandbox_production_coolify_prints_the_coolify_settings(tmp_path, capsys):
    import threading

    from mtn_runbook.sandbox.__main__ import serve

    stop, env_file = threading.Event(), tmp_path / "sandbox.env"
    thread = threading.Thread(target=serve, kwargs={"captcha_delay": -1, "env_file": str(env_file), "stop": stop,
                                                    "production": "coolify"})
    thread.start()
    try:
        for _ in range(200):
            if env_file.exists():
                break
            time.sleep(0.05)
        # read as rehearsal.md has the person do it: `set -a; . .cache/sandbox.env; set +a`
        sourced = subprocess.run(["bash", "-c", f"set -a; . {env_file}; set +a; env -0"], capture_output=True,
                                 env={"PATH": os.environ["PATH"]})
        written = dict(item.split("=", 1) for item in sourced.stdout.decode().split("\0") if "=" in item)
    finally:
        stop.set()
        thread.join(timeout=15)
    # walked: the token `3|…` was written unquoted, so sourcing ran a pipe ("command not found")
    # and left COOLIFY_TOKEN unset; every task then refused the shell
    assert sourced.stderr == b"", sourced.stderr
    assert written["COOLIFY_TOKEN"] == "3|coolifySandboxToken5v8n"
    assert written["COOLIFY_API_URL"].startswith("http://127.0.0.1:") and written["COOLIFY_APP_UUID"]
    assert written["COOLIFY_TOKEN"] and written["VERCEL_TOKEN"] == "" and written["VERCEL_PROJECT_ID"] == ""
    assert "export COOLIFY_API_URL=" in capsys.readouterr().out

"""recover and refresh with production on Coolify: alone, and with the GitHub secret beside it."""

from __future__ import annotations

import httpx
from test_push_coolify import sandbox  # noqa: F401  (the Coolify sandbox fixture: overrides conftest's)

from mtn_runbook.core import session as sessions
from mtn_runbook.core.pushed import app_value

NO_GITHUB = {"GITHUB_TOKEN": None, "GITHUB_REPOSITORY": None, "GITHUB_API_URL": None}


def save_minted(sandbox, workdir) -> sessions.Session:
    minted = sessions.Session.from_dict(sandbox.mtn.mint_session(), "minted")
    sessions.save(workdir / ".cache" / "mtn-session.json", minted)
    return minted


def saved(workdir) -> sessions.Session:
    return sessions.load(workdir / ".cache" / "mtn-session.json")[0]


def pushed(sandbox, session) -> str:
    return app_value(session, sandbox.urls["mtn_api"])[0].encode()


def coolify_value(sandbox) -> str:
    return next(e["value"] for e in sandbox.coolify.variables() if e["key"] == "MTN_SESSION" and not e["is_preview"])


def production_serves(sandbox, session) -> bool:
    auth = httpx.get(f"{sandbox.urls['app']}/api/mtn-wholesale/auth", timeout=10).json()
    products = httpx.get(f"{sandbox.urls['app']}/api/mtn-wholesale/products", timeout=10)
    return auth.get("sessionId") == session.session_id and products.status_code == 200


def test_recover_with_coolify_as_the_only_production_target(sandbox, workdir, inv):
    save_minted(sandbox, workdir)
    sandbox.mtn.expire()
    logins = sandbox.mtn.logins

    result = inv("recover", "--headless", "--timeout", "60", env=NO_GITHUB)

    assert result.code == 0, result.output
    assert sandbox.mtn.logins == logins + 1
    new = saved(workdir)
    assert coolify_value(sandbox) == pushed(sandbox, new)
    assert production_serves(sandbox, new)
    assert "1 of 1 targets updated" in result.output
    assert "in_progress → finished" in result.output or "queued → finished" in result.output
    assert not sandbox.vercel.deployments()[1:]     # Vercel was never asked to deploy
    assert not [r for r in sandbox.history.requests("vercel")]


def test_recover_with_coolify_and_the_github_secret(sandbox, workdir, inv):
    save_minted(sandbox, workdir)
    sandbox.mtn.expire()

    result = inv("recover", "--headless", "--timeout", "60")

    assert result.code == 0, result.output
    new = saved(workdir)
    assert coolify_value(sandbox) == pushed(sandbox, new)
    assert sandbox.github.secret_value("MTN_SESSION") == pushed(sandbox, new)
    assert production_serves(sandbox, new)
    assert "2 of 2 targets updated" in result.output


def test_fast_sync_a_valid_session_production_lacks_is_pushed_and_deployed_without_a_login(sandbox, workdir, inv):
    session = save_minted(sandbox, workdir)          # valid at MTN; production still runs the dead seed
    logins = sandbox.mtn.logins

    result = inv("recover", env={"PLAYWRIGHT_CHROMIUM_EXECUTABLE_PATH": "/nonexistent/chromium"})

    assert result.code == 0, result.output
    assert sandbox.mtn.logins == logins
    assert production_serves(sandbox, session)


def test_only_github_leaves_coolify_and_its_deployment_alone(sandbox, workdir, inv):
    save_minted(sandbox, workdir)
    result = inv("recover", "--only", "github")
    assert result.code == 0, result.output
    assert coolify_value(sandbox) == sandbox.coolify.seed_value
    assert not sandbox.history.events("coolify", "deploy")
    assert "no target production reads was chosen" in result.output


def test_check_says_it_would_redeploy_coolify_and_sends_nothing(sandbox, workdir, inv):
    save_minted(sandbox, workdir)
    result = inv("recover", "--check", env=NO_GITHUB)
    assert result.code == 0, result.output
    assert f"would redeploy production on coolify {sandbox.options.coolify_app_uuid}" in result.output
    assert not [r for r in sandbox.history.requests("coolify") if r["method"] != "GET"]


def test_resume_after_a_failed_coolify_deployment_needs_no_second_login(sandbox, workdir, inv):
    save_minted(sandbox, workdir)
    sandbox.mtn.expire()
    sandbox.options.coolify_deploy_state = "failed"

    failed = inv("recover", "--headless", "--timeout", "60", env=NO_GITHUB)

    assert failed.code == 1, failed.output
    assert "ended failed" in failed.output and "inv recover --resume" in failed.output
    logins = sandbox.mtn.logins
    new = saved(workdir)
    assert not production_serves(sandbox, new)
    sandbox.options.coolify_deploy_state = "finished"

    resumed = inv("recover", "--resume", env=NO_GITHUB)

    assert resumed.code == 0, resumed.output
    assert sandbox.mtn.logins == logins
    assert production_serves(sandbox, new)
    assert [w["method"] for w in sandbox.history.requests("coolify") if w["method"] == "PATCH"] == ["PATCH"]


def test_another_operators_push_to_coolify_is_not_overwritten(sandbox, workdir):
    from test_two_operators import live, start_recover, wait_for

    mine, theirs = live(sandbox), live(sandbox)
    sessions.save(workdir / ".cache" / "mtn-session.json", mine)
    github_before = sandbox.github.secret_value("MTN_SESSION")
    sandbox.faults.add(service="mtn_api", method="GET", path="/api/v1/feasibility/.*", delay=1.5, count=-1)
    proc = start_recover(sandbox, workdir)
    try:   # A has noted what the targets hold and is validating: B's push lands now
        wait_for(lambda: sandbox.history.requests("mtn_api"), "A's first validation")
        # the first look runs alongside the validation: B's push must come after it, as in the Vercel test
        wait_for(lambda: any(r["path"].endswith("/envs") and r.get("seconds") is not None
                             for r in sandbox.history.requests("coolify")), "A's first look at Coolify")
        sandbox.coolify.set_env("MTN_SESSION", theirs.encode())
        out, err = proc.communicate(timeout=90)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 5, out + err
    last = err.strip().splitlines()[-1]
    assert last.startswith(f"✘ not pushing: coolify {sandbox.options.coolify_app_uuid} was changed at "), last
    assert coolify_value(sandbox) == theirs.encode()
    assert sandbox.github.secret_value("MTN_SESSION") == github_before
    assert not sandbox.history.events("coolify", "deploy")


def test_refresh_logs_in_pushes_to_coolify_and_deploys_there(sandbox, workdir, inv):
    old = save_minted(sandbox, workdir)      # still valid: refresh logs in all the same
    logins = sandbox.mtn.logins

    result = inv("refresh", "--headless", "--timeout", "60")

    assert result.code == 0, result.output
    assert sandbox.mtn.logins == logins + 1
    new = saved(workdir)
    assert new.session_id != old.session_id
    assert coolify_value(sandbox) == pushed(sandbox, new) and production_serves(sandbox, new)

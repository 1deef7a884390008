"""The tests never read the user's configuration: the repository's invoke.yaml (which may list
real SSH hosts) and .env (real tokens, a real webhook) stay out of every `inv` the tests run."""

from __future__ import annotations

from pathlib import Path

import yaml

from conftest import ROOT
from mtn_runbook.core.session import Session, save

REAL_LOOKING = {
    "invoke.yaml": yaml.safe_dump({"targets": [
        {"kind": "ssh", "host": "prod-app.invalid", "env_file": "/srv/app/.env"},
        {"kind": "vercel", "project": "prj_users_real_project"}]}),
    ".env": "VERCEL_PROJECT_ID=prj_users_real_project\nALERT_WEBHOOK_URL=http://127.0.0.1:9/users-real-hook\n"
            "MTN_SESSION_FILE=/nonexistent/users-real-session.json\n",
}


def test_inv_never_reads_the_repositorys_invoke_yaml_or_env(inv, sandbox, workdir):
    planted = []
    for name, text in REAL_LOOKING.items():
        path = ROOT / name
        if not path.exists():  # a user's own file is left as it is: the test then runs against it
            path.write_text(text)
            planted.append(path)
    try:
        session = Session.from_dict(sandbox.mtn.mint_session(), "sandbox")
        save(workdir / ".cache" / "mtn-session.json", session)

        result = inv("push", "--check")
        status = inv("status", "--json")
    finally:
        for path in planted:
            path.unlink()

    assert result.code == 0, result.output
    assert "of 2 target(s) would change" in result.output  # the sandbox's Vercel and GitHub only
    assert "ssh" not in result.output and "prj_users_real_project" not in result.output
    assert sandbox.options.vercel_project_id in result.output
    assert status.code == 0 and "users-real-session" not in status.output, status.output


def test_inv_runs_with_an_empty_home(inv, sandbox, workdir, home):
    (home / ".invoke.yaml").write_text(yaml.safe_dump({"targets": [{"kind": "ssh", "host": "x", "env_file": "/y"}]}))
    assert sorted(p.name for p in home.iterdir()) == [".invoke.yaml"]
    save(workdir / ".cache" / "mtn-session.json", Session.from_dict(sandbox.mtn.mint_session(), "sandbox"))

    result = inv("push", "--check")

    # the fixture's HOME is the one the test controls, so Invoke reads this file and no other
    assert result.code == 0, result.output
    assert "ssh x:/y" in result.output

"""Issue 12 item 11: doctor checks what deploy really needs, and the paths really configured."""

from __future__ import annotations

import json
import subprocess

from conftest import pushed_value
from mtn_runbook.core import session as sessions

NO_PROJECT = {"VERCEL_PROJECT_ID": None, "VERCEL_TEAM_ID": None, "MTN_LINK_PORT": "0"}


def git_checkout(workdir, ignore: str) -> None:
    subprocess.run(["git", "init", "-q"], cwd=workdir, check=True)
    (workdir / ".gitignore").write_text(ignore)


def save_minted(sandbox, path) -> sessions.Session:
    minted = sessions.Session.from_dict(sandbox.mtn.mint_session(), "minted").extended(24)
    sessions.save(path, minted)
    return minted


def config(workdir, *targets) -> str:
    path = workdir / "invoke.yaml"
    path.write_text(json.dumps({"targets": list(targets)}))
    return str(path)


def test_deploy_uses_the_vercel_project_the_targets_name(sandbox, inv, workdir):
    git_checkout(workdir, ".cache/\nsession.txt\n.env\ninvoke.yaml\n")
    session = save_minted(sandbox, workdir / ".cache" / "mtn-session.json")
    o = sandbox.options
    yaml = config(workdir, {"kind": "vercel", "project": o.vercel_project_id, "team": o.vercel_team_id},
                  {"kind": "github"})
    doctor = inv("-f", yaml, "doctor", "--no-browser", env=NO_PROJECT)
    assert f"✔ deploy — redeploys Vercel project {o.vercel_project_id} (the Vercel target in invoke.yaml)" \
        in doctor.stdout, doctor.output
    assert inv("-f", yaml, "push", env=NO_PROJECT).code == 0
    deploy = inv("-f", yaml, "deploy", env=NO_PROJECT)
    assert deploy.code == 0, deploy.output                 # old: "VERCEL_PROJECT_ID not set", exit 2
    saved = sessions.load(workdir / ".cache" / "mtn-session.json")[0]   # with the gate the push noted
    assert sandbox.vercel.production_env()["MTN_SESSION"] == pushed_value(sandbox, saved)


def test_doctor_fails_when_deploy_would_have_no_project(sandbox, inv, workdir):
    git_checkout(workdir, ".cache/\nsession.txt\n.env\ninvoke.yaml\n")
    save_minted(sandbox, workdir / ".cache" / "mtn-session.json")
    yaml = config(workdir, {"kind": "github"})
    result = inv("-f", yaml, "doctor", "--no-browser", env=NO_PROJECT)
    assert result.code == 2, result.output                 # old: every check passed; recover died at deploy
    assert "✘ deploy — VERCEL_PROJECT_ID not set (and no Vercel target in invoke.yaml names a project)" in result.stdout


def test_gitignore_check_tests_the_configured_session_prev_and_journal(sandbox, inv, workdir):
    git_checkout(workdir, ".cache/\nsession.txt\n.env\n")       # covers the default place only
    save_minted(sandbox, workdir / "secrets" / "mtn.json")
    result = inv("doctor", "--no-browser", env={"MTN_SESSION_FILE": "secrets/mtn.json", "MTN_LINK_PORT": "0"})
    assert result.code == 2, result.output                 # old: "✔ .gitignore — covers .cache/ ..."
    assert "✘ .gitignore — not ignored by git: secrets/mtn.json, secrets/mtn.json.prev, secrets/journal.jsonl" \
        in result.stdout
    (workdir / ".gitignore").write_text(".cache/\nsession.txt\n.env\nsecrets/\n")
    fixed = inv("doctor", "--no-browser", env={"MTN_SESSION_FILE": "secrets/mtn.json", "MTN_LINK_PORT": "0"})
    assert "✔ .gitignore — covers secrets/mtn.json, secrets/mtn.json.prev, secrets/journal.jsonl, session.txt, .env" \
        in fixed.stdout, fixed.output

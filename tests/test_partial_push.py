"""One unreachable target no longer keeps production down: recover still deploys and verifies once
the targets production reads (Vercel) hold the new session, exits 1 naming the failed target and
the exact command that finishes it; `--only` / `--skip-target` choose targets."""

from __future__ import annotations

import socket
from pathlib import Path

import yaml

from conftest import pushed_value
from mtn_runbook.core.session import Session, save
from sshd import sshd  # noqa: F401  (the fixture)

APP_ENV = b"MTN_SESSION=old-dead-value\n"


def dead_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]  # closed again at once: nothing listens there


def config(workdir: Path, ssh_entry: dict) -> str:
    path = workdir / "invoke.yaml"
    path.write_text(yaml.safe_dump({"targets": [
        {"kind": "vercel", "environments": ["production"]},
        {"kind": "github", "repository": "acme/mtn-app"},
        {**ssh_entry, "name": "app1"}]}))
    return str(path)


def ssh_entry(sshd, tmp_path: Path, port: int | None = None) -> dict:  # noqa: F811
    env_file = tmp_path / "app.env"
    if not env_file.exists():
        env_file.write_bytes(APP_ENV)
    return {**sshd.target(env_file), **({"port": port} if port else {})}


def test_recover_deploys_when_vercel_holds_it_and_names_the_command_for_the_rest(inv, sandbox, workdir, sshd,
                                                                                   tmp_path):  # noqa: F811
    down = config(workdir, ssh_entry(sshd, tmp_path, port=dead_port()))

    result = inv("-f", down, "recover", "--headless", timeout=240)

    assert result.code == 1, result.output
    new = Session.from_dict(__import__("json").loads((workdir / ".cache" / "mtn-session.json").read_text()), "x")
    assert sandbox.vercel.env_value("MTN_SESSION") == pushed_value(sandbox, new)
    assert sandbox.github.secret_value("MTN_SESSION") == pushed_value(sandbox, new)
    assert "✔ deploy" in result.output and "✔ verify" in result.output  # production reads the new session
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("✘ push failed for app1; production was redeployed all the same"), last
    assert "inv recover --resume" in last, last   # the one next command
    assert (tmp_path / "app.env").read_bytes() == APP_ENV

    up = config(workdir, ssh_entry(sshd, tmp_path))
    finish = inv("-f", up, "push", "--only", "app1")

    assert finish.code == 0, finish.output
    assert "1 of 1 target(s) updated" in finish.output
    assert f"MTN_SESSION={pushed_value(sandbox, new)}\n".encode() in (tmp_path / "app.env").read_bytes()


def test_recover_still_stops_before_deploy_when_vercel_failed(inv, sandbox, workdir, sshd, tmp_path):  # noqa: F811
    path = config(workdir, ssh_entry(sshd, tmp_path))
    before = sandbox.vercel.env_value("MTN_SESSION")
    live = Session.from_dict(sandbox.mtn.mint_session(), "sandbox")
    save(workdir / ".cache" / "mtn-session.json", live)

    result = inv("-f", path, "recover", "--from", "push", "--skip-target", "app1",
                 env={"VERCEL_TOKEN": "wrong-token"}, timeout=240)

    assert result.code != 0, result.output
    assert "deploy" not in [line.split()[1] for line in result.output.splitlines() if line.startswith("✔ ")]
    assert sandbox.vercel.env_value("MTN_SESSION") == before
    assert not [r for r in sandbox.history.requests("vercel") if r["method"] == "POST" and "deployments" in r["path"]]


def test_push_skip_target_and_only(inv, sandbox, workdir, sshd, tmp_path):  # noqa: F811
    live = Session.from_dict(sandbox.mtn.mint_session(), "sandbox")
    save(workdir / ".cache" / "mtn-session.json", live)
    path = config(workdir, ssh_entry(sshd, tmp_path, port=dead_port()))

    skipped = inv("-f", path, "push", "--skip-target", "app1")
    only = inv("-f", path, "push.github", "--only", "github *")

    assert skipped.code == 0, skipped.output
    assert "2 of 2 target(s) updated" in skipped.output and "app1" not in skipped.output
    saved = Session.from_dict(__import__("json").loads((workdir / ".cache" / "mtn-session.json").read_text()), "x")
    assert saved.session_id == live.session_id
    assert sandbox.vercel.env_value("MTN_SESSION") == pushed_value(sandbox, saved)
    assert only.code == 0 and "already held it" in only.output, only.output


def test_a_name_that_matches_nothing_exits_2_before_anything(inv, sandbox, workdir, sshd, tmp_path):  # noqa: F811
    path = config(workdir, ssh_entry(sshd, tmp_path))

    recover = inv("-f", path, "recover", "--headless", "--skip-target", "ap1")
    save(workdir / ".cache" / "mtn-session.json", Session.from_dict(sandbox.mtn.mint_session(), "sandbox"))
    push = inv("-f", path, "push", "--only", "app2")

    assert (push.code, recover.code) == (2, 2), push.output + recover.output
    assert "--only 'app2' matches no configured target — the targets are: " in push.output
    assert "--skip-target 'ap1' matches no configured target" in recover.output
    assert not [r for r in sandbox.history.requests("mtn_sso") if r["method"] == "POST"]  # no login started
    assert not [r for r in sandbox.history.requests() if r["method"] in ("PUT", "PATCH")]


def test_resume_finishes_what_a_partial_run_left_behind(inv, sandbox, workdir, sshd, tmp_path):  # noqa: F811
    """Walked: after a run that redeployed but left a target failed (exit 1), `--resume` said
    'the last run finished …; nothing to resume' and exited 0, the target still stale."""
    down = config(workdir, ssh_entry(sshd, tmp_path, port=dead_port()))
    assert inv("-f", down, "recover", "--headless", timeout=240).code == 1
    new = Session.from_dict(__import__("json").loads((workdir / ".cache" / "mtn-session.json").read_text()), "x")
    deployments, logins = len(sandbox.vercel.deployments()), sandbox.mtn.logins
    github_puts = len([r for r in sandbox.history.requests("github") if r["method"] == "PUT"])

    up = config(workdir, ssh_entry(sshd, tmp_path))
    resumed = inv("-f", up, "recover", "--resume", "--json", timeout=240)

    assert resumed.code == 0, resumed.output
    assert "nothing to resume" not in resumed.output
    assert f"MTN_SESSION={pushed_value(sandbox, new)}\n".encode() in (tmp_path / "app.env").read_bytes()
    recap = __import__("json").loads(resumed.stdout)
    steps = {s["step"]: s["outcome"] for s in recap["steps"]}
    assert steps["push"] == "changed" and steps["verify"] == "ok", steps
    assert steps["deploy"] == "ok"   # production already served it: no second redeploy
    assert len(sandbox.vercel.deployments()) == deployments and sandbox.mtn.logins == logins
    assert [t["target"] for t in recap["targets"]] == ["app1"]   # only what was left behind
    assert len([r for r in sandbox.history.requests("github") if r["method"] == "PUT"]) == github_puts

    again = inv("-f", up, "recover", "--resume", timeout=240)

    assert again.code == 0, again.output
    assert "nothing to resume" in again.output


def test_resume_of_a_partial_run_that_fails_again_still_names_the_target(inv, sandbox, workdir, sshd,
                                                                           tmp_path):  # noqa: F811
    down = config(workdir, ssh_entry(sshd, tmp_path, port=dead_port()))
    assert inv("-f", down, "recover", "--headless", timeout=240).code == 1

    still_down = inv("-f", down, "recover", "--resume", timeout=240)
    up = config(workdir, ssh_entry(sshd, tmp_path))
    then_up = inv("-f", up, "recover", "--resume", timeout=240)

    assert still_down.code == 1 and "app1" in still_down.stderr.strip().splitlines()[-1], still_down.output
    assert then_up.code == 0, then_up.output
    assert (tmp_path / "app.env").read_bytes() != APP_ENV

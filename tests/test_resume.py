"""--resume and the recap across runs: nothing to resume is said (exit 0, no browser, no deploy),
and a resumed run's recap covers the whole incident and says why each step was skipped."""

from __future__ import annotations

import json

from mtn_runbook.core import session as sessions
from mtn_runbook.core.journal import Journal
from mtn_runbook.core.times import parse_time

NO_BROWSER = {"PLAYWRIGHT_CHROMIUM_EXECUTABLE_PATH": "/nonexistent/chromium"}


def save_minted(sandbox, workdir) -> sessions.Session:
    minted = sessions.Session.from_dict(sandbox.mtn.mint_session(), "minted")
    sessions.save(workdir / ".cache" / "mtn-session.json", minted)
    return minted


def journal(workdir) -> Journal:
    return Journal(workdir / ".cache" / "journal.jsonl")


def test_resume_after_a_finished_run_says_so_and_does_nothing(sandbox, workdir, inv):
    save_minted(sandbox, workdir)
    assert inv("recover", env=NO_BROWSER).code == 0
    finished = journal(workdir).last("run")
    deployments, logins = len(sandbox.vercel.deployments()), sandbox.mtn.logins
    lines = (workdir / ".cache" / "journal.jsonl").read_text().count("\n")

    result = inv("recover", "--resume", env=NO_BROWSER)

    assert result.code == 0, result.output
    assert f"the last run finished at {finished['ts']}; nothing to resume" in result.stdout
    assert len(sandbox.vercel.deployments()) == deployments and sandbox.mtn.logins == logins
    assert (workdir / ".cache" / "journal.jsonl").read_text().count("\n") == lines
    assert "recap" not in result.stdout


def test_resume_with_no_run_recorded_opens_no_browser(sandbox, workdir, inv):
    sandbox.mtn.expire()  # a fresh run would need a login
    logins, deployments = sandbox.mtn.logins, len(sandbox.vercel.deployments())

    result = inv("refresh", "--resume", "--json", env=NO_BROWSER)

    assert result.code == 0, result.output
    assert "nothing to resume" in result.stderr
    assert json.loads(result.stdout)["outcome"] == "nothing to resume"
    assert sandbox.mtn.logins == logins and len(sandbox.vercel.deployments()) == deployments
    assert not (workdir / ".cache" / "journal.jsonl").exists()


def test_the_recap_after_resume_covers_the_whole_incident(sandbox, workdir, inv):
    save_minted(sandbox, workdir)
    sandbox.mtn.expire()
    sandbox.options.next_deploy_state = "ERROR"
    first = inv("recover", "--headless", "--timeout", "60")
    assert first.code == 1, first.output
    interrupted = journal(workdir).last("run", event="start")
    login = journal(workdir).last("step", step="renew")
    assert login["outcome"] == "changed"
    sandbox.options.next_deploy_state = "READY"

    second = inv("recover", "--resume", "--json")

    assert second.code == 0, second.output
    recap = json.loads(second.stdout)
    assert recap["incidentStarted"] == interrupted["incident_started"] <= interrupted["ts"]
    assert recap["resumedFrom"] == interrupted["run"]
    first_run_seconds = (parse_time(journal(workdir).last("run", event="start")["ts"], "ts")
                         - parse_time(interrupted["ts"], "ts")).total_seconds()
    assert recap["secondsToRecover"] >= first_run_seconds > 0
    assert recap["secondsWaitingForPerson"] >= login["seconds"] > 0
    skipped = {s["step"]: s["detail"] for s in recap["steps"] if s["outcome"] == "skipped"}
    assert set(skipped) >= {"validate", "renew", "validate-new", "export", "push"}
    assert all(d == f"done in the interrupted run {interrupted['run']}" for d in skipped.values()), skipped
    # walked: a resumed recap had no targets table, though the targets are what the person checks
    held = {t["target"]: t["holds"] for t in recap["targets"]}
    assert held and all(recap["pushedFingerprint"] in h or "not readable" in h for h in held.values()), held


def test_the_recap_of_from_says_the_steps_were_not_run(sandbox, workdir, inv):
    save_minted(sandbox, workdir)

    result = inv("recover", "--from", "push", "--json")

    assert result.code == 0, result.output
    recap = json.loads(result.stdout)
    skipped = {s["step"]: s["detail"] for s in recap["steps"] if s["outcome"] == "skipped"}
    assert skipped == dict.fromkeys(("validate", "renew", "validate-new", "export"), "not run: --from push")
    assert recap["resumedFrom"] is None


def test_a_second_resume_continues_where_the_first_run_left_off(sandbox, workdir, inv):
    """Walked: a resume whose deploy failed again finished no step of its own, so the next
    --resume said 'finished no step worth keeping: starting from the beginning' and pushed again."""
    save_minted(sandbox, workdir)
    sandbox.mtn.expire()
    sandbox.options.next_deploy_state = "ERROR"
    assert inv("recover", "--headless", "--timeout", "60").code == 1
    pushed_by = journal(workdir).last("step", step="push")["run"]
    assert inv("recover", "--resume", env=NO_BROWSER).code == 1   # deploy fails again
    changes, logins = len(sandbox.history.events("vercel", "env.change")), sandbox.mtn.logins
    sandbox.options.next_deploy_state = "READY"

    third = inv("recover", "--resume", "--json", env=NO_BROWSER)

    assert third.code == 0, third.output
    assert "starting from the beginning" not in third.stderr + third.stdout
    recap = json.loads(third.stdout)
    skipped = {s["step"]: s["detail"] for s in recap["steps"] if s["outcome"] == "skipped"}
    assert set(skipped) == {"validate", "renew", "validate-new", "export", "push"}
    assert skipped["push"] == f"done in the interrupted run {pushed_by}"
    assert len(sandbox.history.events("vercel", "env.change")) == changes and sandbox.mtn.logins == logins


def test_no_display_is_said_once_and_the_resume_command_carries_the_flag_it_needs(sandbox, inv):
    """Walked: the no-display error printed three times (step, recap, last line) and the recap
    suggested `inv recover --resume`, which fails the same way in a sandbox shell without -H."""
    sandbox.mtn.expire()
    no_display = {"DISPLAY": None, "WAYLAND_DISPLAY": None}

    shell = inv("recover", env={**no_display, "MTN_RUNBOOK_SANDBOX": "1"})
    real = inv("recover", env=no_display)

    assert (shell.code, real.code) == (2, 2), shell.output + real.output
    for result in (shell, real):
        assert result.output.count("add --link") == 1, result.output       # the advice, once
        assert result.stderr.strip().splitlines()[-1].startswith("✘ no display")
    assert "`inv recover --resume -H`" in shell.output
    assert "`inv recover --resume --link`" in real.output

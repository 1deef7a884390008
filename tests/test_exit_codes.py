"""One exit-code mapping everywhere (DESIGN.md): 0 done, 1 an outside service failed, 2 bad input
or configuration, 3 session expired. A table of cases, each run as the operator would; and the
preflight that makes a wrong token fail before anyone solves a captcha."""

from __future__ import annotations

import pytest

from mtn_runbook.core import session as sessions

BAD_VERCEL = {"VERCEL_TOKEN": "wrong-token-value"}
NO_BROWSER = {"PLAYWRIGHT_CHROMIUM_EXECUTABLE_PATH": "/nonexistent/chromium"}


def save_minted(sandbox, workdir) -> sessions.Session:
    minted = sessions.Session.from_dict(sandbox.mtn.mint_session(), "minted")
    sessions.save(workdir / ".cache" / "mtn-session.json", minted)
    return minted


CASES = [
    # (what, args, env, session: None | "valid" | "expired", code, says)
    # Invoke's own program (`inv`) ends its argument errors with exit 1; `mtn-runbook` with 2 (below)
    ("misspelt flag", ("recover", "--frm", "push"), None, None, 1, "No idea what '--frm' is!"),
    ("unknown task", ("recoverr",), None, None, 1, "No idea what 'recoverr' is!"),
    ("flag without its value", ("recover", "--from"), None, None, 1, "needed value and was not given one"),
    ("core flag misspelt", ("--lst",), None, None, 1, "No idea what '--lst' is!"),
    ("flag of the wrong type", ("extend", "--hours", "abc"), None, None, 2, "wrong type"),
    ("bad Vercel token, push.vercel", ("push.vercel",), BAD_VERCEL, "valid", 2, "VERCEL_TOKEN"),
    ("bad Vercel token, recover (no login)", ("recover",), BAD_VERCEL, "valid", 2, "VERCEL_TOKEN"),
    ("bad Vercel token, deploy", ("deploy",), BAD_VERCEL, "valid", 2, "VERCEL_TOKEN"),
    ("expired session, validate", ("validate",), None, "expired", 3, "expired"),
    ("all fine, validate", ("validate",), None, "valid", 0, "valid"),
]


@pytest.mark.parametrize("what, args, env, session, code, says", CASES, ids=[c[0] for c in CASES])
def test_exit_codes(inv, sandbox, workdir, what, args, env, session, code, says):
    if session:
        save_minted(sandbox, workdir)
        if session == "expired":
            sandbox.mtn.expire()

    result = inv(*args, env={**NO_BROWSER, **(env or {})})

    assert result.code == code, f"{what}: {result.output}"
    assert says in result.output, result.output
    assert "Traceback" not in result.output


ARGUMENT_ERRORS = [(("recover", "--frm", "push"), "No idea what '--frm' is! — see `mtn-runbook --help recover`"),
                   (("recoverr",), "No idea what 'recoverr' is! — see `mtn-runbook --list`"),
                   (("recover", "--from"), "--from needs a value — see `mtn-runbook --help recover`"),
                   (("--lst",), "No idea what '--lst' is!")]


@pytest.mark.e2e
def test_mtn_runbook_ends_argument_errors_with_exit_2(workdir):
    """Its Program subclass (cli.py) maps Invoke's ParseError to bad input, in one line."""
    import subprocess

    from conftest import BIN

    for args, says in ARGUMENT_ERRORS:
        ended = subprocess.run([str(BIN / "mtn-runbook"), *args], cwd=workdir, capture_output=True, text=True,
                               env={"PATH": "/usr/bin:/bin", "HOME": str(workdir), "LANG": "C.UTF-8"})
        assert ended.returncode == 2 and ended.stderr.startswith("✘ ") and says in ended.stderr, ended.stderr
        assert "Traceback" not in ended.stderr and len(ended.stderr.strip().splitlines()) == 1


def test_a_service_failing_exits_1_in_push_and_in_recover_alike(inv, sandbox, workdir):
    save_minted(sandbox, workdir)
    sandbox.faults.add(service="vercel", method="PATCH", status=500, count=-1)
    sandbox.faults.add(service="vercel", method="POST", status=500, count=-1)

    push = inv("push.vercel")
    recover = inv("recover", env=NO_BROWSER)

    assert push.code == recover.code == 1, push.output + recover.output


@pytest.mark.parametrize("task", ["recover", "refresh"])
def test_a_wrong_vercel_token_fails_before_the_browser_opens(inv, sandbox, workdir, task):
    save_minted(sandbox, workdir)
    sandbox.mtn.expire()  # recover would log in; refresh always does
    before = len(sandbox.history.requests("mtn_sso"))
    logins = sandbox.mtn.logins

    result = inv(task, "--headless", "--timeout", "60", env=BAD_VERCEL)

    assert result.code == 2, result.output
    assert "before the login" in result.output and "VERCEL_TOKEN" in result.output
    assert "the browser was not opened" in result.output
    assert sandbox.mtn.logins == logins
    assert sandbox.history.requests("mtn_sso")[before:] == []  # the login page was never even served


def test_the_preflight_passes_quietly_on_the_way_to_a_login(inv, sandbox, workdir):
    save_minted(sandbox, workdir)
    sandbox.mtn.expire()

    result = inv("recover", "--headless", "--timeout", "60")

    assert result.code == 0, result.output
    assert "✔ preflight" in result.stdout and "checks passed before the login" in result.stdout

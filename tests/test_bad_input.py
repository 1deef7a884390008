"""Bad input: one clear line each, exit 2, no traceback (the `inv` fixture checks tracebacks and
leaks). A too-open session file and a pasted value with whitespace are fixed, with a warning."""

from __future__ import annotations

import base64
import json
import stat

import pytest

from mtn_runbook.core.session import Session


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


GOOD_COOKIE = {"name": "JSESSIONID", "value": "X" * 32, "domain": "localhost", "path": "/"}
ENV_CASES = [
    ("not base64!!", "MTN_SESSION is not valid base64"),
    (b64("hello, not json"), "MTN_SESSION is not JSON"),
    (b64("[1, 2]"), "MTN_SESSION is JSON but not an object"),
    (b64(json.dumps({"sessionId": "x", "expiresAt": "2030-01-01T00:00:00Z"})), "MTN_SESSION has no `cookies` field"),
    (b64(json.dumps({"cookies": [GOOD_COOKIE], "expiresAt": "2030-01-01T00:00:00Z"})),
     "MTN_SESSION has no `sessionId` field"),
    (b64(json.dumps({"cookies": [GOOD_COOKIE], "sessionId": "x"})), "MTN_SESSION has no `expiresAt` field"),
    (b64(json.dumps({"cookies": [GOOD_COOKIE], "sessionId": "x", "expiresAt": "next tuesday"})),
     "MTN_SESSION: expiresAt 'next tuesday' is not an ISO 8601 date"),
    ("   ", "MTN_SESSION is empty"),
]


CASES = [("validate", *case) for case in ENV_CASES] + [
    (task, *case) for task in ("export", "extend", "status") for case in ENV_CASES[:2]]


@pytest.mark.parametrize("task, value, message", CASES)
def test_a_bad_mtn_session_is_one_line_and_exit_2(inv, sandbox, workdir, task, value, message):
    args = (task,) if task == "status" else (task, "--env")
    result = inv(*args, env={"MTN_SESSION": value})
    if task == "status":  # status reports the problem as its ✘ headline, with the same exit code
        assert result.code == 2 and message in result.stdout
        return
    assert result.code == 2, result.output
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert sandbox.history.requests("mtn_api") == []


def test_an_unset_mtn_session_with_env(inv, sandbox, workdir):
    result = inv("validate", "--env", env={"MTN_SESSION": None})
    assert result.code == 2 and "MTN_SESSION is not set" in result.stderr


@pytest.mark.parametrize("content, message", [
    ("", "is empty"),
    ("  \n", "is empty"),
    ("{not json", "is not JSON"),
    ('{"cookies": []}', "has no `sessionId` field"),
], ids=["empty", "blank", "not-json", "missing-fields"])
def test_a_bad_session_file_is_one_line_and_exit_2(inv, sandbox, workdir, content, message):
    path = workdir / ".cache" / "mtn-session.json"
    path.parent.mkdir()
    path.write_text(content)
    path.chmod(0o600)
    result = inv("validate")
    assert result.code == 2, result.output
    assert f"session file .cache/mtn-session.json {message}" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_a_missing_file_says_how_to_make_one(inv, sandbox, workdir):
    result = inv("validate", env={"MTN_SESSION": None})
    assert result.code == 2
    assert "session file .cache/mtn-session.json does not exist — run `inv auth`" in result.stderr
    other = inv("export", "--file", "nowhere.json")
    assert other.code == 2 and "session file nowhere.json does not exist" in other.stderr


def test_an_open_file_mode_is_fixed_with_a_warning(inv, sandbox, workdir):
    minted = Session.from_dict(sandbox.mtn.mint_session(), "minted")
    path = workdir / ".cache" / "mtn-session.json"
    path.parent.mkdir()
    path.write_text(json.dumps(minted.to_dict()))
    path.chmod(0o644)
    result = inv("validate")
    assert result.code == 0, result.output
    assert "⚠ session file .cache/mtn-session.json had mode 0644; set it to 0600" in result.stdout
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_whitespace_around_a_pasted_session_is_stripped_with_a_warning(inv, sandbox, workdir):
    minted = Session.from_dict(sandbox.mtn.mint_session(), "minted")
    result = inv("validate", "--env", env={"MTN_SESSION": f"  {minted.encode()}\n"})
    assert result.code == 0, result.output
    assert "⚠ MTN_SESSION had whitespace around it; stripped it" in result.stdout


@pytest.mark.parametrize("args, message", [
    (("auth", "--timeout", "0"), "--timeout must be a positive number"),
    (("extend", "--hours", "-1"), "--hours must be a positive number"),
    (("validate", "--env", "--file", "x.json"), "--file and --env choose different sessions"),
])
def test_bad_flags(inv, sandbox, workdir, args, message):
    minted = Session.from_dict(sandbox.mtn.mint_session(), "minted")
    result = inv(*args, env={"MTN_SESSION": minted.encode()})
    assert result.code == 2, result.output
    assert message in result.stderr


# -- issue 12 item 13 and issue 11 item 10: each bad input is one line naming it, exit 2, nothing written
def session_with(**changes) -> str:
    data = {"cookies": [GOOD_COOKIE], "sessionId": "x" * 32, "expiresAt": "2030-01-01T00:00:00Z", **changes}
    return b64(json.dumps(data))


NESTED = b64("[" * 5000 + "]" * 5000)
SSH = {"kind": "ssh", "host": "127.0.0.1", "env_file": "/srv/app/.env"}
# (id, args, env, files {name: text or bytes}, what the one line says)
BAD_INPUT = [
    ("expires-year-1", ("validate", "--env"), {"MTN_SESSION": session_with(expiresAt="0001-01-01T00:00:00+05:00")},
     {}, "MTN_SESSION: expiresAt '0001-01-01T00:00:00+05:00' is out of range"),
    ("expires-year-9999", ("validate", "--env"), {"MTN_SESSION": session_with(expiresAt="9999-12-31T23:00:00-05:00")},
     {}, "MTN_SESSION: expiresAt '9999-12-31T23:00:00-05:00' is out of range"),
    ("cookie-non-ascii", ("validate", "--env"), {"MTN_SESSION": session_with(cookies=[{**GOOD_COOKIE, "value": "välue"}])},
     {}, "MTN_SESSION: cookie 0 has a `value` with a line break, a control or a non-ASCII character"),
    ("cookie-crlf", ("validate", "--env"), {"MTN_SESSION": session_with(cookies=[{**GOOD_COOKIE, "value": "a\r\nb"}])},
     {}, "MTN_SESSION: cookie 0 has a `value` with a line break"),
    ("nested-json", ("validate", "--env"), {"MTN_SESSION": NESTED}, {}, "MTN_SESSION is not a session (JSON nested too deeply)"),
    ("api-key-newline", ("validate", "--env"), {"MTN_API_KEY": "k3y-abcdef\n"}, {}, "MTN_API_KEY contains a line break"),
    ("vercel-url-file", ("validate", "--env"), {"VERCEL_API_URL": "file:///etc/passwd"}, {},
     "VERCEL_API_URL 'file:///etc/passwd' uses file://, not http:// or https://"),
    ("vercel-url-ftp", ("validate", "--env"), {"VERCEL_API_URL": "ftp://api.vercel.com"}, {},
     "VERCEL_API_URL 'ftp://api.vercel.com' uses ftp://"),
    ("vercel-url-not-a-url", ("validate", "--env"), {"VERCEL_API_URL": "not a url"}, {},
     "VERCEL_API_URL 'not a url' contains a space"),
    ("production-url-no-scheme", ("verify",), {"PRODUCTION_URL": "myapp.vercel.app"}, {},
     "PRODUCTION_URL 'myapp.vercel.app' has no scheme: write it as https://myapp.vercel.app"),
    ("production-url-no-host", ("verify",), {"PRODUCTION_URL": "https://"}, {}, "PRODUCTION_URL 'https://' has no host"),
    ("webhook-url-not-shown", ("validate", "--env"), {"ALERT_WEBHOOK_URL": "hooks.example/T0/B0/secret"}, {},
     "ALERT_WEBHOOK_URL has no scheme"),
    ("token-newline", ("validate", "--env"), {"VERCEL_TOKEN": "tok\nen-123"}, {}, "VERCEL_TOKEN contains a line break"),
    ("token-non-ascii", ("validate", "--env"), {"GITHUB_TOKEN": "ghp_tökén123"}, {},
     "GITHUB_TOKEN contains a non-ASCII character"),
    ("dotenv-not-utf8", ("validate", "--env"), {}, {".env": b"MTN_USERNAME=op\xff\xfe\n"}, ".env is not UTF-8 text"),
    ("targets-string", ("-f", "invoke.yaml", "validate", "--env"), {}, {"invoke.yaml": "targets: [abc]\n"},
     "invoke.yaml targets[0] is the string 'abc', not a mapping with a `kind`"),
    ("targets-nested-list", ("-f", "invoke.yaml", "validate", "--env"), {}, {"invoke.yaml": "targets: [[1, 2]]\n"},
     "invoke.yaml targets[0] is a list, not a mapping with a `kind`"),
    ("yaml-top-level-list", ("-f", "invoke.yaml", "validate", "--env"), {}, {"invoke.yaml": "- a\n- b\n"},
     "a config file (invoke.yaml or -f) is not a mapping of settings"),
    ("ssh-port-99999", ("-f", "invoke.yaml", "push", "--env"), {}, {"invoke.yaml": json.dumps({"targets": [{**SSH, "port": 99999}]})},
     "invoke.yaml targets[0] (ssh): port 99999 is not a port number (1 to 65535)"),
    ("ssh-port-minus-1", ("-f", "invoke.yaml", "push", "--env"), {}, {"invoke.yaml": json.dumps({"targets": [{**SSH, "port": -1}]})},
     "invoke.yaml targets[0] (ssh): port -1 is not a port number"),
    # issue 20 item 13: these were accepted (exit 0 "1 of 1 target(s) would change", or exit 1 at connect)
    ("vercel-key-space", ("-f", "invoke.yaml", "push", "--env", "--check"), {},
     {"invoke.yaml": json.dumps({"targets": [{"kind": "vercel", "key": "MTN SESSION"}]})},
     "invoke.yaml targets[0] (vercel): key 'MTN SESSION' is not an environment variable name"),
    ("ssh-host-blank", ("-f", "invoke.yaml", "push", "--env", "--check"), {},
     {"invoke.yaml": json.dumps({"targets": [{**SSH, "host": " "}]})}, "invoke.yaml targets[0] (ssh): host ' ' is blank"),
    ("ssh-key-dash", ("-f", "invoke.yaml", "push", "--env", "--check"), {},
     {"invoke.yaml": json.dumps({"targets": [{**SSH, "key": "MTN-SESSION"}]})},
     "invoke.yaml targets[0] (ssh): key 'MTN-SESSION' is not an environment variable name"),
    ("extend-nan", ("extend", "--env", "--hours", "nan"), {}, {}, "--hours must be a positive number, at most 8760"),
    ("extend-inf", ("extend", "--env", "--hours", "inf"), {}, {}, "--hours must be a positive number, at most 8760"),
    ("extend-1e12", ("extend", "--env", "--hours", "1e12"), {}, {}, "--hours must be a positive number, at most 8760"),
    ("export-missing-folder", ("export", "--env", "--output", "missing/session.txt"), {}, {},
     "--output missing/session.txt: folder missing does not exist"),
    ("export-directory", ("export", "--env", "--output", "adir"), {}, {"adir/keep": ""}, "--output adir is a directory"),
]


@pytest.mark.parametrize("args, env, files, message", [case[1:] for case in BAD_INPUT], ids=[c[0] for c in BAD_INPUT])
def test_each_bad_input_is_one_line_exit_2_and_nothing_written(inv, sandbox, workdir, args, env, files, message):
    minted = Session.from_dict(sandbox.mtn.mint_session(), "minted")
    for name, content in files.items():
        path = workdir / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content) if isinstance(content, bytes) else path.write_text(content)
    before = sorted(p.relative_to(workdir) for p in workdir.rglob("*"))
    sandbox.history.clear()
    result = inv(*args, env={"MTN_SESSION": minted.encode(), **env}, allow=(minted.encode(),))
    assert result.code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], result.output
    assert sorted(p.relative_to(workdir) for p in workdir.rglob("*")) == before   # nothing written
    assert sandbox.history.requests() == []                                        # nothing sent
    assert "hooks.example/T0/B0/secret" not in result.output and "k3y-abcdef" not in result.output


def test_a_deeply_nested_secret_still_alerts_from_the_monitor(inv, sandbox):
    before = len([i for i in sandbox.github.issues() if "pull_request" not in i])
    result = inv("monitor", env={"MTN_SESSION": NESTED})
    assert result.code == 2, result.output          # old: "internal error: RecursionError", exit 1, no alert
    assert "JSON nested too deeply" in result.output
    assert len([i for i in sandbox.github.issues() if "pull_request" not in i]) == before + 1


def test_a_vercel_environment_that_does_not_exist_names_those_that_do(inv, sandbox, workdir):
    """Issue 20 item 13: `environments: [stagin]` was exit 0 "1 of 1 target(s) would change"."""
    minted = Session.from_dict(sandbox.mtn.mint_session(), "minted")
    sandbox.vercel.custom_environments.append("staging")
    for envs, code in ((["production", "stagin"], 2), (["staging"], 0)):
        (workdir / "invoke.yaml").write_text(json.dumps({"targets": [{"kind": "vercel", "environments": envs}]}))
        result = inv("-f", "invoke.yaml", "push", "--env", "--check", env={"MTN_SESSION": minted.encode()},
                     allow=(minted.encode(),))
        assert result.code == code, result.output
    assert "environment 'stagin' does not exist in project" not in result.output
    (workdir / "invoke.yaml").write_text(json.dumps({"targets": [{"kind": "vercel", "environments": ["stagin"]}]}))
    result = inv("-f", "invoke.yaml", "push", "--env", "--check", env={"MTN_SESSION": minted.encode()},
                 allow=(minted.encode(),))
    assert result.code == 2 and len(result.output.strip().splitlines()) == 1, result.output
    assert ("environment 'stagin' does not exist in project prj_sandbox "
            "(it has: production, preview, development, staging)") in result.output
    assert not [r for r in sandbox.history.requests("vercel") if r["method"] != "GET"]

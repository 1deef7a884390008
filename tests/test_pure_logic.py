"""Pure logic, tested directly (the fast tier): which targets a push works on, the one line a push
owns in an env file, and when the monitor's verdict is news. The same behaviour is tested end to
end through `inv` elsewhere (test_partial_push.py, test_push_ssh.py, test_monitor.py)."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from mtn_runbook.core.checks import Check
from mtn_runbook.core.errors import ConfigError
from mtn_runbook.monitor.verdict import Health, is_change
from mtn_runbook.targets.env_file import EnvFile
from mtn_runbook.targets.selection import finish_command, production_reads, select


@dataclass
class T:
    kind: str
    name: str
    environments: tuple = ("production",)


VERCEL = T("vercel", "vercel prj_x (production)")
PREVIEW = T("vercel", "vercel prj_x (preview)", ("preview",))
GITHUB = T("github", "github owner/app")
APP1 = T("ssh", "ssh deploy@app1:/srv/app/.env")
APP2 = T("ssh", "ssh deploy@app2:/srv/app/.env")
ALL = [VERCEL, PREVIEW, GITHUB, APP1, APP2]


# -- targets/selection.py ------------------------------------------------------------------------

@pytest.mark.parametrize("only, skip, chosen", [
    ((), (), ALL),
    (("ssh",), (), [APP1, APP2]),                                       # a kind
    (("ssh deploy@app1:/srv/app/.env",), (), [APP1]),                   # a name as push prints it
    (("ssh *app2*",), (), [APP2]),                                      # a shell pattern
    ((), ("vercel",), [GITHUB, APP1, APP2]),
    (("vercel", "github"), ("vercel prj_x (preview)",), [VERCEL, GITHUB]),
    (("[vs]*",), ("*app1*",), [VERCEL, PREVIEW, APP2]),
])
def test_only_and_skip_choose_targets_in_their_configured_order(only, skip, chosen):
    assert select(ALL, only=only, skip=skip) == chosen


@pytest.mark.parametrize("only, skip, says", [
    (("sssh",), (), "--only 'sssh' matches no configured target"),
    ((), ("gitlab",), "--skip-target 'gitlab' matches no configured target"),
    (("ssh",), ("ssh",), "leave no target to push to"),
])
def test_a_name_that_matches_nothing_or_leaves_nothing_is_bad_input(only, skip, says):
    with pytest.raises(ConfigError) as bad:
        select(ALL, only=only, skip=skip)
    assert says in bad.value.line() and "github owner/app" in bad.value.line()   # names the targets
    assert bad.value.exit_code == 2


def test_production_reads_only_vercel_production_and_the_finish_command_is_quoted():
    assert [production_reads(t) for t in ALL] == [True, False, False, False, False]
    assert finish_command([APP1.name, "github"]) == "inv push --only 'ssh deploy@app1:/srv/app/.env' --only github"


# -- targets/env_file.py -------------------------------------------------------------------------

@pytest.mark.parametrize("before, after", [
    (b"A=1\nMTN_SESSION=old\nB=2\n", b"A=1\nMTN_SESSION=new\nB=2\n"),               # only that line
    (b"A=1\r\nMTN_SESSION='old'\r\n", b"A=1\r\nMTN_SESSION='new'\r\n"),            # quotes and CRLF kept
    (b'export MTN_SESSION="old"\n', b'export MTN_SESSION="new"\n'),
    (b"A=1\nB=2", b"A=1\nB=2\nMTN_SESSION=new\n"),                                  # appended when missing
    (b"", b"MTN_SESSION=new\n"),
    (b"#MTN_SESSION=old\nXMTN_SESSION=x\nexportMTN_SESSION=y\n",                     # none of these is it
     b"#MTN_SESSION=old\nXMTN_SESSION=x\nexportMTN_SESSION=y\nMTN_SESSION=new\n"),
])
def test_a_push_changes_only_its_own_line(before, after):
    assert EnvFile(before, "MTN_SESSION").with_value("new") == after


def test_values_are_read_unquoted_from_every_assignment():
    content = b"MTN_SESSION=\"one\"\nOTHER=x\n  export MTN_SESSION='two'\nMTN_SESSION= three \n"
    assert EnvFile(content, "MTN_SESSION").values() == ["one", "two", "three"]
    assert EnvFile(b"OTHER=1\n", "MTN_SESSION").values() == []


# -- monitor/verdict.py: the monitor's decision -----------------------------------------------------

@pytest.mark.parametrize("previous, current, news", [
    (None, "healthy", False), (None, "warning", False),        # no memory (CI): only trouble is news
    (None, "unhealthy", True), (None, "refresh-due", True),
    ("healthy", "healthy", False), ("unhealthy", "unhealthy", False),
    ("healthy", "warning", True), ("unhealthy", "healthy", True), ("refresh-due", "healthy", True),
])
def test_only_a_change_of_state_is_news(previous, current, news):
    assert is_change(previous, current) is news


@pytest.mark.parametrize("state, bad_config, code", [
    ("healthy", False, 0), ("warning", False, 0), ("refresh-due", False, 0),
    ("unhealthy", False, 3), ("unhealthy", True, 2),
])
def test_the_monitors_exit_code(state, bad_config, code):
    health = Health(state, "m", (Check("x", state != "unhealthy"),), {}, {}, {}, None, bad_config=bad_config)
    assert health.exit_code == code


# -- core/config.py: the verify window and the checks' deadline are settings ------------------------

def test_the_verify_window_and_the_check_deadline_default_to_30_s_and_can_be_set():
    from mtn_runbook.core.config import Settings

    default = Settings.load({}, environ={}, use_dotenv=False)
    assert (default.verify_window, default.check_deadline) == (30.0, 30.0)
    short = Settings.load({}, environ={"VERIFY_WINDOW_SECONDS": "2", "CHECK_DEADLINE_SECONDS": "1.5"}, use_dotenv=False)
    assert (short.verify_window, short.check_deadline) == (2.0, 1.5)


@pytest.mark.parametrize("value", ["abc", "0", "-5", "nan", "1e9"])
def test_a_window_that_is_not_a_number_of_seconds_is_bad_input(value):
    from mtn_runbook.core.config import Settings

    with pytest.raises(ConfigError) as bad:
        Settings.load({}, environ={"VERIFY_WINDOW_SECONDS": value}, use_dotenv=False)
    assert bad.value.line().startswith(f"VERIFY_WINDOW_SECONDS {value!r} is not a number of seconds")
    assert bad.value.exit_code == 2


def test_a_secret_comes_from_the_environment_only_and_is_listed_for_scrubbing():
    from mtn_runbook.core.config import SECRET_VARIABLES, VARIABLES, Settings

    assert {"MTN_PASSWORD", "MTN_SESSION", "VERCEL_TOKEN", "ALERT_WEBHOOK_URL"} <= SECRET_VARIABLES
    assert "MTN_USERNAME" not in SECRET_VARIABLES and VARIABLES["MTN_USERNAME"].name == "mtn_username"
    yaml = {"vercel_token": "from-yaml", "mtn_username": "yaml-user"}
    loaded = Settings.load(yaml, environ={"MTN_PASSWORD": "pw-from-env"}, use_dotenv=False)
    assert (loaded.vercel_token, loaded.mtn_username) == ("", "yaml-user")
    assert loaded.secrets() == ["pw-from-env"]
    bad = {"VERIFY_WINDOW_SECONDS": "x"}
    with pytest.raises(ConfigError) as e:
        Settings.load({}, environ=bad, use_dotenv=False)
    assert "(default 30)" in e.value.hint


@pytest.mark.parametrize("kind, field, variable", [("vercel", "project", "VERCEL_PROJECT_ID"),
                                                   ("github", "repository", "GITHUB_REPOSITORY"),
                                                   ("coolify", "application", "COOLIFY_APP_UUID")])
def test_a_target_entry_takes_its_field_else_its_variable_else_names_both(kind, field, variable):
    from mtn_runbook.core.config import Settings
    from mtn_runbook.targets import configured

    bare = Settings.load({"targets": [{"kind": kind}]}, environ={}, use_dotenv=False)
    with pytest.raises(ConfigError) as bad:
        configured(bare)
    assert str(bad.value) == f"invoke.yaml targets[0] ({kind}): missing field {field} (or set {variable})"
    value = "acme/app" if kind == "github" else "from-env"
    from_env = Settings.load({"targets": [{"kind": kind}]}, environ={variable: value}, use_dotenv=False)
    assert value in configured(from_env)[0].describe()

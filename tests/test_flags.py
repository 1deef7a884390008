"""Short flags a tired hand can trust: `-h` is always help, `-c` always `--check`, nothing
shadows Invoke's `-e/--echo`; and Invoke's `--dry` never changes anything."""

from __future__ import annotations

from pathlib import Path

import pytest

from mtn_runbook.core.session import Session, save
from mtn_runbook.tasks import ns
from mtn_runbook.tasks.flags import SHORT_FLAGS


def every_task():
    for name in ns.task_names:
        yield name, ns[name]


def live_session(sandbox, workdir: Path) -> Session:
    session = Session.from_dict(sandbox.mtn.mint_session(), "sandbox")
    save(workdir / ".cache" / "mtn-session.json", session)
    return session


def test_no_task_takes_h_or_e_and_c_is_always_check():
    meaning: dict[str, set[str]] = {}
    names = list(every_task())
    assert len(names) >= 17  # every task of the namespace, sub-collections included
    for name, task in names:
        for arg in task.get_arguments():
            shorts = [n for n in arg.names if len(n) == 1]
            assert not {"h", "e"} & set(shorts), f"inv {name}: -{shorts[0]} shadows Invoke's -h/-e"
            param = arg.attr_name or arg.name
            if param == "check":
                assert shorts == ["c"], f"inv {name}: --check must be -c"
            for short in shorts:
                meaning.setdefault(short, set()).add(param)
    for short, args in meaning.items():
        assert len(args) == 1, f"-{short} means {sorted(args)} in different tasks"
        assert SHORT_FLAGS[next(iter(args))] == short


@pytest.mark.parametrize("task", ["recover", "refresh", "auth", "extend"])
def test_dash_h_shows_help_and_does_nothing(inv, sandbox, workdir, task):
    before = sandbox.vercel.env_value("MTN_SESSION")

    result = inv(task, "-h")

    assert result.code == 0, result.output
    assert f"Usage: inv[oke] [--core-opts] {task}" in result.output
    assert "Flag <Argument" not in result.output
    assert not (workdir / ".cache").exists()  # no login, no session file, no journal
    assert sandbox.vercel.env_value("MTN_SESSION") == before
    assert not [r for r in sandbox.history.requests("mtn_sso") if r["method"] == "POST"]


def test_dry_is_check_mode_and_changes_nothing(inv, sandbox, workdir):
    live_session(sandbox, workdir)
    before = sandbox.github.secret_value("MTN_SESSION")

    result = inv("--dry", "push.github")

    assert result.code == 0, result.output
    assert "--dry: running in check mode" in result.output
    assert "would" in result.output
    assert sandbox.github.secret_value("MTN_SESSION") == before
    assert not [r for r in sandbox.history.requests("github") if r["method"] in ("PUT", "POST", "PATCH")]


def test_dry_is_refused_where_a_task_has_no_check_mode(inv, sandbox, workdir):
    result = inv("--dry", "sandbox")

    assert result.code == 2, result.output
    assert result.stderr.strip().splitlines() == [
        "✘ Invoke's --dry: `sandbox` has no check mode, so it does not run under --dry — run it without --dry"]

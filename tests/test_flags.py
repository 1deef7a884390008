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


def test_dry_on_a_read_only_task_says_it_changes_nothing(inv, sandbox, workdir):
    """Every task takes --check now, so --dry is never refused; a read-only task says so, exit 0."""
    result = inv("--dry", "verify")

    assert result.code == 0, result.output
    assert "changes nothing" in result.output and not sandbox.history.requests("app")


def listed_tasks(inv) -> list[str]:
    """Every task `inv --list` shows, aliases (`push`, `monitor`) included."""
    import re

    listing = inv("--list")
    assert listing.code == 0, listing.output
    names = []
    for line in listing.stdout.splitlines():
        m = re.match(r"  ([a-z][\w.-]*)(?: \(([\w.-]+)\))?", line)
        if m:
            names += [n for n in m.groups() if n]
    assert len(names) >= 20, listing.stdout
    return names


def test_dash_h_is_help_in_every_listed_task(inv, sandbox, workdir):
    """Item 7: `inv watch.install -h` took `-h` as its HOST and tried to connect to it. Invoke hands
    any token to a missing positional argument before it looks for help."""
    for name in listed_tasks(inv):
        for flag in ("-h", "--help"):
            result = inv(name, flag)
            assert result.code == 0, (name, flag, result.output)
            assert result.stdout.startswith("Usage: inv[oke] [--core-opts] "), (name, flag, result.output)
            assert "cannot connect" not in result.output
    assert not (workdir / ".cache").exists()


# which tasks change something: runbooks/incident-recovery.md lists them, and exactly them
INCIDENT = Path(__file__).resolve().parents[1] / "runbooks" / "incident-recovery.md"


def documented_changing_tasks() -> set[str]:
    import re

    text = INCIDENT.read_text()
    section = text[text.index("<!-- tasks that change something -->"):text.index("<!-- end -->")]
    alias = {a: name for name, aliases in ns.task_names.items() for a in aliases}
    return {alias.get(n, n) for n in re.findall(r"`inv ([a-z][\w.]*)", section.split("Read-only")[0])}


def test_every_task_takes_check_and_a_read_only_one_says_so(inv, sandbox, workdir):
    """Item 8: verify, status, ledger, doctor, keepalive, sandbox and watch.* answered
    `No idea what '--check' is!`, though the runbook says `-c` is `--check` in every task."""
    for name, task in every_task():
        names = {n for arg in task.get_arguments() if (arg.attr_name or arg.name) == "check" for n in arg.names}
        assert names == {"check", "c"}, f"inv {name} has no -c/--check"
    changing = {name for name, task in every_task() if not task.body.read_only}
    assert documented_changing_tasks() == changing, "runbooks/incident-recovery.md lists other tasks as changing"
    read_only = [name for name, task in every_task() if task.body.read_only]
    assert {"verify", "status", "ledger", "doctor", "watch.status"} <= set(read_only)
    for name in read_only:
        args = [name, "--check"] + (["me@example.invalid"] if name.startswith("watch.") else [])
        result = inv(*args)
        assert result.code == 0, (name, result.output)
        assert "changes nothing" in result.output and "nothing was run" in result.output, (name, result.output)
        assert "No idea" not in result.output
    assert not (workdir / ".cache").exists()
    assert not [r for r in sandbox.history.requests() if r["service"] != "mtn_sso"]


def test_check_in_keepalive_and_sandbox_sends_and_writes_nothing(inv, sandbox, workdir):
    session = live_session(sandbox, workdir)
    before = sorted(p.name for p in (workdir / ".cache").iterdir())

    keep = inv("keepalive", "-c", "--every", "5")
    assert keep.code == 0, keep.output
    assert f"session {session.short_id}" in keep.output and "every 5 min" in keep.output and "nothing sent" in keep.output
    assert not sandbox.history.requests("mtn_api")

    sb = inv("sandbox", "--check", "--env-file", ".cache/sandbox.env")
    assert sb.code == 0 and "would run the stand-ins" in sb.output, sb.output
    assert sorted(p.name for p in (workdir / ".cache").iterdir()) == before


def test_validate_check_asks_the_api_and_records_nothing(inv, sandbox, workdir):
    live_session(sandbox, workdir)
    result = inv("validate", "--check")
    assert result.code == 0, result.output
    assert sandbox.history.requests("mtn_api")
    assert not (workdir / ".cache" / "journal.jsonl").exists()
    assert not [p for p in (workdir / ".cache").iterdir() if "ledger" in p.name]

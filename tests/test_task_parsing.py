"""Parsing `inv TASK --flags` with Invoke's own parser, untouched: aliases and namespaced tasks,
and the argument errors of `mtn-runbook` (cli.py's Program subclass) ending in one line, exit 2."""

from __future__ import annotations

import pytest
from invoke import Program

from mtn_runbook.cli import RunbookProgram
from mtn_runbook.tasks import ns


def parse(argv: list[str], program: Program | None = None) -> Program:
    program = program or Program(namespace=ns)
    program.create_config()
    program.parse_core(argv)
    program.parse_collection()
    program.parse_tasks()
    return program


def test_a_task_and_its_flag_parse():
    program = parse(["inv", "validate", "--json"])
    (task,) = program.tasks
    assert task.name == "validate" and task.args["json"].value is True
    assert program.parser.contexts["validate"].args["json"].value is False   # the parser's own is untouched


def test_aliases_and_namespaced_tasks_still_parse():
    """`inv push` is the collection's default task (an alias of push.all), `inv monitor` likewise."""
    program = parse(["inv", "push", "-c", "push.vercel", "monitor", "--check"])
    assert [t.name for t in program.tasks] == ["push.all", "push.vercel", "monitor.monitor"]
    assert [t.args["check"].value for t in program.tasks] == [True, False, True]


def test_nothing_to_parse_parses_no_task():
    assert list(parse(["inv", "--list"]).tasks) == []


@pytest.mark.parametrize("argv, says", [
    (["recover", "--frm", "push"], "No idea what '--frm' is! — see `mtn-runbook --help recover`"),
    (["recoverr"], "No idea what 'recoverr' is!"),
    (["recover", "--from"], "--from needs a value — see `mtn-runbook --help recover`"),
])
def test_mtn_runbook_argument_errors_exit_2_in_one_line(argv, says, capsys):
    program = RunbookProgram(namespace=ns, name="mtn-runbook", binary="mtn-runbook")
    with pytest.raises(SystemExit) as ended:
        program.run(["mtn-runbook", *argv])
    assert ended.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("✘ ") and says in err and len(err.strip().splitlines()) == 1, err

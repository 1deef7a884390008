"""Parsing `inv TASK --flags` copies the one task's parser context, not all of them (start-up,
tasks/base.py): Invoke deep-copied every task's flags on every run, ~6 ms of `inv --list`."""

from __future__ import annotations

import copy
import types

import invoke.parser.parser as invoke_parser
from invoke import Program

from mtn_runbook.tasks import ns
from mtn_runbook.tasks.base import _parse_without_copying_every_task


def parse(argv: list[str], monkeypatch) -> tuple[Program, list[object]]:
    """Invoke's own parse of `argv` against our namespace; returns what parsing the tasks really copied."""
    copies: list[object] = []

    def deepcopy(value, memo=None):
        result = copy.deepcopy(value, memo)
        if result is not value:
            copies.append(result)
        return result

    _parse_without_copying_every_task()
    program = Program(namespace=ns)
    program.create_config()
    program.parse_core(argv)
    program.parse_collection()
    monkeypatch.setattr(invoke_parser, "copy", types.SimpleNamespace(deepcopy=deepcopy))
    program.parse_tasks()
    return program, copies


def test_only_the_named_task_is_copied(monkeypatch):
    program, copies = parse(["inv", "validate", "--json"], monkeypatch)
    assert [getattr(c, "name", type(c).__name__) for c in copies] == [None, "validate"]   # initial, the task
    (task,) = program.tasks
    assert task.name == "validate" and task.args["json"].value is True
    assert program.parser.contexts["validate"].args["json"].value is False   # the parser's own is untouched


def test_aliases_and_namespaced_tasks_still_parse(monkeypatch):
    """`inv push` is the collection's default task (an alias of push.all), `inv monitor` likewise."""
    program, copies = parse(["inv", "push", "-c", "push.vercel", "monitor", "--check"], monkeypatch)
    assert [t.name for t in program.tasks] == ["push.all", "push.vercel", "monitor.monitor"]
    assert [t.args["check"].value for t in program.tasks] == [True, False, True]
    assert [getattr(c, "name", None) for c in copies] == [None, "push.all", "push.vercel", "monitor.monitor"]


def test_nothing_to_parse_copies_no_task(monkeypatch):
    program, copies = parse(["inv", "--list"], monkeypatch)
    assert [getattr(c, "name", type(c).__name__) for c in copies] == [None] and list(program.tasks) == []

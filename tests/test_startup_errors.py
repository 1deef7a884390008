"""Failures before any task body runs still end in one line and exit 2, never a traceback."""

from __future__ import annotations


def test_a_broken_config_file_is_one_line_and_exit_2(inv, workdir):
    (workdir / "broken.yaml").write_text("targets: [\n")
    result = inv("-f", str(workdir / "broken.yaml"), "status")
    assert result.code == 2, result.output
    assert "is not valid YAML at line 2" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_targets_that_are_not_a_list_are_refused(inv, workdir):
    (workdir / "bad.yaml").write_text("targets: {kind: vercel}\n")
    result = inv("-f", str(workdir / "bad.yaml"), "push")
    assert result.code == 2, result.output
    assert "`targets:` must be a list" in result.stderr


def test_a_flag_of_the_wrong_type_is_one_line_and_exit_2(inv):
    result = inv("extend", "--hours", "abc")
    assert result.code == 2, result.output
    assert "a flag's value has the wrong type" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1

"""One exit-code mapping everywhere (README): 0 done, 1 an outside service failed, 2 bad input
or configuration, 3 session expired. A table of cases, each run as the operator would; and the
preflight that makes a wrong token fail before anyone solves a captcha."""

from __future__ import annotations

import ast
import re
from pathlib import Path

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


# -- one ExitCode enum (core/errors.py) is the only place an exit number is written -----------------
EXIT_NUMBERS = {0, 1, 2, 3, 4, 5, 130}
OTHER_PROGRAMS = ("returncode", "exited")   # another program's exit status (ssh, systemctl), not ours


def _name(node) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    if isinstance(node, ast.Subscript):
        return _name(node.value)
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    return ""


def _codeish(name: str) -> bool:
    lower = name.lower()
    return ("code" in lower or "exit" in lower) and "status" not in lower and not lower.endswith(OTHER_PROGRAMS)


def _literals(node):
    """Exit-number literals that are the value itself, or a branch of `x if c else y` / `a or b`."""
    if isinstance(node, ast.Constant) and type(node.value) is int and node.value in EXIT_NUMBERS:
        yield node
    elif isinstance(node, ast.IfExp):
        yield from _literals(node.body)
        yield from _literals(node.orelse)
    elif isinstance(node, ast.BoolOp):
        for value in node.values:
            yield from _literals(value)


def stray_exit_literals(tree: ast.AST):
    """Integer literals where an exit code goes: Exit(..., N), Exit(code=N), os._exit(N), a
    function or property named like exit_code returning N, a `code` parameter's default or
    argument (also positional, for the module's own functions), a `*code*` name assigned or
    compared to N, and `"exitCode": N` or EXIT_CODES = {...: N}."""
    functions = {f.name: f for f in ast.walk(tree) if isinstance(f, (ast.FunctionDef, ast.AsyncFunctionDef))}
    for fn in functions.values():
        if _codeish(fn.name):
            for node in ast.walk(fn):
                if isinstance(node, ast.Return) and node.value is not None:
                    yield from _literals(node.value)
                if isinstance(node, ast.keyword) and node.arg == "default":
                    yield from _literals(node.value)
        args = fn.args
        for arg, default in [*zip(args.args[len(args.args) - len(args.defaults):], args.defaults),
                             *zip(args.kwonlyargs, args.kw_defaults)]:
            if default is not None and _codeish(arg.arg):
                yield from _literals(default)
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            called = _name(node.func)
            if called in ("Exit", "_exit", "exit"):
                for arg in node.args[1:] if called == "Exit" else node.args:
                    yield from _literals(arg)
            if called in functions:
                params = [a.arg for a in functions[called].args.args]
                for param, arg in zip(params, node.args):
                    if _codeish(param):
                        yield from _literals(arg)
            for keyword in node.keywords:
                if keyword.arg and _codeish(keyword.arg):
                    yield from _literals(keyword.value)
        elif isinstance(node, (ast.Assign, ast.AnnAssign)) and node.value is not None:
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names = [_name(e) for t in targets for e in (t.elts if isinstance(t, ast.Tuple) else [t])]
            if any(_codeish(n) for n in names):
                values = node.value.elts if isinstance(node.value, ast.Tuple) else [node.value]
                for value in values:
                    yield from _literals(value)
                    if isinstance(value, ast.Dict):
                        for item in value.values:
                            yield from _literals(item)
        elif isinstance(node, ast.Compare):
            sides = [node.left, *node.comparators]
            if any(_codeish(_name(side)) for side in sides):
                for side in sides:
                    yield from _literals(side)
        elif isinstance(node, ast.Dict):
            for key, value in zip(node.keys, node.values):
                if key is not None and _codeish(_name(key)):
                    yield from _literals(value)


def test_no_exit_number_is_written_outside_the_exit_code_enum():
    src = Path(__file__).resolve().parents[1] / "src" / "mtn_runbook"
    found = []
    for path in sorted(src.rglob("*.py")):
        if path == src / "core" / "errors.py":
            continue
        text = path.read_text()
        lines = text.splitlines()
        for literal in sorted({(n.lineno, n.col_offset): n for n in stray_exit_literals(ast.parse(text))}.values(),
                              key=lambda n: (n.lineno, n.col_offset)):
            found.append(f"{path.relative_to(src)}:{literal.lineno}: {lines[literal.lineno - 1].strip()}")
    assert found == [], "write ExitCode.X (core/errors.py) instead:\n" + "\n".join(found)


def test_the_literal_finder_finds_each_kind_of_stray_exit_number():
    """The test above can fail: each of these writes an exit number by hand."""
    code = '''
raise Exit("x", 2)
raise Exit(code=3)
os._exit(1)
EXIT_CODES = {"ok": 0}
def exit_code(self): return 1 if self.bad else 0
def report(line, code=5): pass
report("x", 130)
problem_code = 4
if result.exit_code == 2: pass
out = {"exitCode": 3}
ok = {"status_code": 2, "returncode": 1}
if proc.returncode != 0: pass
'''
    lines = sorted({n.lineno for n in stray_exit_literals(ast.parse(code))})
    assert lines == [2, 3, 4, 5, 6, 7, 8, 9, 10, 11], lines


def test_exit_codes_are_the_readmes():
    from mtn_runbook.core.errors import ExitCode

    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    listed = re.search(r"Exit codes: (.*?)\.\n", readme, re.S).group(1)
    assert [int(n) for n in re.findall(r"\b(\d+) ", listed)] == [int(c) for c in ExitCode]

"""What every task shares: loading Settings, and the one place errors become exit codes."""

from __future__ import annotations

import functools
import inspect
import os
import sys
from typing import TYPE_CHECKING, Any, Callable

from invoke import Exit, task

from ..core.console import protect, scrub
from ..core.errors import ExitCode, RunbookError
from .flags import RunbookTask, dry_as_check

if TYPE_CHECKING:  # Settings is a large frozen dataclass: built when a task runs, not for `inv --list`
    from ..core.config import Settings


def settings(c: Any, **flags: Any) -> Settings:
    """Settings for this run, with every secret registered so no output can show it."""
    from ..core.config import Settings
    from ..runner.rehearsal import shell_settings

    # a sandbox shell (MTN_RUNBOOK_SANDBOX=1) reads no .env, no invoke.yaml, no real sink
    loaded = shell_settings(**flags) or Settings.load(c.config, **flags)
    protect(*loaded.secrets())
    return loaded


READ_ONLY_CHECK = "this task changes nothing: -c/--check only says so (every task takes it)"
HELP_TOKENS = ("-h", "--help")


def _asked_for_help(fn: Callable, kw: dict[str, Any]) -> bool:
    """Invoke gives any token to a task's missing positional argument before it looks for help, so
    `inv watch.install -h` arrives as host='-h': such a value is a request for help, not a host."""
    required = [n for n, p in list(inspect.signature(fn).parameters.items())[1:] if p.default is p.empty]
    return any(kw.get(name) in HELP_TOKENS for name in required)


def _print_help(body: Callable) -> None:
    """Invoke's own help for this task, through its public Program API."""
    from invoke import Program

    from . import ns

    name = next(n for n in ns.task_names if ns[n].body is body)
    binary = "mtn-runbook" if os.path.basename(sys.argv[0]) == "mtn-runbook" else "inv[oke]"
    Program(namespace=ns, binary=binary).run([binary, "--help", name], exit=False)


def runbook_task(*args: Any, read_only: str = "", **kwargs: Any) -> Callable:
    """`@task`, plus: a RunbookError ends in one line and its exit code, never a traceback.
    MTN_RUNBOOK_DEBUG=1 lets the traceback through.

    `read_only="NAME"` marks a task that changes nothing (its `check` parameter is only there so
    `-c` means the same in every task): given `--check` (or Invoke's `--dry`) it says so, exit 0."""

    def decorate(fn: Callable) -> Any:
        @functools.wraps(fn)
        def body(c: Any, *a: Any, **kw: Any) -> Any:
            debug = os.environ.get("MTN_RUNBOOK_DEBUG") == "1"
            from ..core.deadline import cancel_on_interrupt

            cancel_on_interrupt()  # Ctrl-C also stops HTTP calls in worker threads
            if _asked_for_help(fn, kw):
                return _print_help(body)
            try:
                if c.config.run.dry:  # Invoke's --dry: check mode, or one line and exit 2; never act
                    kw = dry_as_check(fn, kw)
                if read_only and kw.get("check"):
                    from ..core.console import Console

                    Console().line(f"`inv {read_only}` changes nothing (it only reads): --check has nothing to "
                                   f"hold back, so nothing was run — run `inv {read_only}` without --check")
                    return None
                return fn(c, *a, **kw)
            except Exit as e:  # every task's last line passes the one scrubber too (recover's carries a step's error)
                if isinstance(e.message, str) and e.message:
                    raise Exit(scrub(e.message), e.code) from None
                raise
            except RunbookError as e:
                if debug:
                    raise
                raise Exit(scrub(f"✘ {e.line()}"), e.exit_code) from None
            except KeyboardInterrupt:
                raise Exit("✘ interrupted — nothing was left half-written; `inv recover --resume` continues", ExitCode.INTERRUPTED) from None
            except Exception as e:  # a bug: still one line, still no secret
                if debug:
                    raise
                raise Exit(scrub(f"✘ internal error: {type(e).__name__}: {e} — rerun with MTN_RUNBOOK_DEBUG=1 "
                                 "for a traceback"), ExitCode.SERVICE_FAILED) from None

        body.read_only = bool(read_only)  # type: ignore[attr-defined]
        if args and callable(args[0]) and not kwargs:
            return task(body, klass=RunbookTask)
        return task(*args, klass=RunbookTask, **kwargs)(body)

    if args and callable(args[0]) and not kwargs:
        return decorate(args[0])
    return decorate


def install_crash_hook() -> None:
    """Failures before any task runs (Invoke reading a broken invoke.yaml, or casting a flag
    such as `--hours abc`) still end in one line and exit 2, not a traceback."""
    previous = sys.excepthook

    def hook(kind: type, error: BaseException, tb: Any) -> None:
        if os.environ.get("MTN_RUNBOOK_DEBUG") == "1" or not issubclass(kind, Exception):
            return previous(kind, error, tb)
        mark = getattr(error, "problem_mark", None)
        if kind.__module__.split(".")[-2:-1] in (["yaml"], ["parser"]) or mark is not None:
            where = f" at line {mark.line + 1}" if mark is not None else ""
            line = f"✘ a config file (invoke.yaml or -f) is not valid YAML{where}: {getattr(error, 'problem', error)}"
            line += " — fix the file (see invoke.yaml.example)"
        elif kind in (AttributeError, TypeError) and _raised_in(tb, os.sep + os.path.join("invoke", "config.py")):
            line = ("✘ a config file (invoke.yaml or -f) is not a mapping of settings (a top-level list?) "
                    "— fix the file (see invoke.yaml.example)")
        elif kind is ValueError and _raised_in(tb, os.sep + "parser" + os.sep):
            line = f"✘ a flag's value has the wrong type: {error} — see `inv --help <task>`"
        else:
            line = f"✘ internal error: {kind.__name__}: {error} — rerun with MTN_RUNBOOK_DEBUG=1 for a traceback"
            sys.stderr.write(scrub(line) + "\n")
            sys.stderr.flush()
            os._exit(ExitCode.SERVICE_FAILED)
        sys.stderr.write(scrub(line) + "\n")
        sys.stderr.flush()
        os._exit(ExitCode.BAD_INPUT)  # sys.exit() inside an excepthook would only print another traceback

    sys.excepthook = hook


def argument_error(error: Exception, binary: str = "inv") -> str:
    """One line for Invoke's ParseError (a misspelt flag, an unknown task, a flag without its value)
    that says where to look; `mtn-runbook` (cli.py) ends with it and exit 2."""
    import re

    text = str(error)
    context = getattr(error, "context", None)
    where = f"`{binary} --help {context.name}`" if getattr(context, "name", None) else f"`{binary} --list`"
    flag = re.match(r"Flag <Argument: (\w+?)_? .*needed value", text)
    if flag:
        text = f"--{flag.group(1).replace('_', '-')} needs a value"
    return f"{text} — see {where}"


def _raised_in(tb: Any, fragment: str) -> bool:
    while tb is not None:
        if fragment in tb.tb_frame.f_code.co_filename:
            return True
        tb = tb.tb_next
    return False

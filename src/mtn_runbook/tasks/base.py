"""What every task shares: loading Settings, and the one place errors become exit codes."""

from __future__ import annotations

import functools
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
    _help_before_positional_args()


def _help_before_positional_args() -> None:
    """Invoke hands any token to a task's missing positional argument before it looks for
    `-h`/`--help`, so `inv watch.install -h` took `-h` as the HOST and connected to it. Here `-h`
    and `--help` are help wherever they are typed, and a task asked for its help does not also
    demand its positional arguments."""
    from invoke.parser.parser import ParseMachine

    if getattr(ParseMachine.handle, "help_first", False):
        return
    handle, complete_context = ParseMachine.handle, ParseMachine.complete_context

    def help_asked(machine: Any) -> bool:
        return bool(machine.initial and machine.initial.args["help"].value)

    def handling(self: Any, token: str) -> None:
        flag = self.initial.flags[token] if self.initial and token in self.initial.flags else None
        if (flag is not None and flag.name == "help" and self.context is not None
                and self.current_state != "unknown" and token not in self.context.flags
                and not self.waiting_for_flag_value):
            flag.value = self.context.name   # what Invoke does for `-h` after a task's arguments
            return
        handle(self, token)

    def completing(self: Any) -> None:
        if help_asked(self) and self.context is not None and self.context.missing_positional_args:
            if self.context not in self.result:
                self.result.append(self.context)
            return
        complete_context(self)

    handling.help_first = True  # type: ignore[attr-defined]
    ParseMachine.handle = handling  # type: ignore[method-assign]
    ParseMachine.complete_context = completing  # type: ignore[method-assign]


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

"""The push of a session to targets: each target looks, acts unless --check, and looks again;
every target at once, one thread each; one target's failure does not stop the others. Each
push is printed as one line and journaled."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Callable

from ..core.config import Settings
from ..core.console import Console, protect
from ..core.errors import ConfigError, ExitCode, RunbookError
from ..core.journal import Journal
from ..core.session import fingerprint
from .registry import configured
from .target import Current, PushResult, Target

def push_one(target: Target, value: str, *, check: bool = False, activate_anyway: bool = False,
             held_after_last: str | None = None) -> PushResult:
    """Look, act (unless check), look again. Never raises: the result carries the failure.
    `held_after_last`: when the journal's last push of this very value to this target succeeded
    (what --check says of a target it does not connect to)."""
    start = time.monotonic()
    looked = _look_before(target, value, check, start, held_after_last)
    if isinstance(looked, PushResult):
        return looked
    return _act(target, value, looked, check=check, activate_anyway=activate_anyway, start=start)


def _result(target: Target, start: float, outcome: str, detail: str, code: int = ExitCode.DONE, held: Any = None) -> PushResult:
    noted = getattr(target, "noted", lambda: "")()   # e.g. the host key trust: first-use recorded
    detail = "; ".join(p for p in (noted, detail) if p)
    return PushResult(target.name, target.kind, outcome, detail, round(time.monotonic() - start, 2), code, held)


def _failure(target: Target, start: float, e: BaseException) -> PushResult:
    if isinstance(e, RunbookError):
        return _result(target, start, "failed", e.line(), e.exit_code)
    # a bug in one target must not stop the others, nor print a secret
    return _result(target, start, "failed", f"internal error: {type(e).__name__}: {e}", ExitCode.SERVICE_FAILED)


def failed(target: Target, e: BaseException) -> PushResult:
    """The PushResult of a target that failed before its read (its first look said why)."""
    return _failure(target, time.monotonic(), e)


def _look_before(target: Target, value: str, check: bool, start: float,
                 held_after_last: str | None = None) -> "Current | PushResult":
    """The one read before the write (its plan, and the guard's `before`); a PushResult when done."""
    try:
        if check and not target.look_in_check:
            if held_after_last:
                return _result(target, start, "ok",
                               f"held it after the last push ({held_after_last}); not connecting in --check")
            return _result(target, start, "would", f"would {target.describe()} (not connecting in --check)")
        return target.read(value)
    except Exception as e:
        target.close()
        return _failure(target, start, e)


def _act(target: Target, value: str, current: Current, *, check: bool, activate_anyway: bool,
         start: float) -> PushResult:
    try:
        if current.holds:
            if activate_anyway and not check:
                # it holds the value but the last push failed, maybe before the restart: finish it
                done = target.activate()
                if done:
                    return _result(target, start, "ok",
                                   f"already holds it; {done} to finish the last push, which had failed",
                                   held=current.before)
            return _result(target, start, "ok", "already holds it", held=current.before)
        if check:
            return _result(target, start, "would", f"would {current.plan}")
        target.put(value, current)
        detail = target.verify(value, current)
        done = target.activate()
        return _result(target, start, "changed", "; ".join(p for p in (detail, done) if p), held=current.after)
    except Exception as e:
        failed = _failure(target, start, e)
        return PushResult(**{**failed.__dict__, "held": current.after})
    finally:
        target.close()


def read_all(targets: list[Target], value: str, *, check: bool = False) -> list["Current | PushResult"]:
    """Every target's read before its write, concurrently: a Current, or the PushResult it ended in.
    recover reads ahead with it while the value to push is validated (read-only: nothing is written)."""
    value = value.strip()
    start = time.monotonic()
    with ThreadPoolExecutor(max_workers=max(1, len(targets)), thread_name_prefix="read") as pool:
        return list(pool.map(lambda t: _look_before(t, value, check, start), targets))


def push(settings: Settings, value: str, *, console: Console, kind: str | None = None,
         check: bool = False, targets: list[Target] | None = None,
         guard: Callable[[dict[str, Any]], None] | None = None,
         looked: list["Current | PushResult"] | None = None) -> list[PushResult]:
    """Put `value` (an encoded, already validated session) at every configured target, or
    every target of one `kind`, concurrently. Prints one line per target; journals each push.
    Returns the results in configuration order; raises only for bad configuration or value.

    `guard(before)` sees what each target held at its read before the write (Holdings by name,
    None where the target does not say) once every target is read, and before any is written:
    it raises to stop the push (recover's two-operator check). `looked`: read_all's answer for
    these targets and this value, read a moment ago (not in --check); else they are read now."""
    value = value.strip()  # the stored value never ends in whitespace (the CLI once stored "\n")
    if not value:
        raise ConfigError("the session to push is empty", "run `inv export` or `inv auth` first")
    protect(value)
    targets = configured(settings, kind) if targets is None else targets
    journal = Journal(settings.journal_file)
    last = journal.latest_by("push", "target")  # one pass over the journal, not one per target
    unfinished = {t.name for t in targets if last.get(t.name, {}).get("outcome") == "failed"}
    fp = fingerprint(value)
    held = {t.name: last[t.name].get("ts") for t in targets if last.get(t.name, {}).get("fingerprint") == fp
            and last[t.name].get("outcome") in ("changed", "ok")}
    verb = "checking" if check else "pushing MTN_SESSION to"
    with console.waiting(f"{verb} {len(targets)} target(s)"):
        # one thread per target: every push is I/O-bound, and any number goes in one round
        with ThreadPoolExecutor(max_workers=max(1, len(targets))) as pool:
            start = time.monotonic()
            if looked is None or check:
                looked = list(pool.map(lambda t: _look_before(t, value, check, start, held.get(t.name)), targets))
            if guard is not None:
                try:
                    guard({t.name: c.before for t, c in zip(targets, looked) if isinstance(c, Current)})
                except BaseException:
                    for t in targets:
                        t.close()
                    raise
            futures = [pool.submit(_act, t, value, c, check=check, activate_anyway=t.name in unfinished,
                                   start=start) if isinstance(c, Current) else None
                       for t, c in zip(targets, looked)]
            results = [f.result() if f is not None else c for f, c in zip(futures, looked)]
    for r in results:
        console.step(r.outcome, r.name, r.detail, r.seconds)
        if not check:
            journal.write("push", target=r.name, target_kind=r.kind, outcome=r.outcome,
                          detail=r.detail, seconds=r.seconds, fingerprint=fp)
    return results

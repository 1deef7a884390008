"""Where a session goes: Vercel env vars, Coolify env vars, GitHub secrets, env files on SSH hosts.

Every target follows one shape (look, act unless --check, look again):

    read(value)            -> Current   what it holds now; whether that is already `value`
    put(value, current)                 store `value` (never delete-then-add)
    verify(value, current)              read back: raise when the target does not hold it
    activate()                          make it live where that is part of the push (SSH restart)

A target reads what it holds once before its write and once after it. `read` fills
`Current.before` and `verify` fills `Current.after` (a targets/holding.py Holding): the run's
two-operator guard compares the first with what it noted as the run started, and the recap
reports the second; neither needs a read of its own. A target object keeps what it learnt
(Vercel's env ids and values, GitHub's public key) for the rest of the run.

`configured(settings, kind)` builds the targets from invoke.yaml `targets:` or, with none
listed, from VERCEL_* / GITHUB_* / COOLIFY_* variables. `push(settings, value, ...)` pushes to all of them
concurrently; one target's failure does not stop the others. The caller validates the session
first (tasks/push.py): nothing here decides whether a session deserves pushing.
"""

from __future__ import annotations

import re
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from typing import Any, Callable, Mapping, Protocol

from ..core.config import VARIABLES, Settings
from ..core.console import Console, protect
from ..core.errors import ConfigError, ExitCode, RunbookError
from ..core.journal import Journal
from ..core.session import fingerprint

KINDS = ("vercel", "github", "ssh", "coolify")
SECRET_FIELDS = frozenset({"token", "password", "value", "secret_value", "passphrase"})


@dataclass
class Current:
    """What a target holds now. `holds`: True (exactly the value), False (missing or
    different), None (cannot be read back, e.g. a GitHub secret or a sensitive Vercel var)."""
    holds: bool | None
    plan: str                      # what put() would do, in the operator's words
    state: Any = None              # the target's own notes for put/verify (ids, timestamps)
    before: Any = None             # targets/holding.py Holding: what this read found (None: not said)
    after: Any = None              # the Holding verify read back after the write (None: not said)


class Target(Protocol):
    kind: str
    name: str
    look_in_check: bool            # False: --check must not even connect (SSH)

    def describe(self) -> str: ...
    def preflight(self) -> str: ...  # read-only: the token works and the target is reachable (doctor)
    def read(self, value: str) -> Current: ...
    def put(self, value: str, current: Current) -> None: ...
    def verify(self, value: str, current: Current) -> str: ...
    def activate(self) -> str: ...
    def close(self) -> None: ...


@dataclass(frozen=True)
class PushResult:
    name: str                      # the target's name, e.g. "vercel prj_x (production)"
    kind: str                      # vercel | github | ssh
    outcome: str                   # "changed", "ok" (already held it), "would" (--check), "failed"
    detail: str                    # one line: what happened, or the error and what to do
    seconds: float
    exit_code: int = ExitCode.DONE  # the error's exit code when failed (2: configuration)
    held: Any = field(default=None, compare=False, repr=False)  # Holding read last (after the write, if any)

    @property
    def failed(self) -> bool:
        return self.outcome == "failed"

    def to_json(self) -> dict:
        out = asdict(self)
        out.pop("held", None)
        return out


def read_found(api: Any, name: str, path: str, hint: str) -> Any:
    """GET `path` on a platform's API; a 404 means a wrong project or application id (configuration)."""
    from ..core.http import api_message

    response = api.get(path, expect=(200, 404))
    if response.status_code == 404:
        raise ConfigError(f"{name}: GET {path} answered 404 {api_message(response)}".rstrip(), hint)
    return response.json()


def exit_code(results: list[PushResult]) -> int:
    """0 all fine; 2 when every failure is a configuration error; else 1."""
    failures = [r for r in results if r.failed]
    if not failures:
        return ExitCode.DONE
    return ExitCode.BAD_INPUT if all(r.exit_code == ConfigError.exit_code for r in failures) else ExitCode.SERVICE_FAILED


# -- configuration ------------------------------------------------------------------------
@dataclass(frozen=True)
class Entry:
    """One `targets:` entry, checked: which fields each kind takes, which it needs."""
    index: int
    raw: Mapping[str, Any] = field(default_factory=dict)

    def label(self) -> str:
        return f"invoke.yaml targets[{self.index}] ({self.raw.get('kind', '?')})"

    def error(self, message: str) -> ConfigError:
        return ConfigError(f"{self.label()}: {message}",
                           "fix the entry in invoke.yaml (see runbooks/ for the fields of each kind)")

    def field_or(self, name: str, settings: Settings, variable: str) -> str:
        """The entry's field `name`, else the setting `variable` (the one-target set-up without
        `targets:`); neither set is an error naming both."""
        value = str(self.raw.get(name) or getattr(settings, VARIABLES[variable].name))
        if not value:
            raise self.error(f"missing field {name} (or set {variable})")
        return value


FIELDS = {
    "vercel": {"project", "team", "environments", "type", "key", "name"},
    "github": {"repository", "environments", "repository_secret", "secret", "name"},
    "ssh": {"host", "user", "port", "key_filename", "known_hosts", "trust", "timeout", "env_file", "restart", "key",
            "name"},
    "coolify": {"application", "key", "name"},
}
REQUIRED = {"vercel": (), "github": (), "ssh": ("host", "env_file"), "coolify": ()}
ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")   # what `key` may be: an environment variable's name
# what to do when a push finds no target, per kind: SSH hosts come only from invoke.yaml
NOTHING_CONFIGURED = {
    None: "set VERCEL_TOKEN + VERCEL_PROJECT_ID and/or GITHUB_TOKEN + GITHUB_REPOSITORY, "
          "or list them under `targets:` in invoke.yaml",
    "vercel": "set VERCEL_TOKEN + VERCEL_PROJECT_ID, or list a `kind: vercel` target in invoke.yaml",
    "github": "set GITHUB_TOKEN + GITHUB_REPOSITORY, or list a `kind: github` target in invoke.yaml",
    "ssh": "SSH hosts are listed only in invoke.yaml: a `kind: ssh` target with host and env_file "
           "(see invoke.yaml.example)",
    "coolify": "set COOLIFY_API_URL + COOLIFY_TOKEN + COOLIFY_APP_UUID, or list a `kind: coolify` target in invoke.yaml",
}


def configured(settings: Settings, kind: str | None = None) -> list[Target]:
    """The push targets, from invoke.yaml `targets:` or else from the environment.
    Raises ConfigError (exit 2) naming a bad entry, or when nothing is configured."""
    if kind is not None and kind not in KINDS:
        raise ConfigError(f"unknown target kind {kind!r}", f"use one of: {', '.join(KINDS)}")
    targets: list[Target] = []
    if settings.targets:
        for i, raw in enumerate(settings.targets):
            entry = _checked(Entry(i, raw))
            if kind is None or entry.raw["kind"] == kind:
                targets.extend(_build(settings, entry))
    else:
        targets = [t for t in _from_environment(settings) if kind is None or t.kind == kind]
    if not targets:
        what = f"{kind} " if kind else ""
        raise ConfigError(f"no {what}push targets configured", NOTHING_CONFIGURED[kind])
    _dedupe_names(targets)
    return targets


def _checked(entry: Entry) -> Entry:
    raw = entry.raw
    if not isinstance(raw, Mapping):
        raise entry.error("must be a mapping with a `kind`")
    kind = raw.get("kind")
    if kind not in KINDS:
        raise entry.error(f"unknown kind {kind!r} (use one of: {', '.join(KINDS)})")
    secrets = SECRET_FIELDS & set(raw)
    if secrets:
        raise ConfigError(f"{entry.label()}: `{sorted(secrets)[0]}` does not belong in invoke.yaml",
                          "tokens come only from the environment or .env (VERCEL_TOKEN, GITHUB_TOKEN)")
    unknown = set(raw) - FIELDS[kind] - {"kind"}
    if unknown:
        raise entry.error(f"unknown field(s) {', '.join(sorted(unknown))} "
                          f"(a {kind} target takes: {', '.join(sorted(FIELDS[kind]))})")
    missing = [f for f in REQUIRED[kind] if raw.get(f) in (None, "")]
    if missing:
        raise entry.error(f"missing field(s) {', '.join(missing)}")
    blank = [f for f in REQUIRED[kind] if not str(raw[f]).strip()]
    if blank:
        raise entry.error(f"{blank[0]} {raw[blank[0]]!r} is blank")
    host = raw.get("host")
    if host is not None and any(c.isspace() for c in str(host)):
        raise entry.error(f"host {host!r} has a space in it (a host name or address has none)")
    key = raw.get("key")
    if key is not None and not (isinstance(key, str) and ENV_NAME.fullmatch(key)):
        raise entry.error(f"key {key!r} is not an environment variable name "
                          "(letters, digits and _, not starting with a digit)")
    port = raw.get("port")
    if port is not None and (isinstance(port, bool) or not isinstance(port, int) or not 1 <= port <= 65535):
        raise entry.error(f"port {port!r} is not a port number (1 to 65535)")
    envs = raw.get("environments")
    if envs is not None and (not isinstance(envs, list) or not all(isinstance(e, str) and e.strip() for e in envs)):
        raise entry.error("`environments` must be a list of names")
    return entry


def _build(settings: Settings, entry: Entry) -> list[Target]:
    kind = entry.raw["kind"]
    if kind == "vercel":
        from .vercel import VercelTarget

        return [VercelTarget.from_entry(settings, entry)]
    if kind == "github":
        from .github import github_targets

        return github_targets(settings, entry)
    if kind == "coolify":
        from .coolify import CoolifyTarget

        return [CoolifyTarget.from_entry(settings, entry)]
    from .ssh import SshTarget

    return [SshTarget.from_entry(settings, entry)]


def _from_environment(settings: Settings) -> list[Target]:
    targets: list[Target] = []
    if settings.vercel_token and settings.vercel_project_id:
        from .vercel import VercelTarget

        targets.append(VercelTarget(settings, project=settings.vercel_project_id, team=settings.vercel_team_id))
    if settings.github_token and settings.github_repository:
        from .github import GithubTarget

        targets.append(GithubTarget(settings, repository=settings.github_repository))
    if settings.coolify_token and settings.coolify_app_uuid:
        from .coolify import CoolifyTarget

        targets.append(CoolifyTarget(settings, application=settings.coolify_app_uuid))
    return targets


def _dedupe_names(targets: list[Target]) -> None:
    seen: dict[str, int] = {}
    for t in targets:
        seen[t.name] = seen.get(t.name, 0) + 1
        if seen[t.name] > 1:
            t.name = f"{t.name} #{seen[t.name]}"


# -- pushing ------------------------------------------------------------------------------
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

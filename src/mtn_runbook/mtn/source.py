"""Which session a task works on: the session file, or MTN_SESSION (as in CI)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from ..core.config import Settings
from ..core.console import Console
from ..core.errors import ConfigError
from ..core.session import Session, decode, load


@dataclass(frozen=True)
class Loaded:
    session: Session
    source: str                          # "session file <path>" or "MTN_SESSION"
    path: Path | None                    # the file it came from, None for MTN_SESSION
    warnings: list[str] = field(default_factory=list)


def current_session(settings: Settings, *, file: str | Path | None = None, env: bool = False,
                    check: bool = False) -> Loaded:
    """`file` when given; MTN_SESSION when `env`; else the session file when it exists, else
    MTN_SESSION. Bad input raises SessionFormatError/ConfigError (exit 2) with one clear line."""
    if file and env:
        raise ConfigError("--file and --env choose different sessions", "use one of them")
    if file:
        path = Path(file).expanduser()
        session, warnings = load(path, fix_mode=not check)
        return Loaded(session, f"session file {path}", path, warnings)
    if env:
        if not settings.mtn_session:
            raise ConfigError("MTN_SESSION is not set", "set it (base64 from `inv export`), or drop --env to use the session file")
        session, warnings = decode(settings.mtn_session, "MTN_SESSION")
        return Loaded(session, "MTN_SESSION", None, warnings)
    path = settings.session_file
    if path.exists() or not settings.mtn_session:
        session, warnings = load(path, fix_mode=not check)  # a missing file: "does not exist — run `inv auth`"
        return Loaded(session, f"session file {path}", path, warnings)
    session, warnings = decode(settings.mtn_session, "MTN_SESSION")
    return Loaded(session, "MTN_SESSION", None, warnings)


def open_session(settings: Settings, console: "Console", *, file: str | Path | None = None,
                 env: bool = False, check: bool = False) -> Loaded:
    """`current_session` for a task about to use it: its secrets registered so no output can show
    them, and its warnings (whitespace stripped, mode fixed to 0600) printed."""
    from ..core.console import protect

    loaded = current_session(settings, file=file, env=env, check=check)
    protect(*loaded.session.secrets())
    for warning in loaded.warnings:
        console.warn(warning)
    return loaded

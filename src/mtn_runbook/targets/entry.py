"""One invoke.yaml `targets:` entry, checked: which fields each kind takes, which it needs, and
that no secret is written there (tokens come only from the environment)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Mapping

from ..core.config import VARIABLES, Settings
from ..core.errors import ConfigError
from .target import KINDS

SECRET_FIELDS = frozenset({"token", "password", "value", "secret_value", "passphrase"})
FIELDS = {
    "vercel": {"project", "team", "environments", "type", "key", "name"},
    "github": {"repository", "environments", "repository_secret", "secret", "name"},
    "ssh": {"host", "user", "port", "key_filename", "known_hosts", "trust", "timeout", "env_file", "restart", "key",
            "name"},
    "coolify": {"application", "key", "name"},
}
REQUIRED = {"vercel": (), "github": (), "ssh": ("host", "env_file"), "coolify": ()}
ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")   # what `key` may be: an environment variable's name


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


def checked(entry: Entry) -> Entry:
    """`entry` when its kind and fields are sound; else a ConfigError (exit 2) naming the entry."""
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

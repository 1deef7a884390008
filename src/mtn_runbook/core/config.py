"""One frozen Settings object, read once per task.

Precedence: task flag > environment > `.env` (never overriding the environment) >
`invoke.yaml` (lower-case names, plus `targets:`) > default. Secrets (passwords, tokens,
the session, the webhook URL) are read only from the environment or `.env`, never from a
flag or `invoke.yaml`, so they stay out of shell history and out of git.
"""

from __future__ import annotations

import os
from dataclasses import Field, dataclass, field, fields, replace
from pathlib import Path
from typing import Any, Mapping
from urllib.parse import urlsplit

from .errors import ConfigError

DEFAULT_SSO_LOGIN_URL = (
    "https://sso.mtnbusiness.co.za/login?service="
    "https%3A%2F%2Fasp-feasibility.mtnbusiness.co.za%2Flogin%2Fcas"
)
DEFAULT_API_BASE_URL = "https://asp-feasibility.mtnbusiness.co.za"

ALIASES = {"VERCEL_ORG_ID": "VERCEL_TEAM_ID"}
# Not a setting (so not a Settings field): a sandbox shell's marker. sandbox/shell.py writes it and
# runner/rehearsal.py reads it; kept here so reading it loads no part of the sandbox.
SANDBOX_SHELL_MARKER = "MTN_RUNBOOK_SANDBOX"
URL_VARIABLES = ("MTN_SSO_LOGIN_URL", "MTN_API_BASE_URL", "VERCEL_API_URL", "GITHUB_API_URL",
                 "COOLIFY_API_URL", "PRODUCTION_URL", "ALERT_WEBHOOK_URL")


def var(env: str, default: Any = "", *, secret: bool = False) -> Any:
    """A Settings field read from the variable `env`. A secret is read only from the
    environment or `.env`, never from `invoke.yaml` or a flag, and is scrubbed from output."""
    return field(default=default, metadata={"env": env, "secret": secret})


@dataclass(frozen=True)
class Settings:
    mtn_username: str = var("MTN_USERNAME")
    mtn_password: str = var("MTN_PASSWORD", secret=True)
    mtn_sso_login_url: str = var("MTN_SSO_LOGIN_URL", DEFAULT_SSO_LOGIN_URL)
    mtn_api_base_url: str = var("MTN_API_BASE_URL", DEFAULT_API_BASE_URL)
    mtn_api_key: str = var("MTN_API_KEY", secret=True)
    mtn_session: str = var("MTN_SESSION", secret=True)
    session_file: Path = var("MTN_SESSION_FILE", Path(".cache/mtn-session.json"))
    # checked where it is used (core/pushed.py): a bad value breaks only pushes
    gate_hours: str = var("MTN_GATE_HOURS", "48")
    chromium_path: str = var("PLAYWRIGHT_CHROMIUM_EXECUTABLE_PATH")
    vercel_api_url: str = var("VERCEL_API_URL", "https://api.vercel.com")
    vercel_token: str = var("VERCEL_TOKEN", secret=True)
    vercel_project_id: str = var("VERCEL_PROJECT_ID")
    vercel_team_id: str = var("VERCEL_TEAM_ID")
    github_api_url: str = var("GITHUB_API_URL", "https://api.github.com")
    github_token: str = var("GITHUB_TOKEN", secret=True)
    github_repository: str = var("GITHUB_REPOSITORY")
    # the Coolify instance (https://coolify.example.com); the API is under /api/v1
    coolify_api_url: str = var("COOLIFY_API_URL")
    coolify_token: str = var("COOLIFY_TOKEN", secret=True)
    coolify_app_uuid: str = var("COOLIFY_APP_UUID")
    production_url: str = var("PRODUCTION_URL")
    alert_webhook_url: str = var("ALERT_WEBHOOK_URL", secret=True)
    # refresh due: working hours and the survival estimate (read and checked in lifespan/ and monitor/)
    monitor_working_hours: str = var("MONITOR_WORKING_HOURS", "Mon-Fri 08:00-18:00")
    monitor_timezone: str = var("MONITOR_TIMEZONE", "Africa/Johannesburg")
    monitor_refresh_risk: str = var("MONITOR_REFRESH_RISK", "0.10")
    monitor_min_deaths: str = var("MONITOR_MIN_DEATHS", "5")
    monitor_every_minutes: str = var("MONITOR_EVERY_MINUTES", "60")
    # GitHub logins whose ledger entries count (empty: the token's and the bot)
    monitor_ledger_writers: str = var("MONITOR_LEDGER_WRITERS")
    # `inv keepalive`'s interval (checked in watch/keepalive.py)
    keepalive_minutes: str = var("KEEPALIVE_MINUTES", "10")
    # where `--link` serves its login page (port 0: a free one chosen at random), and the host
    # name the person opens when it is not the bind address
    link_bind: str = var("MTN_LINK_BIND", "127.0.0.1")
    link_port: str = var("MTN_LINK_PORT", "0")
    link_public_host: str = var("MTN_LINK_PUBLIC_HOST")
    # seconds verify keeps retrying after a deployment (deploy, recover), and each production or
    # MTN API check may take in all: numbers, checked when settings load
    verify_window: float = var("VERIFY_WINDOW_SECONDS", 30.0)
    check_deadline: float = var("CHECK_DEADLINE_SECONDS", 30.0)
    # `targets:` from invoke.yaml, as written there (see mtn_runbook.targets)
    targets: tuple[Mapping[str, Any], ...] = field(default_factory=tuple)

    @property
    def cache_dir(self) -> Path:
        """Where the journal and the lock live: beside the session file."""
        return self.session_file.parent

    @property
    def journal_file(self) -> Path:
        return self.cache_dir / "journal.jsonl"

    def secrets(self) -> list[str]:
        """Every secret value set, so output can be scrubbed of them, including a password (or
        token) written into a URL variable (`https://user:pw@host`)."""
        found = [getattr(self, VARIABLES[n].name) for n in SECRET_VARIABLES if getattr(self, VARIABLES[n].name)]
        for name in URL_VARIABLES:
            parts = urlsplit(str(getattr(self, VARIABLES[name].name) or ""))
            found += [p for p in (parts.password, parts.username if parts.password is None else None) if p]
        return found

    def with_(self, **changes: Any) -> "Settings":
        return replace(self, **changes)

    @classmethod
    def load(
        cls,
        config: Mapping[str, Any] | None = None,
        *,
        environ: Mapping[str, str] | None = None,
        dotenv_path: str | os.PathLike[str] | None = None,
        use_dotenv: bool = True,
        **flags: Any,
    ) -> "Settings":
        """Build Settings. `config` is Invoke's config (invoke.yaml); `flags` are task flags."""
        env = dict(os.environ if environ is None else environ)
        for alias, name in ALIASES.items():
            if alias in env and name not in env:
                env[name] = env[alias]
        dotenv = _read_dotenv(dotenv_path) if use_dotenv else {}
        config = config or {}
        values: dict[str, Any] = {}
        for name, f in VARIABLES.items():
            attr, default, secret = f.name, f.default, f.metadata["secret"]
            if name in env and env[name] != "":
                values[attr] = env[name]
            elif dotenv.get(name):
                values[attr] = dotenv[name]
            elif not secret and config.get(attr) not in (None, ""):
                values[attr] = str(config[attr])
            elif not secret and config.get(name.lower()) not in (None, ""):
                values[attr] = str(config[name.lower()])
            else:
                values[attr] = default
        for attr, value in flags.items():
            if value is not None:
                values[attr] = value
        values["session_file"] = Path(values["session_file"]).expanduser()
        check_values(values)
        for name in SECONDS_VARIABLES:
            values[VARIABLES[name].name] = seconds(name, values[VARIABLES[name].name])
        raw_targets = config.get("targets") or ()
        if not isinstance(raw_targets, (list, tuple)):
            raise ConfigError("invoke.yaml: `targets:` must be a list", "see .env.example and runbooks/")
        for i, entry in enumerate(raw_targets):
            if not isinstance(entry, Mapping):
                raise ConfigError(f"invoke.yaml targets[{i}] is {_kind_of(entry)}, not a mapping with a `kind`",
                                  "write each target as `- kind: vercel` (or github, ssh) with its fields; "
                                  "see invoke.yaml.example")
        values["targets"] = tuple(dict(t) for t in raw_targets)
        return cls(**{f.name: values[f.name] for f in fields(cls) if f.name in values})


# variable name -> its Settings field (the field's metadata says whether it is a secret)
VARIABLES: dict[str, Field[Any]] = {f.metadata["env"]: f for f in fields(Settings) if "env" in f.metadata}
SECRET_VARIABLES = frozenset(name for name, f in VARIABLES.items() if f.metadata["secret"])


# -- checked when settings load: one line naming the variable, never its secret value ---------
TOKEN_VARIABLES = ("VERCEL_TOKEN", "GITHUB_TOKEN", "COOLIFY_TOKEN", "MTN_API_KEY")   # sent in HTTP headers


def check_values(values: Mapping[str, Any]) -> None:
    """Raise ConfigError (exit 2) for a URL variable that is not an http(s) URL with a host, or a
    token that could not go into an HTTP header (a line break, a space, a non-ASCII character)."""
    for name in URL_VARIABLES:
        value = str(values.get(VARIABLES[name].name) or "")
        problem = url_problem(value) if value else None
        if problem:
            secret = name in SECRET_VARIABLES
            shown = "" if secret else f" {_redacted(value)!r}"
            problem = problem.split(":")[0] if secret else problem   # no "write it as <value>" for a secret
            raise ConfigError(f"{name}{shown} {problem}",
                              f"fix {name} in the environment or .env: a full URL such as https://host.example")
    for name in TOKEN_VARIABLES:
        value = str(values.get(VARIABLES[name].name) or "")
        problem = token_problem(value) if value else None
        if problem:
            raise ConfigError(f"{name} {problem}", f"set {name} to the token alone, on one line (it is not printed)")


SECONDS_VARIABLES = ("VERIFY_WINDOW_SECONDS", "CHECK_DEADLINE_SECONDS")


def seconds(name: str, value: Any) -> float:
    """A positive number of seconds, or one line naming the variable (exit 2)."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        number = float("nan")
    if not 0 < number < 86400:
        raise ConfigError(f"{name} {str(value)!r} is not a number of seconds between 0 and 86400",
                          f"fix {name} in the environment or .env (default {VARIABLES[name].default:g})")
    return number


def url_problem(value: str) -> str | None:
    """Why `value` is not an http(s) URL with a host, in a few words; None when it is one."""
    if any(ord(ch) <= 32 or ord(ch) == 127 for ch in value):
        return "contains a space, a line break or a control character"
    if "://" not in value:
        return "has no scheme: write it as https://" + value.lstrip("/")
    try:
        parts = urlsplit(value)
        parts.port  # raises for a port that is not a number or out of range
    except ValueError:
        return "is not a valid URL (check the host and port)"
    if parts.scheme.lower() not in ("http", "https"):
        return f"uses {parts.scheme}://, not http:// or https://"
    if not parts.hostname:
        return "has no host"
    return None


def token_problem(value: str) -> str | None:
    if "\n" in value or "\r" in value:
        return "contains a line break (a copy-paste with a newline?)"
    if any(ord(ch) > 126 for ch in value):
        return "contains a non-ASCII character"
    if any(ord(ch) <= 32 or ord(ch) == 127 for ch in value):
        return "contains a space or a control character"
    return None


def _redacted(url: str) -> str:
    from .console import redact_url

    return redact_url(url)


def _kind_of(value: Any) -> str:
    if isinstance(value, str):
        return f"the string {value[:40]!r}"
    if isinstance(value, (list, tuple)):
        return "a list"
    return f"a {type(value).__name__}"


def _read_dotenv(path: str | os.PathLike[str] | None) -> dict[str, str]:
    from dotenv import dotenv_values

    path = Path(path) if path else Path.cwd() / ".env"
    if not path.is_file():
        return {}
    try:
        loaded = dotenv_values(path)
    except UnicodeDecodeError as e:
        raise ConfigError(f"{path.name} is not UTF-8 text (byte 0x{e.object[e.start]:02x} at offset {e.start})",
                          f"save {path} as UTF-8") from None
    values = {k: v for k, v in loaded.items() if v is not None}
    for alias, name in ALIASES.items():
        if alias in values and name not in values:
            values[name] = values[alias]
    return values


def require(settings: Settings, *names: str) -> None:
    """Raise one ConfigError naming every required variable that is not set."""
    missing = [n for n in names if not getattr(settings, VARIABLES[n].name)]
    if missing:
        raise ConfigError(
            f"{', '.join(missing)} not set",
            f"set {'it' if len(missing) == 1 else 'them'} in the environment or in .env (see .env.example)",
        )

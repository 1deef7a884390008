"""The Vercel, GitHub and Coolify REST APIs as this project talks to them: base URL, token, team, headers.

Every caller (targets, deploy, doctor, alerts, the workflow checks) builds its client here, so
the token variable named in errors, the `teamId` parameter and GitHub's version headers are
decided once.
"""

from __future__ import annotations

from .config import Settings
from .errors import ConfigError
from .http import Api

GITHUB_HEADERS = {"Accept": "application/vnd.github+json", "X-GitHub-Api-Version": "2022-11-28"}


def vercel(settings: Settings, *, name: str = "Vercel", team: str | None = None, retries: int = 4) -> Api:
    """Vercel with VERCEL_TOKEN; `?teamId=` (VERCEL_TEAM_ID unless `team` is given; "" for none),
    without which a team's project is not found."""
    if not settings.vercel_token:
        raise ConfigError(f"{name}: VERCEL_TOKEN not set",
                          "set it in the environment or .env (a token with access to the project)")
    team = settings.vercel_team_id if team is None else team
    return Api(name, settings.vercel_api_url, token=settings.vercel_token, token_var="VERCEL_TOKEN",
               params={"teamId": team} if team else None, retries=retries)


def github(settings: Settings, *, name: str = "GitHub", retries: int = 4) -> Api:
    """GitHub with GITHUB_TOKEN and the API version this project was written against."""
    if not settings.github_token:
        raise ConfigError(f"{name}: GITHUB_TOKEN not set",
                          "set it in the environment or .env (a token that may write Actions secrets and issues)")
    return Api(name, settings.github_api_url, token=settings.github_token, token_var="GITHUB_TOKEN",
               headers=GITHUB_HEADERS, retries=retries)


def github_api(settings: Settings) -> Api:
    """GitHub for the configured repository: GITHUB_TOKEN and an owner/name GITHUB_REPOSITORY are
    both required (issues, Actions secrets and workflows are addressed through it)."""
    if not settings.github_token or not settings.github_repository:
        missing = [n for n, v in (("GITHUB_TOKEN", settings.github_token),
                                  ("GITHUB_REPOSITORY", settings.github_repository)) if not v]
        raise ConfigError(f"{', '.join(missing)} not set",
                          "set it in the environment or .env (see .env.example)")
    if "/" not in settings.github_repository:
        raise ConfigError(f"GITHUB_REPOSITORY {settings.github_repository!r} is not owner/name")
    return github(settings)


def coolify_base(url: str) -> str:
    """The API root of a Coolify instance: COOLIFY_API_URL is the instance's URL; a value that
    already ends in /api/v1 is taken as it is."""
    url = url.rstrip("/")
    return url if url.endswith("/api/v1") else f"{url}/api/v1"


def coolify(settings: Settings, *, name: str = "Coolify", retries: int = 4) -> Api:
    """A Coolify instance's API (COOLIFY_API_URL + /api/v1) with COOLIFY_TOKEN as Bearer token."""
    missing = [n for n, v in (("COOLIFY_API_URL", settings.coolify_api_url), ("COOLIFY_TOKEN", settings.coolify_token))
               if not v]
    if missing:
        raise ConfigError(f"{name}: {' and '.join(missing)} not set",
                          "set them in the environment or .env (an API token of the application's team "
                          "with read, write and deploy permissions)")
    return Api(name, coolify_base(settings.coolify_api_url), token=settings.coolify_token, token_var="COOLIFY_TOKEN",
               headers={"Accept": "application/json"}, retries=retries)

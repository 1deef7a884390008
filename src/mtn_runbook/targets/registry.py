"""Which targets are configured: built from invoke.yaml `targets:` or, with none listed, from
the VERCEL_* / GITHUB_* / COOLIFY_* variables; each kind's module is imported only when used."""

from __future__ import annotations

from ..core.config import Settings
from ..core.errors import ConfigError
from .entry import Entry, checked
from .target import KINDS, Target

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
            entry = checked(Entry(i, raw))
            if kind is None or entry.raw["kind"] == kind:
                targets.extend(_build(settings, entry))
    else:
        targets = [t for t in _from_environment(settings) if kind is None or t.kind == kind]
    if not targets:
        what = f"{kind} " if kind else ""
        raise ConfigError(f"no {what}push targets configured", NOTHING_CONFIGURED[kind])
    _dedupe_names(targets)
    return targets


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

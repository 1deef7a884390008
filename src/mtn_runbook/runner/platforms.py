"""Where production runs, and redeploying it there: Vercel (services/redeploy.py) and/or each
Coolify application among the targets (targets/coolify_deploy.py).

With no Coolify target configured, production is Vercel, as it always was (VERCEL_PROJECT_ID, or
the one Vercel project in invoke.yaml). With Coolify targets, production is those applications,
plus Vercel only where a Vercel target covers production. `inv deploy` redeploys every platform
configured; recover's deploy step only those its chosen targets (--only/--skip-target) feed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ..core.config import Settings
from ..core.console import Console

if TYPE_CHECKING:
    from ..services.redeploy import Deployment
    from ..targets import Target
    from ..targets.coolify import CoolifyTarget
    from ..targets.coolify_deploy import CoolifyDeployment


@dataclass(frozen=True)
class Platforms:
    vercel: bool
    coolify: list[CoolifyTarget] = field(default_factory=list)   # one per application

    def names(self) -> list[str]:
        return (["Vercel"] if self.vercel else []) + [t.name for t in self.coolify]


def _has_coolify(settings: Settings) -> bool:
    if settings.targets:
        return any(isinstance(t, dict) and t.get("kind") == "coolify" for t in settings.targets)
    return bool(settings.coolify_token and settings.coolify_app_uuid)


def configured_platforms(settings: Settings) -> Platforms:
    """Every production platform configured (`inv deploy`, doctor, the login's preflight)."""
    if not _has_coolify(settings):
        return Platforms(vercel=True)
    from ..targets import configured

    return chosen_platforms(configured(settings))


def chosen_platforms(targets: list[Target]) -> Platforms:
    """The platforms these targets feed (recover's deploy step, after --only/--skip-target)."""
    from ..targets.coolify import CoolifyTarget
    from ..targets.selection import production_reads

    return Platforms(vercel=any(t.kind == "vercel" and production_reads(t) for t in targets),
                     coolify=[t for t in targets if isinstance(t, CoolifyTarget)])


def describe(settings: Settings, platforms: Platforms) -> str:
    """Read-only: what `inv deploy` would redeploy (doctor's and the preflight's deploy line).
    Raises RunbookError when a platform cannot be reached or is not configured."""
    parts = []
    if platforms.vercel:
        from ..services.redeploy import production

        name, current = production(settings)
        parts.append(f"Vercel project {name or settings.vercel_project_id}"
                     + (f", production {current.id}" if current else ""))
    for target in platforms.coolify:
        app = target.get(target.path)
        target.close()
        parts.append(f"Coolify application {app.get('name') or target.application} ({target.application})")
    return "; ".join(parts)


def redeploy(settings: Settings, platforms: Platforms, *, console: Console, wait: bool = True,
             check: bool = False, timeout: float = 600) -> list[Deployment | CoolifyDeployment]:
    """Redeploy production on every platform, one after the other; the first failure raises
    (ServiceError, exit 1). Returns the deployments (Vercel's Deployment, CoolifyDeployment)."""
    from ..targets.coolify_deploy import deploy as coolify_deploy

    done: list[Deployment | CoolifyDeployment] = []
    if platforms.vercel:
        from ..services.redeploy import redeploy as vercel_redeploy

        done.append(vercel_redeploy(settings, console=console, wait=wait, check=check, timeout=timeout))
    for target in platforms.coolify:
        done.append(coolify_deploy(target, console=console, wait=wait, check=check, timeout=timeout))
    return done

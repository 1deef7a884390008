"""Cheap read-only checks before the browser opens: a wrong token, project or URL must fail
before the person solves a captcha, not after (at push or deploy).

Checked: each token set works (Vercel GET /v2/user, GitHub GET /repos/{repo}, Coolify GET /version),
every Vercel, GitHub and Coolify push target is readable, what deploy redeploys exists, and PRODUCTION_URL answers
HTTP at all (any status: production may well be failing, that is the incident). SSH targets are
not contacted here: a host that is down must not stop the login (the push says which failed).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Callable

from ..core.checks import Check
from ..core.config import Settings
from ..core.errors import ConfigError, RunbookError, ServiceError

if TYPE_CHECKING:
    from ..targets import Target
    from ..targets.holding import Holding
    from .engine import Run

CHEAP_KINDS = ("vercel", "github", "coolify")


def vercel_user(settings: Settings) -> str:
    """VERCEL_TOKEN works at all (GET /v2/user). Raises RunbookError."""
    from ..core import apis

    with apis.vercel(settings, team="", retries=1) as api:
        user = api.get("/v2/user").json().get("user", {})
    return f"works (user {user.get('username') or user.get('id') or '?'})"


def github_repository(settings: Settings) -> str:
    """GITHUB_TOKEN reads GITHUB_REPOSITORY (an Actions token may read the repo, not /user)."""
    from ..core.apis import github_api

    with github_api(settings) as api:
        repo = api.get(f"/repos/{settings.github_repository}").json()
    rights = [k for k, v in (repo.get("permissions") or {}).items() if v]
    return f"works for {repo.get('full_name', settings.github_repository)}" + (f" ({', '.join(rights)})" if rights else "")


def coolify_version(settings: Settings) -> str:
    """COOLIFY_TOKEN works on COOLIFY_API_URL (GET /version needs only `read`)."""
    from ..core import apis

    with apis.coolify(settings, name="Coolify", retries=1) as api:
        version = api.get("/version").text.strip().strip('"')
    return f"works (Coolify {version or '?'})"


def production_reachable(settings: Settings, *, any_status: bool = True) -> str:
    """PRODUCTION_URL answers /api/mtn-wholesale/auth: with any status before a login (production
    may well be failing: that is the incident), with a 2xx for `inv doctor` (`any_status=False`)."""
    if not settings.production_url:
        raise ConfigError("PRODUCTION_URL not set: production cannot be verified after the push",
                          "set it to the deployed app's URL in the environment or .env")
    from ..core.http import Api

    with Api("production app", settings.production_url, retries=1) as api:
        status = api.get("/api/mtn-wholesale/auth", **({"expect": range(100, 600)} if any_status else {})).status_code
    return f"{settings.production_url} answers /api/mtn-wholesale/auth ({status})"


def deploy_project(settings: Settings, *, read: bool = True) -> str:
    """What deploy redeploys: each Coolify application, or the Vercel project (VERCEL_PROJECT_ID,
    or the one Vercel project invoke.yaml `targets:` name) with VERCEL_TOKEN set. `read`: ask
    Vercel for the project and its production deployment (before a login); `inv doctor` only
    resolves the configuration."""
    from ..services.redeploy import deploy_settings, production
    from .platforms import configured_platforms, describe

    platforms = configured_platforms(settings)
    if platforms.coolify:   # production on Coolify (maybe Vercel too)
        return f"redeploys {describe(settings, platforms)}"
    resolved = deploy_settings(settings)
    if not settings.vercel_token:
        raise ConfigError("VERCEL_TOKEN not set: production cannot be redeployed", "set it in .env")
    source = "VERCEL_PROJECT_ID" if settings.vercel_project_id else "the Vercel target in invoke.yaml"
    if not read:
        return f"redeploys Vercel project {resolved.vercel_project_id} ({source})"
    name, current = production(settings)
    return f"redeploys Vercel project {name or resolved.vercel_project_id} ({source})" + (
        f", production {current.id}" if current else "")


def findings(settings: Settings, targets: list[Target] | None = None,
             looked: Callable[[], dict[str, Holding]] | None = None) -> list[Check]:
    """`targets`: the ones this run pushes to (--only/--skip-target), else every configured one.
    `looked()`: the run's first look at what the targets hold (runner/holdings.py), which reads
    each target anyway: a target it read needs no read of its own here."""
    from ..targets import configured

    # each token on its own: a target's failure then says whether the token or the target is wrong
    checks: list[tuple[str, Callable[[], str]]] = []
    if settings.vercel_token:
        checks.append(("Vercel token", lambda: vercel_user(settings)))
    if settings.github_token and settings.github_repository:
        checks.append(("GitHub token", lambda: github_repository(settings)))
    if settings.coolify_token and settings.coolify_api_url:
        checks.append(("Coolify token", lambda: coolify_version(settings)))
    try:
        targets = [t for t in (configured(settings) if targets is None else targets) if t.kind in CHEAP_KINDS]
    except RunbookError as e:
        return [Check.failed("targets", e)]
    if looked is None:
        checks += [(t.name, t.preflight) for t in targets]
    # the project deploy redeploys exists; production answers at all
    checks += [("deploy", lambda: deploy_project(settings)), ("production app", lambda: production_reachable(settings))]
    from concurrent.futures import ThreadPoolExecutor

    # all at once: each is a round trip or two, and the person is waiting for the browser
    with ThreadPoolExecutor(max_workers=len(checks) + 1, thread_name_prefix="preflight") as pool:
        seen = pool.submit(looked) if looked is not None else None
        found = list(pool.map(lambda check: Check.of(*check), checks))
        if seen is not None:
            held = seen.result()
            found += [_looked(t, held.get(t.name)) for t in targets]
    return found


def _looked(target: Target, held: Holding | None) -> Check:
    """A target's check from the first look's read of it."""
    if held is None:
        return Check.failed(target.name, ServiceError(f"{target.name}: not read", "run `inv doctor`"))
    if held.problem:
        error = held.error if isinstance(held.error, RunbookError) else ServiceError(held.problem, "run `inv doctor`")
        return Check.failed(target.name, error)
    return Check(target.name, True, "readable; " + ("not set yet" if held.stamp == "absent" else "set"))


def require_ready(settings: Settings, targets: list[Target] | None = None,
                  looked: Callable[[], dict[str, Holding]] | None = None) -> str:
    """Run the checks; raise the first failure (ConfigError, exit 2, when any failure is one:
    configuration is the likelier cause), else return a one-line summary."""
    found = findings(settings, targets, looked)
    failed = [f for f in found if f.error is not None]
    if failed:
        first = next((f for f in failed if isinstance(f.error, ConfigError)), failed[0])
        more = f" (and {len(failed) - 1} more: {', '.join(f.name for f in failed if f is not first)})" if len(failed) > 1 else ""
        error = first.error
        assert error is not None
        kind = ConfigError if isinstance(error, ConfigError) else ServiceError
        raise kind(f"before the login: {first.name}: {error.message}{more}; the browser was not opened",
                   f"{error.hint} (`inv doctor` checks everything)" if error.hint else "run `inv doctor`")
    return f"{len(found)} checks passed before the login ({', '.join(f.name for f in found)})"


def once(run: "Run") -> str:
    """`require_ready` once per run: its summary, or its failure raised. recover starts it early,
    beside the first validation, when a login is likely (`note`); the login step then finds it done."""
    note(run)
    found = run.facts.preflight
    if isinstance(found, RunbookError):
        raise found
    return found if found is not None else "not run in check mode"


def note(run: "Run") -> None:
    """Run the checks unless this run did already, and keep the summary or the failure in its
    facts: nothing is said of it until a login needs it."""
    if run.check or run.facts.preflight is not None:
        return
    from .holdings import note_holdings, preflight_targets

    def looked() -> dict[str, Holding]:
        note_holdings(run)  # the run's first look reads every target: the preflight reads none again
        return run.facts.holdings or {}

    try:
        run.facts.preflight = require_ready(run.settings, targets=preflight_targets(run), looked=looked)
    except RunbookError as e:
        run.facts.preflight = e

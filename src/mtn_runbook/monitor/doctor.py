"""`inv doctor`: preflight before an incident. Each check is one line; all must pass."""

from __future__ import annotations

import stat
import subprocess
from pathlib import Path
from typing import Callable, Iterable

from ..core.checks import Check
from ..core.config import Settings
from ..core.errors import RunbookError

PROTECTED = ("session.txt", ".env")   # besides the configured session file, its .prev and the journal


def credentials(settings: Settings) -> Check:
    missing = [n for n, v in (("MTN_USERNAME", settings.mtn_username), ("MTN_PASSWORD", settings.mtn_password)) if not v]
    if missing:
        return Check("MTN credentials", False, f"{', '.join(missing)} not set",
                     "set them in .env (see .env.example); the login form is pre-filled with them")
    return Check("MTN credentials", True, "MTN_USERNAME and MTN_PASSWORD set")


def browser(settings: Settings) -> Check:
    from ..mtn.browser import launch_check

    try:
        detail = launch_check(settings)
    except RunbookError as e:
        return Check("browser", False, e.message, e.hint)
    if no_display():  # `inv recover` would stop at the login with exit 2 (mtn/browser.start)
        return Check("browser", True, f"{detail}, headless only: no display here (DISPLAY is not set), so "
                     "`inv recover` and `inv auth` cannot open their window — use `inv recover --link` "
                     "(solve it from any browser), ssh -X, or a desktop", warning=True)
    return Check("browser", True, detail)


def no_display() -> bool:
    """Linux without X or Wayland: a login window cannot open (the same test as mtn/browser.start)."""
    import os
    import sys

    return sys.platform.startswith("linux") and not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def login_link(settings: Settings, browser_ok: bool | None) -> Check:
    """Can `--link` work here: its port binds, and Chromium starts headless (the browser check,
    which launches it headless). A warning, not a failure: the link is one way among others."""
    from ..mtn.link import Link

    try:
        with Link(settings, lambda url, timeout: None) as link:
            where = f"{link.host}:{link.port or 'any free port'}"
    except RunbookError as e:
        return Check("login link", True, f"`--link` cannot work here: {e.message} — {e.hint}", warning=True)
    if browser_ok is None:
        return Check("login link", True, f"{where} can listen; Chromium not started (--no-browser)", warning=True)
    if not browser_ok:
        return Check("login link", True, f"{where} can listen, but Chromium does not start (see browser)", warning=True)
    return Check("login link", True, f"`--link` can work here: {where} can listen and Chromium starts headless")


def gitignore(root: Path, settings: Settings | None = None) -> Check:
    """The session file (as configured), its .prev, the journal, session.txt and .env must never
    be committed."""
    try:
        inside = subprocess.run(["git", "rev-parse", "--is-inside-work-tree"], cwd=root,
                                capture_output=True, text=True, timeout=10).stdout.strip() == "true"
    except (OSError, subprocess.TimeoutExpired):
        inside = False
    if not inside:
        return Check(".gitignore", True, "not a git checkout: nothing can be committed by accident", warning=True)
    paths = _inside(root, protected_paths(settings)) if settings is not None else list(PROTECTED)
    exposed = [p for p in paths if subprocess.run(["git", "check-ignore", "-q", p], cwd=root,
                                                  capture_output=True, timeout=10).returncode != 0]
    if exposed:
        return Check(".gitignore", False, f"not ignored by git: {', '.join(exposed)}",
                     "add them (or their folder) to .gitignore")
    return Check(".gitignore", True, f"covers {', '.join(paths)}")


def protected_paths(settings: Settings) -> list[Path]:
    """What must never be committed: the configured session file, its .prev, the journal (and the
    lock beside them), session.txt and .env."""
    from ..core.session import prev_path

    return [settings.session_file, prev_path(settings.session_file), settings.journal_file,
            *(Path(p) for p in PROTECTED)]


def _inside(root: Path, paths: list[Path]) -> list[str]:
    """The paths that lie in the checkout at `root`, relative to it (others cannot be committed)."""
    inside = []
    for path in paths:
        full = path if path.is_absolute() else root / path
        try:
            inside.append(str(full.resolve().relative_to(root.resolve())))
        except ValueError:
            continue
    return list(dict.fromkeys(inside))


def deploy_project(settings: Settings) -> Check:
    """recover and deploy redeploy production: what they redeploy is configured (the same check
    recover makes before a login, without its read of the Vercel project)."""
    from ..runner.preflight import deploy_project as redeploys

    return Check.of("deploy", lambda: redeploys(settings, read=False))


def session_file_mode(settings: Settings) -> Check:
    path = settings.session_file
    if not path.exists():
        return Check("session file", True, f"{path} does not exist yet (`inv auth` creates it)", warning=True)
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        return Check("session file", False, f"{path} has mode {mode:04o}", f"chmod 600 {path}")
    return Check("session file", True, f"{path} is 0600")


def production_url(settings: Settings) -> Check:
    """PRODUCTION_URL answers with a 2xx (recover's check before a login accepts any status)."""
    from ..runner.preflight import production_reachable

    return Check.of("production app", lambda: production_reachable(settings, any_status=False))


def tokens(settings: Settings) -> list[Check]:
    """Each token set works at all: Vercel GET /v2/user, GitHub GET /repos/{repo} (which an
    Actions GITHUB_TOKEN may also read, unlike /user), Coolify GET /version. The same calls
    recover makes before a login."""
    from ..runner.preflight import coolify_version, github_repository, vercel_user

    checks = []
    for name, needed, check in (("Vercel token", settings.vercel_token, vercel_user),
                                ("GitHub token", settings.github_token and settings.github_repository,
                                 github_repository),
                                ("Coolify token", settings.coolify_token and settings.coolify_api_url,
                                 coolify_version)):
        if not needed:
            continue
        checks.append(Check.of(name, lambda: check(settings)))
    return checks


def target_access(settings: Settings) -> list[Check]:
    """Every configured push target: the token works and the project/repo is readable."""
    from ..targets import configured

    try:
        targets = configured(settings)
    except RunbookError as e:
        return [Check("targets", False, e.message, e.hint)]
    if not targets:
        return [Check("targets", False, "no push targets configured",
                      "set VERCEL_TOKEN/VERCEL_PROJECT_ID and GITHUB_TOKEN/GITHUB_REPOSITORY, or `targets:` in invoke.yaml")]
    checks = []
    for target in targets:
        try:
            detail = target.preflight()
        except RunbookError as e:
            checks.append(Check(target.name, False, e.message, e.hint))
        else:
            checks.append(Check(target.name, True, detail))
    return checks


def workflow(settings: Settings) -> list[Check]:
    if not (settings.github_token and settings.github_repository):
        return [Check("monitor workflow", True, "GITHUB_TOKEN/GITHUB_REPOSITORY not set: not checked", warning=True)]
    from ..services.workflow import workflow_checks

    return workflow_checks(settings)


def watcher(settings: Settings) -> Check:
    """The watcher this machine installed (`inv watch.install`, journaled); the workflow is the backstop."""
    from ..watch.watcher_journal import last_install

    last = last_install(settings)
    if not last:
        return Check("watcher", True, "none installed from here (`inv watch.install HOST`): GitHub's scheduled "
                     "workflow (monitor workflow) is the only check")
    detail = (f"{last.get('host')}: keepalive every {last.get('every'):g} min and monitor every 15 min, installed "
              f"{last.get('ts')}; GitHub's scheduled workflow stays the backstop")
    if not last.get("running"):
        return Check("watcher", True, f"{detail}; its timers were not running at install",
                     f"`inv watch.status {last.get('host')}`", warning=True)
    return Check("watcher", True, f"{detail} (`inv watch.status {last.get('host')}`)")


def run_checks(settings: Settings, root: Path, skip_browser: bool = False) -> list[Check]:
    steps: Iterable[Callable[[], Check | list[Check]]] = (
        lambda: credentials(settings),
        *(() if skip_browser else (lambda: browser(settings),)),
        lambda: login_link(settings, next((c.ok for c in checks if c.name == "browser"), None)),
        lambda: gitignore(root, settings),
        lambda: deploy_project(settings),
        lambda: session_file_mode(settings),
        lambda: tokens(settings),
        lambda: target_access(settings),
        lambda: production_url(settings),
        lambda: workflow(settings),
        lambda: watcher(settings),
    )
    checks: list[Check] = []
    for step in steps:
        found = step()
        checks.extend(found if isinstance(found, list) else [found])
    return checks

"""The scheduled monitor workflow (validate-mtn-session.yml) through the GitHub Actions API:
its health for `inv doctor`, and `inv monitor.enable` / `inv monitor.trigger`.

A disabled schedule looks exactly like a healthy one (no runs, no issues), and GitHub turns
schedules off after 60 days without repository activity: so doctor checks it.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from ..core.apis import github_api
from ..core.checks import Check
from ..core.config import Settings
from ..core.errors import RunbookError
from ..core.times import now, parse_time_or_none, span

WORKFLOW_FILE = "validate-mtn-session.yml"
SCHEDULE_STALE = timedelta(hours=3)     # the schedule is hourly (lifespan/schedule.py CRON): 2 missed runs


def _workflow_path(settings: Settings) -> str:
    return f"/repos/{settings.github_repository}/actions/workflows/{WORKFLOW_FILE}"


def workflow_checks(settings: Settings, *, at: datetime | None = None) -> list[Check]:
    """For `inv doctor`: the monitor workflow exists, is active, and ran on schedule in the last
    3 hours without failing. A disabled schedule looks like a healthy one: no runs, no issues."""
    at = at or now()
    try:
        with github_api(settings) as api:
            response = api.get(_workflow_path(settings), expect=(200, 404))
            if response.status_code == 404:
                return [Check("monitor workflow", False, f"{WORKFLOW_FILE} not found in {settings.github_repository}",
                              f"commit .github/workflows/{WORKFLOW_FILE} to its default branch")]
            state = response.json().get("state")
            runs = api.get(f"{_workflow_path(settings)}/runs", params={"per_page": 1, "event": "schedule"}).json()
    except RunbookError as e:
        return [Check("monitor workflow", False, e.message, e.hint)]
    checks = []
    if state == "active":
        checks.append(Check("monitor workflow", True, f"{WORKFLOW_FILE} is active"))
    else:
        why = {"disabled_inactivity": " (GitHub turns schedules off after 60 days without repository activity)"}
        checks.append(Check("monitor workflow", False, f"{WORKFLOW_FILE} is {state}{why.get(state, '')}",
                            "`inv monitor.enable` (= gh workflow enable)"))
    last = (runs.get("workflow_runs") or [None])[0] if isinstance(runs, dict) else None
    if last is None:
        checks.append(Check("monitor schedule", False, "no scheduled run yet",
                            "`inv monitor.trigger` runs it now; the schedule starts on the default branch"))
        return checks
    created = parse_time_or_none(last.get("created_at"))
    age = at - created if created else None
    hours = f"{span(age.total_seconds() / 3600)} ago" if age is not None else "at an unknown time"
    conclusion = last.get("conclusion")
    link = f" ({last['html_url']})" if last.get("html_url") else ""
    if age is None or age > SCHEDULE_STALE:
        checks.append(Check("monitor schedule", False, f"last scheduled run {hours} (it runs every hour)",
                            "`inv monitor.enable` if disabled, `inv monitor.trigger` to run now"))
    elif last.get("status") == "completed" and conclusion not in ("success", "skipped", "neutral"):
        checks.append(Check("monitor schedule", False, f"last scheduled run {hours} ended {conclusion}{link}",
                            "open its log; `inv monitor` locally shows the same checks"))
    else:
        checks.append(Check("monitor schedule", True, f"last scheduled run {hours}: {conclusion or last.get('status')}"))
    return checks


def enable_workflow(settings: Settings, *, check: bool = False) -> str:
    """Re-enable the scheduled workflow (PUT .../enable, as `gh workflow enable`)."""
    with github_api(settings) as api:
        state = api.get(_workflow_path(settings)).json().get("state")
        if state == "active":
            return f"{WORKFLOW_FILE} is already active: nothing to do"
        if check:
            return f"would enable {WORKFLOW_FILE} (now {state})"
        api.put(f"{_workflow_path(settings)}/enable", expect=(204,))
        after = api.get(_workflow_path(settings)).json().get("state")
    if after != "active":
        raise RunbookError(f"GitHub still reports {WORKFLOW_FILE} as {after}", "enable it in the Actions tab")
    return f"enabled {WORKFLOW_FILE} (was {state})"


def trigger_workflow(settings: Settings, *, ref: str | None = None, check: bool = False) -> str:
    """Start a run now (POST .../dispatches {ref}, as `gh workflow run`); ref: the default branch."""
    with github_api(settings) as api:
        if not ref:
            ref = api.get(f"/repos/{settings.github_repository}").json().get("default_branch") or "main"
        if check:
            return f"would start {WORKFLOW_FILE} on {ref}"
        api.post(f"{_workflow_path(settings)}/dispatches", json={"ref": ref}, expect=(204,))
    return f"started {WORKFLOW_FILE} on {ref}: see the repository's Actions tab"


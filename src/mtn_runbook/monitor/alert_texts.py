"""What the monitor's sinks say: the alert issue's body and comments, the webhook line, and the
link to the Actions run they cite."""

from __future__ import annotations

from typing import Mapping

from ..core.config import Settings
from ..core.times import iso
from ..services.alerts import marker, runbook_link
from .verdict import Health


def actions_run_url(environ: Mapping[str, str]) -> str | None:
    """The link to this GitHub Actions run, when running in one."""
    if environ.get("GITHUB_RUN_ID") and environ.get("GITHUB_REPOSITORY"):
        server = environ.get("GITHUB_SERVER_URL", "https://github.com")
        return f"{server}/{environ['GITHUB_REPOSITORY']}/actions/runs/{environ['GITHUB_RUN_ID']}"
    return None


def checks_table(health: Health) -> str:
    rows = ["| check | result | detail |", "|---|---|---|"]
    for c in health.checks:
        result = "⚠ warning" if c.ok and c.warning else "✔ ok" if c.ok else "✘ failed"
        detail = c.detail + (f" — {c.hint}" if c.hint and not c.ok else "")
        rows.append(f"| {c.name} | {result} | {detail.replace('|', '/')} |")
    return "\n".join(rows)


def issue_body(settings: Settings, health: Health, run_url: str | None) -> str:
    seen = f"[this run]({run_url})" if run_url else "a local `inv monitor` run"
    return f"""**{health.message}**

Found by {seen} at {iso(health.at)}.

{checks_table(health)}

## What to do

1. Recover: log in (solve the captcha), push the new session everywhere, redeploy, verify:
   ```
   inv recover
   ```
2. Confirm the session `inv recover` pushed works and production serves it; a healthy run closes this issue:
   ```
   inv monitor --file {settings.session_file}
   ```
   (`inv recover` saved the new session there. The scheduled check reads the GitHub secret itself:
   `inv monitor.trigger` runs it now.)

Step by step, and what each failure means: [runbooks/incident-recovery.md]({runbook_link(settings)}).
This issue is commented on while the scheduled check keeps failing, and closed by the first healthy run.

{marker("unhealthy", health.fingerprint)}"""


def refresh_due_body(settings: Settings, health: Health, run_url: str | None) -> str:
    seen = f"[this run]({run_url})" if run_url else "a local `inv monitor` run"
    return f"""**{health.message}**

Found by {seen} at {iso(health.at)}. Production still works: this asks for a new login *before*
the session dies, during working hours, so nobody is paged at night when it does.

{checks_table(health)}

## What to do

1. Log in again (solve the captcha) and push the new session everywhere, redeploy, verify:
   ```
   inv refresh
   ```
2. The next scheduled check sees the new session and closes this issue.

If the session dies first, this issue turns into an outage (`inv recover`). How refresh-by is
computed: [runbooks/session-refresh.md]({runbook_link(settings).replace("incident-recovery", "session-refresh")}).

{marker("refresh-due", health.fingerprint)}"""


def still_failing_comment(health: Health, run_url: str | None) -> str:
    seen = f" ([run]({run_url}))" if run_url else ""
    return f"""Still unhealthy at {iso(health.at)}{seen}: {health.message}

{checks_table(health)}

{marker("unhealthy", health.fingerprint)}"""


def recovery_comment(health: Health, last: tuple[str, str] | None, run_url: str | None,
                     about: str = "recovered") -> str:
    failing = last[1] if last else ""
    if not health.fingerprint:
        how = "the monitor sees it healthy again"
    elif failing and failing != health.fingerprint:
        how = (f"a new session is in MTN_SESSION (fingerprint {health.fingerprint}, replacing {failing}), "
               "the MTN API accepts it and production serves it")
    elif failing:
        how = (f"the same session (fingerprint {health.fingerprint}) works again and production serves it: "
               "production was redeployed, or MTN or the app recovered by itself")
    else:
        how = f"the session in MTN_SESSION (fingerprint {health.fingerprint}) works and production serves it"
    seen = f" ([run]({run_url}))" if run_url else ""
    word = "Refreshed" if about == "refreshed" else "Recovered"
    return f"""{word} at {iso(health.at)}{seen}: {how}.

State now: **{health.state}** — {health.message}

{checks_table(health)}

{marker(health.state, health.fingerprint)}"""


def now_unhealthy_comment(settings: Settings, health: Health, run_url: str | None) -> str:
    """The refresh-due issue, retitled: the session died before the refresh (or production broke)."""
    return "**Now unhealthy**: this issue asked for a refresh; it is an outage now.\n\n" + \
        issue_body(settings, health, run_url)


class IssueTexts:
    """The texts of one monitor run, by what alert_plan.py says to do."""

    def __init__(self, settings: Settings, health: Health, run_url: str | None, last: tuple[str, str] | None):
        self.settings, self.health, self.run_url, self.last = settings, health, run_url, last

    def body(self, about: str) -> str:
        make = refresh_due_body if about == "refresh-due" else issue_body
        return make(self.settings, self.health, self.run_url)

    def comment(self, about: str) -> str:
        if about == "still-unhealthy":
            return still_failing_comment(self.health, self.run_url)
        if about == "unhealthy":
            return now_unhealthy_comment(self.settings, self.health, self.run_url)
        return refresh_due_body(self.settings, self.health, self.run_url)

    def closing(self, about: str) -> str:
        return recovery_comment(self.health, self.last, self.run_url, about)


def webhook_text(health: Health, previous: str | None, issue_url: str | None) -> str:
    tail = f" Issue: {issue_url}" if issue_url else ""
    if health.state == "unhealthy":
        return f"MTN session UNHEALTHY: {health.message}.{tail}"
    if health.state == "refresh-due":
        back = "MTN session recovered; now " if previous == "unhealthy" else "MTN session "
        return f"{back}{health.message}.{tail}"
    if previous == "unhealthy":
        return f"MTN session recovered ({health.state}): {health.message}."
    if previous == "refresh-due":
        return f"MTN session refreshed ({health.state}): {health.message}."
    return f"MTN session {health.state}: {health.message}."



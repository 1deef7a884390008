"""What `inv keepalive` sends when the MTN API refuses the session it keeps: the alert issue and
the webhook of services/alerts.py, scrubbed there. The issue's marker says "unhealthy" with the
session's fingerprint, the state the monitor's own alert carries, so `inv monitor`'s next healthy
run closes it as it closes its own."""

from __future__ import annotations

from typing import Any

from ..core.config import Settings
from ..core.errors import RunbookError
from ..core.session import Session
from ..core.times import iso, now
from ..core.apis import github_api
from ..services.alerts import TITLE, IssueSink, marker, post_webhook, runbook_link


def texts(settings: Settings, session: Session, run: Any) -> tuple[str, str]:
    seen = f"last seen alive {run.last_alive}" if run.last_alive else "never seen alive by this keepalive"
    what = (f"The MTN API refused session {session.short_id} at "
            f"{iso(now())}, after {run.pings} keepalive ping(s) every {run.minutes:g} min ({seen}). "
            "Production may be without MTN.")
    body = (f"## MTN session refused while kept alive\n\n{what}\n\n"
            "1. Recover: `inv recover` (a new login, pushed and deployed).\n"
            f"2. Runbook: {runbook_link(settings) if settings.github_repository else 'runbooks/incident-recovery.md'}\n\n"
            "Keepalive stopped; the lifespan ledger has this death with its ping interval.\n\n"
            + marker("unhealthy", session.fingerprint))
    return body, f"MTN session UNHEALTHY (keepalive): {what} Run `inv recover`."


def page(settings: Settings, session: Session, run: Any) -> list[str]:
    """Open (or comment on) the alert issue and post the webhook; one line per sink."""
    body, text = texts(settings, session, run)
    lines: list[str] = []
    if settings.github_token and settings.github_repository:
        try:
            with github_api(settings) as api:
                sink = IssueSink(settings, api)
                issue = sink.find_open()
                if issue is None:
                    issue = sink.open(body)
                    lines.append(f"github-issue: opened {issue.label} {issue.html_url}".rstrip())
                else:
                    if issue.state != "unhealthy":   # the title follows the state (alert_plan.py)
                        sink.retitle(issue, TITLE)
                        lines.append(f"github-issue: retitled {issue.label} to {TITLE!r}")
                    sink.comment(issue, body)
                    lines.append(f"github-issue: commented on {issue.label}")
        except RunbookError as e:
            lines.append(f"github-issue: failed — {e.line()}")
    if settings.alert_webhook_url:
        try:
            post_webhook(settings, text)
            lines.append("webhook: posted to ALERT_WEBHOOK_URL")
        except RunbookError as e:
            lines.append(f"webhook: failed — {e.line()}")
    if not lines:
        lines.append("nobody was paged: no alert sink is configured (GITHUB_TOKEN + GITHUB_REPOSITORY, "
                     "ALERT_WEBHOOK_URL)")
    return lines

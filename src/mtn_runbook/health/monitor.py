"""`inv monitor`: is MTN working for production? The secret AND production, never one alone.
What is checked and what each state means: verdict.py; what the alerts say: alert_texts.py;
the Actions annotations and job summary: actions_output.py.

Exit codes: 0 healthy or warning, 3 unhealthy, 2 bad configuration (including a secret that does
not decode), 1 when an alert could not be delivered. Alerts: see alerts.py. Whether the state
changed (for the webhook) is read from the open issue (durable: survives CI runs) and else the
journal's last alerting `monitor` entry (local runs); with neither, only "unhealthy" is news.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import Any, Mapping

from ..core.config import Settings
from ..core.errors import RunbookError
from ..core.journal import Journal
from ..core.session import iso
from ..services.alerts import Issue, IssueSink, github_api, post_webhook
from .alert_texts import actions_run_url, issue_body, recovery_comment, still_failing_comment, webhook_text
from .verdict import Health, assess, is_change

@dataclass(frozen=True)
class AlertAction:
    sink: str                             # "github-issue" | "webhook"
    action: str                           # open | comment | close | post
    detail: str
    done: bool = False                    # False in check mode, or when it failed
    error: str | None = None
    url: str | None = None                # the issue it opened
    error_code: int = 0                   # the failed delivery's exit code (2 bad config, 1 service)

    def line(self, check: bool) -> str:
        if self.error:
            return f"{self.sink}: {self.action} failed — {self.error}"
        return f"{self.sink}: {'would ' if check else ''}{self.action} {self.detail}".rstrip()

    def to_json(self) -> dict:
        return {"sink": self.sink, "action": self.action, "detail": self.detail, "done": self.done,
                "error": self.error, "url": self.url}


@dataclass(frozen=True)
class MonitorResult:
    health: Health
    previous: str | None                  # the state the last alerting run saw (None: unknown)
    actions: tuple[AlertAction, ...] = ()
    issue: str | None = None              # the open issue's URL, if any
    alerts: str = "on"                    # on | check | off

    @property
    def state(self) -> str:
        return self.health.state

    @property
    def changed(self) -> bool:
        return is_change(self.previous, self.health.state)

    @property
    def exit_code(self) -> int:
        code = self.health.exit_code
        if code == 0:  # an alert that could not be delivered is a failure of the monitor itself
            return max((a.error_code for a in self.actions if a.error), default=0)
        return code

    def to_json(self) -> dict:
        h = self.health
        return {"state": h.state, "exitCode": self.exit_code, "message": h.message, "checkedAt": iso(h.at),
                "checks": [c.to_json() for c in h.checks], "secret": h.secret, "production": h.production,
                "lifespan": h.lifespan, "previousState": self.previous, "stateChanged": self.changed,
                "alerts": self.alerts, "issue": self.issue, "actions": [a.to_json() for a in self.actions]}



# -- the run: health, alerts, journal -----------------------------------------------------
def monitor(settings: Settings, *, alert: bool = True, check: bool = False,
            environ: Mapping[str, str] | None = None) -> MonitorResult:
    """Assess health, then open/comment/close the issue and post the webhook as needed
    (`check`: say what would be sent, send nothing; `alert=False`: only report)."""
    environ = environ or {}
    if alert:
        api = github_api(settings)  # bad GitHub config is exit 2 before anything runs
    journal = Journal(settings.journal_file)
    health = assess(settings, journal=journal)
    last = next((e for e in reversed(journal.entries("monitor")) if e.get("alerted")), None)
    previous = last.get("state") if last else None

    if not alert:
        result = MonitorResult(health, previous, alerts="off")
        _journal(journal, result, alerted=False)
        return result

    actions: list[AlertAction] = []
    issue: Issue | None = None
    with api:
        sink = IssueSink(settings, api)
        try:
            issue = sink.find_open()
            last_mark = sink.last_marker(issue) if issue else None
        except RunbookError as e:
            actions.append(AlertAction("github-issue", "find", "", error=e.line(), error_code=e.exit_code))
            last_mark = None
        if issue is not None:
            previous = "unhealthy"  # the durable memory: an open issue means the last alerting run failed
        run_url = actions_run_url(environ)
        if not actions:  # the issue list answered
            if health.state == "unhealthy":
                if issue is None:
                    actions.append(_act(check, "github-issue", "open",
                                        f"an issue labelled mtn-session: {health.message}",
                                        lambda: sink.open(issue_body(settings, health, run_url))))
                else:
                    actions.append(_act(check, "github-issue", "comment", f"on {issue.label} (still unhealthy)",
                                        lambda: sink.comment(issue, still_failing_comment(health, run_url))))
            elif issue is not None:
                actions.append(_act(check, "github-issue", "close", f"{issue.label} (recovered)",
                                    lambda: sink.close(issue, recovery_comment(health, last_mark, run_url))))
        issue_url = next((a.url for a in actions if a.url), issue.html_url if issue else None)
        if settings.alert_webhook_url and is_change(previous, health.state):
            text = webhook_text(health, previous, issue_url)
            actions.append(_act(check, "webhook", "post", f"to ALERT_WEBHOOK_URL: {text}",
                                lambda: post_webhook(settings, text)))

    result = MonitorResult(health, previous, tuple(actions), issue_url, alerts="check" if check else "on")
    _journal(journal, result, alerted=not check and not any(a.error for a in actions))
    return result


def _act(check: bool, sink: str, action: str, detail: str, send: Any) -> AlertAction:
    if check:
        return AlertAction(sink, action, detail)
    try:
        outcome = send()
    except RunbookError as e:
        return AlertAction(sink, action, detail, error=e.line(), error_code=e.exit_code)
    if isinstance(outcome, Issue):
        return AlertAction(sink, action, f"{outcome.label} {outcome.html_url}", done=True, url=outcome.html_url)
    return AlertAction(sink, action, detail, done=True)


def _journal(journal: Journal, result: MonitorResult, *, alerted: bool) -> None:
    h = result.health
    with contextlib.suppress(OSError):  # an unwritable journal must not hide the verdict
        journal.write("monitor", state=h.state, alerted=alerted, fingerprint=h.fingerprint, message=h.message,
                      previous=result.previous, actions=[a.line(result.alerts == "check") for a in result.actions])



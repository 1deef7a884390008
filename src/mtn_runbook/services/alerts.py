"""Where the monitor's verdict goes: one GitHub issue labelled `mtn-session`, and a webhook.

The issue is opened once, commented on while runs keep failing (one comment per run), retitled when
the state it is about changes (refresh due → unhealthy) and closed (state_reason "completed") with a
comment saying when and how production recovered (monitor/alert_plan.py decides which). It is found
through the issues list endpoint (not search: search has its own low rate limit and can lag),
skipping pull requests, which that endpoint also returns.

The issue is also the monitor's durable memory: in CI the journal does not survive the run, so
"the previous run was unhealthy" is read from an open issue. Each body and comment ends with a
marker holding the state and the session fingerprint it was about (never the session itself).

The webhook (ALERT_WEBHOOK_URL, Slack-compatible `{"text": ...}`) carries a token in its URL:
it is never printed, and errors about it name only the variable.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from ..core.config import Settings
from ..core.console import scrub
from ..core.errors import ConfigError, RunbookError
from ..core.http import Api, create_once

LABEL = "mtn-session"
TITLE = "MTN session unhealthy: production may be without MTN"
REFRESH_TITLE = "MTN session refresh due: run inv refresh"
MARKER = re.compile(r"<!-- mtn-runbook monitor state=([\w-]+) fingerprint=(\w*) -->")


def marker(state: str, fingerprint: str | None) -> str:
    return f"<!-- mtn-runbook monitor state={state} fingerprint={fingerprint or ''} -->"


def read_marker(text: str | None) -> tuple[str, str] | None:
    """(state, fingerprint) of the last marker in an issue body or comment."""
    found = MARKER.findall(text or "")
    return found[-1] if found else None


def runbook_link(settings: Settings) -> str:
    return f"https://github.com/{settings.github_repository}/blob/HEAD/runbooks/incident-recovery.md"


@dataclass(frozen=True)
class Issue:
    number: int
    html_url: str
    body: str
    title: str = TITLE

    @property
    def state(self) -> str:
        """The incident state the issue's title names."""
        return "refresh-due" if self.title == REFRESH_TITLE else "unhealthy"

    @property
    def label(self) -> str:
        return f"#{self.number}"


class IssueSink:
    """The `mtn-session` issue of settings.github_repository."""

    def __init__(self, settings: Settings, api: Api):
        self.settings, self.api = settings, api
        self.repo = f"/repos/{settings.github_repository}"

    def find_open(self) -> Issue | None:
        """The open `mtn-session` issue (the oldest, preferring one this monitor opened)."""
        items: list[dict] = []
        for page in range(1, 11):
            batch = self.api.get(f"{self.repo}/issues", params={"state": "open", "labels": LABEL,
                                                               "per_page": 100, "page": page}).json()
            items.extend(i for i in batch if isinstance(i, dict) and "pull_request" not in i)
            if len(batch) < 100:
                break
        if not items:
            return None
        items.sort(key=lambda i: (read_marker(i.get("body")) is None, i["number"]))
        first = items[0]
        return Issue(first["number"], first.get("html_url", ""), first.get("body") or "", first.get("title") or TITLE)

    def last_marker(self, issue: Issue) -> tuple[str, str] | None:
        """The newest marker on the issue: its last comment's, else its body's."""
        comments = self.api.get(f"{self.repo}/issues/{issue.number}/comments", params={"per_page": 100}).json()
        for comment in reversed(comments if isinstance(comments, list) else []):
            found = read_marker(comment.get("body"))
            if found:
                return found
        return read_marker(issue.body)

    # Every text sent is scrubbed: a service's echoed message may carry cookie values or a URL password.
    def open(self, body: str, title: str = TITLE) -> Issue:
        """Open the issue. Creating is not idempotent: after a gateway error the issue may exist
        anyway, so it is looked for before trying again (http.create_once: never two alert issues)."""
        body = scrub(body)

        def create() -> Issue:
            data = self.api.post(f"{self.repo}/issues", json={"title": scrub(title), "body": body,
                                                              "labels": [LABEL]}, expect=(201,)).json()
            return Issue(data["number"], data.get("html_url", ""), body, title)

        return create_once("GitHub: opening the issue", create, self.find_open, past="opened",
                           label=lambda issue: issue.label)

    def comment(self, issue: Issue, body: str) -> None:
        self.api.post(f"{self.repo}/issues/{issue.number}/comments", json={"body": scrub(body)}, expect=(201,))

    def retitle(self, issue: Issue, title: str) -> None:
        """The title follows the incident's state (refresh due → unhealthy), on the same issue."""
        self.api.patch(f"{self.repo}/issues/{issue.number}", json={"title": scrub(title)})

    def close(self, issue: Issue, comment: str) -> None:
        self.comment(issue, comment)
        self.api.patch(f"{self.repo}/issues/{issue.number}", json={"state": "closed", "state_reason": "completed"})


def post_webhook(settings: Settings, text: str) -> None:
    """POST {"text": ...} to ALERT_WEBHOOK_URL. Raises RunbookError naming only the variable."""
    try:
        # No base URL: httpx would add a trailing slash to it, and some webhooks refuse that.
        with Api("ALERT_WEBHOOK_URL", "", hide_paths=True, retries=2) as api:
            api.post(settings.alert_webhook_url, json={"text": scrub(text)}, expect=range(200, 300), what="POST")
    except RunbookError as e:
        raise type(e)(_redact(settings, e.message), "check ALERT_WEBHOOK_URL (it is not printed)") from None
    except Exception as e:  # e.g. an invalid URL: never echo it
        raise ConfigError(f"ALERT_WEBHOOK_URL: POST failed ({type(e).__name__})",
                          "check ALERT_WEBHOOK_URL (it is not printed)") from None


def _redact(settings: Settings, text: str) -> str:
    return text.replace(settings.alert_webhook_url, "ALERT_WEBHOOK_URL") if settings.alert_webhook_url else text


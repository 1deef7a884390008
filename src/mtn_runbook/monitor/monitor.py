"""`inv monitor`: is MTN working for production? The secret AND production, never one alone.
What is checked and what each state means: verdict.py; what the alerts say: alert_texts.py;
the Actions annotations and job summary: actions_output.py.

States: healthy, warning, refresh-due (a new login is due soon: `inv refresh`, raised once per
session, inside working hours; refresh_due.py), unhealthy. Each run appends what it saw of the
secret's session to the lifespan ledger (lifespan/ledger_*.py), and probes the retired `.prev` session.

Exit codes: 0 healthy, warning or refresh-due, 3 unhealthy, 2 bad configuration (including a secret that does
not decode), 1 when an alert could not be delivered. Alerts: see alerts.py. Whether the state
changed (for the webhook) is read from the open issue (durable: survives CI runs) and else the
journal's last alerting `monitor` entry (local runs); with neither, only "unhealthy" is news.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, replace
from typing import Any, Mapping

from ..core.checks import Check
from ..core.config import Settings
from ..core.errors import ExitCode, RunbookError, SessionFormatError
from ..core.journal import Journal
from ..core.session import Session, decode
from ..core.times import iso
from ..core.apis import github_api
from ..services.alerts import REFRESH_TITLE, TITLE, Issue, IssueSink, post_webhook
from .alert_plan import Op, plan
from .alert_texts import IssueTexts, actions_run_url, webhook_text
from ..lifespan.ledger_lines import entry, observer
from ..lifespan.ledger_records import Record
from ..lifespan.observe import append, lifespans_known, observation, open_store
from ..lifespan.refresh_due import Outlook, RefreshSettings, lifespan, outlook, shadow_probe
from .verdict import Health, assess, is_change, require_inputs

@dataclass(frozen=True)
class AlertAction:
    sink: str                             # "github-issue" | "webhook"
    action: str                           # open | comment | close | post
    detail: str
    done: bool = False                    # False in check mode, or when it failed
    error: str | None = None
    url: str | None = None                # the issue it opened
    error_code: int = ExitCode.DONE       # the failed delivery's exit code (2 bad config, 1 service)

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
    refresh: dict | None = None           # Outlook.to_json(): refresh-by and the policy's decision
    ledger: tuple[str, ...] = ()          # what was appended to the lifespan ledger (or would be)

    @property
    def state(self) -> str:
        return self.health.state

    @property
    def changed(self) -> bool:
        return is_change(self.previous, self.health.state)

    @property
    def exit_code(self) -> int:
        code = self.health.exit_code
        if code == ExitCode.DONE:  # an alert that could not be delivered is a failure of the monitor itself
            return max((a.error_code for a in self.actions if a.error), default=ExitCode.DONE)
        return code

    def to_json(self) -> dict:
        h = self.health
        return {"state": h.state, "exitCode": self.exit_code, "message": h.message, "checkedAt": iso(h.at),
                "checks": [c.to_json() for c in h.checks], "secret": h.secret, "production": h.production,
                "lifespan": h.lifespan, "previousState": self.previous, "stateChanged": self.changed,
                "alerts": self.alerts, "issue": self.issue, "actions": [a.to_json() for a in self.actions],
                "refresh": self.refresh, "ledger": list(self.ledger)}



# -- the run: health, alerts, journal -----------------------------------------------------
def monitor(settings: Settings, *, alert: bool = True, check: bool = False,
            environ: Mapping[str, str] | None = None) -> MonitorResult:
    """Assess health, then open/comment/close the issue and post the webhook as needed
    (`check`: say what would be sent, send nothing; `alert=False`: only report)."""
    environ = environ or {}
    require_inputs(settings)                       # before the ledger is read over the network
    rs = RefreshSettings.from_settings(settings)   # bad working hours or risk: exit 2 before anything runs
    api = github_api(settings) if alert else None  # bad GitHub config is exit 2 before anything runs
    journal = Journal(settings.journal_file)
    store = open_store(settings, api)
    problems: list[AlertAction] = []
    try:
        records = store.records()
    except RunbookError as e:
        records = []
        problems.append(AlertAction("ledger", "read", store.where, error=e.line(), error_code=e.exit_code))
    health = assess(settings, journal=journal, lifespans_known=lifespans_known(records), record=not check)
    session = _session(settings)
    view = _outlook(session, health, records, rs, store.where)
    health = replace(health, lifespan=lifespan(view, rs, records))
    if view is not None:
        health = _with_refresh(health, view, rs)
    last = next((e for e in reversed(journal.entries("monitor")) if e.get("alerted")), None)
    previous = last.get("state") if last else None

    if not alert:
        result = MonitorResult(health, previous, tuple(problems), alerts="off",
                               refresh=view.to_json() if view else None)
        try:
            result = _ledger(settings, store, result, session, records, rs, check=check)
        finally:
            if hasattr(store, "api"):
                store.api.close()
        if not check:  # check mode writes nothing, not even the journal
            _journal(journal, result, alerted=False)
        return result

    actions: list[AlertAction] = list(problems)
    issue: Issue | None = None
    with api:
        sink = IssueSink(settings, api)
        try:
            issue = sink.find_open()
            last_mark = sink.last_marker(issue) if issue else None
        except RunbookError as e:
            actions.append(AlertAction("github-issue", "find", "", error=e.line(), error_code=e.exit_code))
            last_mark = None
        if issue is not None:  # the durable memory: the state the open issue was last about
            previous = last_mark[0] if last_mark and last_mark[0] in ("unhealthy", "refresh-due") else "unhealthy"
        run_url = actions_run_url(environ)
        prompts = view is not None and view.decision.action == "prompt" and health.state == "refresh-due"
        todo = plan(health.state, issue=issue.state if issue else None, previous=previous, prompts=prompts)
        if not any(a.sink == "github-issue" for a in actions):  # the issue list answered
            texts = IssueTexts(settings, health, run_url, last_mark)
            for op in todo.ops:
                actions.append(_issue_op(check, sink, issue, op, texts))
        else:
            todo = replace(todo, prompt_sent=False)
        opened = [a.url for a in actions if a.url and a.action == "open"]
        issue_url = opened[-1] if opened else issue.html_url if issue else None
        if settings.alert_webhook_url and todo.webhook:   # one post, whatever the issue went through
            text = webhook_text(health, previous, opened[-1] if opened else None if "close" in todo else issue_url)
            actions.append(_act(check, "webhook", "post", f"to ALERT_WEBHOOK_URL: {text}",
                                lambda: post_webhook(settings, text)))
        result = MonitorResult(health, previous, tuple(actions), issue_url, alerts="check" if check else "on",
                               refresh=view.to_json() if view else None)
        result = _ledger(settings, store, result, session, records, rs, check=check, prompted=todo.prompt_sent)
    if not check:  # check mode writes nothing, not even the journal
        _journal(journal, result, alerted=not any(a.error for a in result.actions if a.sink != "ledger"))
    return result


def _session(settings: Settings) -> Session | None:
    try:
        return decode(settings.mtn_session, "MTN_SESSION")[0]
    except SessionFormatError:
        return None


def _outlook(session: Session | None, health: Health, records: list[Record], rs: RefreshSettings,
             where: str) -> Outlook | None:
    """Refresh-by for a session the MTN API accepts (a dead one pages: verdict.py's unhealthy)."""
    if session is None or health.state == "unhealthy" or not health.secret.get("valid"):
        return None
    return outlook(session, records, rs, alive=True, at=health.at, where=where)


def _with_refresh(health: Health, view: Outlook, rs: RefreshSettings) -> Health:
    line = view.line(rs)
    detail = line.removeprefix("refresh-by ")   # the check is named refresh-by: `✔ refresh-by — Mon 18:00 …`
    if not view.due:
        return replace(health, checks=(*health.checks, Check("refresh-by", True, detail)))
    why = view.decision.reason if view.decision.action == "prompt" else "raised earlier for this session"
    message = f"refresh due ({why}): {line}; run `inv refresh` (a new login while this one still works)"
    return replace(health, state="refresh-due", message=message,
                   checks=(*health.checks, Check("refresh-by", True, detail, "`inv refresh`", warning=True)))


def _ledger(settings: Settings, store: Any, result: MonitorResult, session: Session | None,
            records: list[Record], rs: RefreshSettings, *, check: bool, prompted: bool = False) -> MonitorResult:
    """Append this run's observations (and the shadow probe's) to the lifespan ledger."""
    entries: list[dict] = []
    notes: list[str] = []
    verdict = result.health.secret.get("verdict")
    if session is not None and verdict:
        entries += observation(session, verdict, at=result.health.at, every=rs.every)
    delivered = not check and not any(a.error for a in result.actions if a.sink != "ledger")
    if session is not None and prompted and delivered:
        entries.append(entry("prompted", session, by=observer(), every=rs.every, at=result.health.at))
    try:
        probed, note = shadow_probe(settings, records, session)
    except RunbookError as e:
        probed, note = [], f"shadow probe failed: {e.message}"
    entries += probed
    if note:
        notes.append(note)
    if not entries:
        return replace(result, ledger=tuple(notes))
    what = ", ".join(f"{e['event']} {e.get('sid') or e['fp']}" for e in entries)
    if check:
        return replace(result, ledger=(*notes, f"would append to the lifespan ledger ({store.where}): {what}"))
    try:
        append(store, records, entries)
    except RunbookError as e:
        failed = AlertAction("ledger", "append", what, error=e.line(), error_code=e.exit_code)
        return replace(result, actions=(*result.actions, failed), ledger=tuple(notes))
    return replace(result, ledger=(*notes, f"appended to the lifespan ledger ({store.where}): {what}"))


def _issue_op(check: bool, sink: IssueSink, issue: Issue | None, op: Op, texts: "IssueTexts") -> AlertAction:
    """One operation of the plan (alert_plan.py) on the `mtn-session` issue."""
    label = issue.label if issue else ""
    if op.action == "open":
        title = REFRESH_TITLE if op.about == "refresh-due" else TITLE
        return _act(check, "github-issue", "open", f"an issue labelled mtn-session: {title}",
                    lambda: sink.open(texts.body(op.about), title))
    if op.action == "retitle":
        return _act(check, "github-issue", "retitle", f"{label} to {TITLE!r}", lambda: sink.retitle(issue, TITLE))
    if op.action == "comment":
        return _act(check, "github-issue", "comment", f"on {label} ({op.about.replace('-', ' ')})",
                    lambda: sink.comment(issue, texts.comment(op.about)))
    return _act(check, "github-issue", "close", f"{label} ({op.about})",
                lambda: sink.close(issue, texts.closing(op.about)))


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



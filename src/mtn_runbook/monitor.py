"""`inv monitor`: is MTN working for production? The secret AND production, never one alone.

    secret      MTN_SESSION (as CI holds it) decodes and the MTN API accepts it
    production  PRODUCTION_URL loads that same session (/auth) and /products answers 200

    healthy     both fine
    warning     both fine, but the tracked expiry is under 60 min away or passed, or the predicted
                expiry (lifespan.py) is under 5 h away (the next scheduled run may come too late)
    unhealthy   either fails; the message says which, and what to run

Exit codes: 0 healthy or warning, 3 unhealthy, 2 bad configuration (including a secret that does
not decode), 1 when an alert could not be delivered. Alerts: see alerts.py. Whether the state
changed (for the webhook) is read from the open issue (durable: survives CI runs) and else the
journal's last alerting `monitor` entry (local runs); with neither, only "unhealthy" is news.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Mapping

from .alerts import Issue, IssueSink, github_api, marker, post_webhook, runbook_link
from .checks import Check
from .console import duration
from .config import Settings, require
from .errors import ConfigError, RunbookError, SessionFormatError
from .journal import Journal
from .session import Session, decode, iso, now, parse_time

TRACKED_WARNING_MINUTES = 60
PREDICTED_NEAR = timedelta(hours=5)
EXIT_CODES = {"healthy": 0, "warning": 0, "unhealthy": 3}
RECOVER = "`inv recover`"


@dataclass(frozen=True)
class Health:
    state: str                            # healthy | warning | unhealthy
    message: str                          # one line: what is wrong (or fine), and what to run
    checks: tuple[Check, ...]
    secret: dict                          # Verdict.to_json(), or {"valid": False, "problem": ...}
    production: dict                      # ProductionHealth.to_json() plus what it means
    lifespan: dict
    fingerprint: str | None               # of MTN_SESSION, when it decodes
    bad_config: bool = False              # the secret does not decode: exit 2
    at: datetime = field(default_factory=now)

    @property
    def exit_code(self) -> int:
        return 2 if self.bad_config else EXIT_CODES[self.state]


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


def is_change(previous: str | None, current: str) -> bool:
    """With no memory of the last state, only "unhealthy" is news (so a steady warning in CI,
    where the journal does not persist, is not posted every 4 hours)."""
    return current == "unhealthy" if previous is None else previous != current


# -- health -------------------------------------------------------------------------------
def assess(settings: Settings, *, journal: Journal | None = None) -> Health:
    """Check the secret and production once; journal the validation (mtn.api does)."""
    from .lifespan import lifespan_report
    from .mtn.api import validate
    from .production import check_production

    if not settings.mtn_session:
        raise ConfigError("MTN_SESSION not set", "set it to the base64 session (as the GitHub secret holds it)")
    require(settings, "PRODUCTION_URL")
    journal = journal or Journal(settings.journal_file)
    at = now()

    session: Session | None = None
    verdict = None
    decode_problem = secret_error = None
    try:
        session, _ = decode(settings.mtn_session, "MTN_SESSION")
    except SessionFormatError as e:
        decode_problem = e.message
    if session is not None:
        try:
            verdict = validate(settings, session, source="monitor")
        except RunbookError as e:  # validate reports most failures as an "error" verdict already
            secret_error = e.message

    prod = check_production(settings, session)
    report = lifespan_report(journal, session, at=at)

    checks: list[Check] = []
    problems: list[str] = []           # what is broken, in the operator's words
    secret_bad = False
    secret_unsure = None               # why the MTN API could not give a verdict
    notes: list[str] = []              # warnings

    # the secret
    if decode_problem:
        secret_bad = True
        problems.append(f"the MTN_SESSION secret does not decode ({decode_problem})")
        checks.append(Check("MTN_SESSION secret", False, decode_problem, RECOVER))
        secret = {"valid": False, "verdict": "undecodable", "problem": decode_problem}
    elif verdict is None:
        secret_bad = True
        secret_unsure = secret_error
        problems.append(f"could not validate the MTN_SESSION secret ({secret_error})")
        checks.append(Check("MTN_SESSION secret", False, str(secret_error), "retry; if it persists, " + RECOVER))
        secret = {"valid": False, "verdict": "error", "problem": secret_error}
    else:
        secret = verdict.to_json()
        detail = f"{session.short_id}: {verdict.message}"
        if verdict.valid:
            checks.append(Check("MTN_SESSION secret", True, detail))
        elif verdict.state == "expired":
            secret_bad = True
            problems.append(f"the MTN_SESSION secret is expired ({verdict.message})")
            checks.append(Check("MTN_SESSION secret", False, detail, RECOVER))
        else:
            secret_bad, secret_unsure = True, verdict.message
            problems.append(f"could not validate the MTN_SESSION secret ({verdict.message})")
            checks.append(Check("MTN_SESSION secret", False, detail, "retry; if it persists, " + RECOVER))

    # production
    auth = prod.auth or {}
    auth_problems = [p for p in prod.problems if p.startswith("auth:")]
    products_ok = not any(p.startswith("products:") for p in prod.problems) and prod.products_status == 200
    reachable = prod.auth is not None
    loaded = bool(auth.get("authenticated") and auth.get("sessionId"))
    same = loaded and session is not None and auth.get("sessionId") == session.short_id
    serves = auth.get("sessionId") or "none"
    if same:
        checks.append(Check("production session", True, f"{settings.production_url} serves the secret's session ({serves})"))
    else:
        hint = "redeploy (`inv deploy`) or " + RECOVER
        detail = "; ".join(p.split(": ", 1)[1] for p in auth_problems) or f"serves {serves}"
        works_anyway = loaded and products_ok and not secret_bad  # another live session: a warning
        checks.append(Check("production session", works_anyway, detail, hint, warning=works_anyway))
    if products_ok:
        checks.append(Check("production /products", True, f"answered {prod.products_status} with MTN's products"))
    else:
        detail = "; ".join(p.split(": ", 1)[1] for p in prod.problems if p.startswith("products:")) or "failed"
        checks.append(Check("production /products", False, detail, "see the production session line"))

    production_bad = False
    if not reachable and not products_ok:
        production_bad = True
        problems.append(f"production did not answer ({'; '.join(prod.problems)})")
    elif not loaded and not products_ok:
        production_bad = True
        problems.append("production has no MTN session loaded")
    elif not products_ok and session is not None and not same:
        production_bad = True
        problems.append("production is serving a different, dead session")
    elif not products_ok:
        production_bad = True
        whose = "the secret's" if same else "its"
        problems.append(f"production fails /products (answered {prod.products_status}) with {whose} session")
    elif not same and not secret_bad:
        notes.append("production serves a different session than the MTN_SESSION secret (it works): "
                     "`inv deploy` makes it use the secret's")
    elif secret_bad and same and secret_unsure:
        # MTN did not answer us, but production's /products just used the same session: it works
        problems.pop()
        secret_bad = False
        checks[0] = Check(checks[0].name, True, checks[0].detail, warning=True)
        notes.append(f"could not validate the MTN_SESSION secret directly ({secret_unsure}), but production's "
                     "/products works with the same session")
    elif secret_bad:
        problems[-1] += ("; production's /products still works with it" if same
                         else "; production still works, with another session")

    # warnings, only worth raising when everything works
    if verdict is not None and verdict.valid:
        left = verdict.minutes_left()
        if left < TRACKED_WARNING_MINUTES:
            when = f"passed {duration(-left)} ago" if left < 0 else f"in {duration(left)}"
            notes.append(f"tracked expiry {when} (the API still accepts the session): `inv extend` moves it forward")
            checks.append(Check("tracked expiry", True, f"{iso(verdict.session.expires_at)}, {when}",
                                "`inv extend`", warning=True))
        else:
            checks.append(Check("tracked expiry", True, f"{iso(verdict.session.expires_at)}, in {duration(left)}"))
    current = report.get("current") or {}
    predicted_at = current.get("predictedExpiry")
    near = False
    if predicted_at and report.get("observed"):
        left_p = parse_time(predicted_at, "predicted expiry") - at
        near = left_p < PREDICTED_NEAR
        if near and not secret_bad:
            notes.append(f"predicted expiry {'passed' if left_p.total_seconds() < 0 else 'is near'} "
                         f"({predicted_at}, {current.get('basis')}): refresh soon (`inv refresh`)")
    checks.append(Check("predicted expiry", True, report["summary"], "`inv refresh` before it" if near else "",
                        warning=near))

    if problems:
        state = "unhealthy"
        action = RECOVER if secret_bad else "redeploy (`inv deploy`) or " + RECOVER
        message = f"{' and '.join(problems)}: {action}"
    elif notes:
        state, message = "warning", "; ".join(notes)
    else:
        state = "healthy"
        message = "the MTN_SESSION secret is valid and production serves it (/products answers 200)"

    production = {**prod.to_json(), "url": settings.production_url, "servesSecret": same,
                  "productsOk": products_ok, "problem": production_bad}
    return Health(state, message, tuple(checks), secret, production, report,
                  session.fingerprint if session else None, bad_config=bool(decode_problem), at=at)


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


def actions_run_url(environ: Mapping[str, str]) -> str | None:
    """The link to this GitHub Actions run, when running in one."""
    if environ.get("GITHUB_RUN_ID") and environ.get("GITHUB_REPOSITORY"):
        server = environ.get("GITHUB_SERVER_URL", "https://github.com")
        return f"{server}/{environ['GITHUB_REPOSITORY']}/actions/runs/{environ['GITHUB_RUN_ID']}"
    return None


# -- what the sinks say -------------------------------------------------------------------
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
2. Confirm the secret and production are healthy again:
   ```
   inv monitor
   ```

Step by step, and what each failure means: [runbooks/incident-recovery.md]({runbook_link(settings)}).
This issue is commented on while the scheduled check keeps failing, and closed by the first healthy run.

{marker("unhealthy", health.fingerprint)}"""


def still_failing_comment(health: Health, run_url: str | None) -> str:
    seen = f" ([run]({run_url}))" if run_url else ""
    return f"""Still unhealthy at {iso(health.at)}{seen}: {health.message}

{checks_table(health)}

{marker("unhealthy", health.fingerprint)}"""


def recovery_comment(health: Health, last: tuple[str, str] | None, run_url: str | None) -> str:
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
    return f"""Recovered at {iso(health.at)}{seen}: {how}.

State now: **{health.state}** — {health.message}

{checks_table(health)}

{marker(health.state, health.fingerprint)}"""


def webhook_text(health: Health, previous: str | None, issue_url: str | None) -> str:
    if health.state == "unhealthy":
        tail = f" Issue: {issue_url}" if issue_url else ""
        return f"MTN session UNHEALTHY: {health.message}.{tail}"
    if previous == "unhealthy":
        return f"MTN session recovered ({health.state}): {health.message}."
    return f"MTN session {health.state}: {health.message}."


def annotations(result: MonitorResult) -> list[str]:
    """GitHub Actions workflow commands: ::error:: / ::warning:: lines for the run's summary."""
    out = []
    h = result.health
    if h.state == "unhealthy":
        out.append(f"::error title=MTN session unhealthy::{_escape(h.message)}")
    elif h.state == "warning":
        out.append(f"::warning title=MTN session warning::{_escape(h.message)}")
    for a in result.actions:
        if a.error:
            out.append(f"::error title=Monitor alert failed::{_escape(a.line(False))}")
    return out


def _escape(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def step_summary(result: MonitorResult) -> str:
    """Markdown for $GITHUB_STEP_SUMMARY: the verdict, the checks, the lifespans, the alerts."""
    h = result.health
    life = h.lifespan
    lines = [f"## MTN session monitor: {h.state}", "", h.message, "", checks_table(h), "",
             "### Observed lifespans", "", f"- {life['summary']}", f"- method: {life['method']}"]
    cur = life.get("current") or {}
    if cur:
        lines.append(f"- current session {cur.get('fingerprint')}: started {cur.get('start')} "
                     f"({cur.get('startSource')}), predicted expiry {cur.get('predictedExpiry')} ({cur.get('basis')})")
    lines += ["", "### Alerts", ""]
    if result.actions:
        lines += [f"- {a.line(result.alerts == 'check')}" for a in result.actions]
    else:
        lines.append(f"- nothing to send (alerts {result.alerts}; previous state {result.previous or 'unknown'})")
    return "\n".join(lines) + "\n"

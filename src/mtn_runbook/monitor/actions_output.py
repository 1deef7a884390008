"""The monitor in GitHub Actions: workflow-command annotations and the job summary."""

from __future__ import annotations

from typing import Mapping

from .alert_texts import checks_table
from .monitor import MonitorResult


def annotations(result: MonitorResult) -> list[str]:
    """GitHub Actions workflow commands: ::error:: / ::warning:: lines for the run's summary."""
    out = []
    h = result.health
    if h.state == "unhealthy":
        out.append(f"::error title=MTN session unhealthy::{_escape(h.message)}")
    elif h.state == "warning":
        out.append(f"::warning title=MTN session warning::{_escape(h.message)}")
    elif h.state == "refresh-due":
        out.append(f"::warning title=MTN session refresh due::{_escape(h.message)}")
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
             "### Observed lifespans", "", f"- {life.get('summary', 'not read')}",
             f"- method: {life.get('method', '–')}"]
    if result.refresh:
        r = result.refresh
        lines.append(f"- refresh-by {r['refreshBy'] or 'none within 30 days'}; policy: {r['decision']} ({r['reason']})")
    lines += [f"- {line}" for line in result.ledger]
    lines += ["", "### Alerts", ""]
    if result.actions:
        lines += [f"- {a.line(result.alerts == 'check')}" for a in result.actions]
    else:
        lines.append(f"- nothing to send (alerts {result.alerts}; previous state {result.previous or 'unknown'})")
    return "\n".join(lines) + "\n"


def write_step_summary(result: MonitorResult, environ: Mapping[str, str]) -> None:
    """Append step_summary to the file $GITHUB_STEP_SUMMARY names, when Actions set one (scrubbed)."""
    from ..core.console import scrub

    path = environ.get("GITHUB_STEP_SUMMARY")
    if path:
        with open(path, "a", encoding="utf-8") as f:
            f.write(scrub(step_summary(result)))

"""How the lifespan ledger reads to a person: the issue body (a table, a Mermaid chart of observed
lifetimes, then the data, one JSON line per session), an entry comment, and the terminal chart
`inv ledger` prints."""

from __future__ import annotations

import re

from ..core.times import span
from .ledger_issue import ENTRY
from .ledger_lines import json_line
from .ledger_records import MAX_SESSIONS, Record, data_lines

CHART_SESSIONS = 30
TABLE_SESSIONS = 15
BAR = 40


_MARKDOWN = {**{ord(c): "\\" + c for c in "\\`*_{}[]()#+-.!|<>~"}, ord("&"): "&amp;", ord("@"): "@\u200b"}


def markdown_text(text: str) -> str:
    """`text` as plain text in Markdown (a table cell): no HTML, link, code span, table cell break
    or @mention (a zero-width space after each @), and no control character."""
    from ..core.console import printable

    return printable(text).replace("\n", " ").translate(_MARKDOWN)


def _code(text: str) -> str:
    """A fingerprint as a code span, or as escaped text when it is not a plain name."""
    return f"`{text}`" if re.fullmatch(r"[0-9A-Za-z:._+-]+", text) else markdown_text(text)


def _fp(r: Record) -> str:
    """The session as every other line names it (its login's id, shortened); older entries without
    it, by the fingerprint of a value seen."""
    return r.sid or (r.fps[-1] if r.fps else r.session[-12:])


def ended(r: Record) -> str:
    if r.first_dead:
        return "died"
    return "alive or replaced (censored)" if r.last_alive else "not yet seen alive"


def _lived(r: Record) -> str:
    life = r.lifetime()
    if life is None:
        return "–"
    return span(life[0]) if life[1] else f"≥ {span(life[0])}"


def entry_comment(entries: list[dict]) -> str:
    what = ", ".join(f"{e['event']} {e.get('sid') or e['fp']}" for e in entries)
    lines = "".join(json_line(e) for e in entries)
    return f"Ledger entry ({what}), to be folded into the body by the next writer.\n\n```jsonl\n{lines}```\n{ENTRY}"


def mermaid(records: list[Record]) -> str:
    shown = [(r, r.lifetime()) for r in records if r.lifetime() is not None][-CHART_SESSIONS:]
    if not shown:
        return "_No lifetime observed yet._"
    labels = ", ".join(f'"{r.start:%m-%d %H:%M}"' for r, _ in shown)
    died = ", ".join(f"{life[0]:.1f}" if life[1] else "0" for _, life in shown)
    alive = ", ".join("0" if life[1] else f"{life[0]:.1f}" for _, life in shown)
    return ("```mermaid\nxychart-beta\n"
            '    title "Hours each session lived (first bars: died; second: still alive or replaced alive)"\n'
            f"    x-axis [{labels}]\n    y-axis \"hours\"\n    bar [{died}]\n    bar [{alive}]\n```")


def issue_body(records: list[Record], where: str) -> str:
    lives = [r.lifetime() for r in records]
    deaths = sum(1 for life in lives if life and life[1])
    censored = sum(1 for life in lives if life and not life[1])
    rows = ["| session | started (UTC) | lived | how it ended | seen by |", "|---|---|---|---|---|"]
    for r in reversed(records[-TABLE_SESSIONS:]):
        rows.append(f"| {_code(_fp(r))} | {r.start:%Y-%m-%d %H:%M} | {_lived(r)} | {ended(r)} | "
                    f"{markdown_text(', '.join(r.by))} |")
    return f"""How long MTN sessions live, as every `inv monitor` and operator's `inv` saw them: {deaths} died,
{censored} were replaced while alive or are still alive (their lifetimes are lower bounds). `inv ledger`
shows the refresh-by time this gives; runbooks/monitoring.md explains it.

Written by mtn-runbook: new observations arrive as comments and are folded into this body. No
secret is kept here: shortened session ids, value fingerprints, times, verdicts and who observed. Please do not edit.

{mermaid(records)}

{chr(10).join(rows)}

<details><summary>data: one line per session (newest {MAX_SESSIONS} kept)</summary>

```jsonl
{data_lines(records)}```
</details>
"""


def terminal_chart(records: list[Record], width: int = BAR) -> list[str]:
    """One line per session, newest last: a bar of its lifetime (█ died, ░ censored)."""
    shown = [(r, r.lifetime()) for r in records][-CHART_SESSIONS:]
    longest = max((life[0] for _, life in shown if life), default=0) or 1
    lines = []
    for r, life in shown:
        hours = life[0] if life else 0
        bar = ("█" if life and life[1] else "░") * max(1 if life else 0, round(hours / longest * width))
        lines.append(f"{_fp(r)}  {r.start:%Y-%m-%d %H:%M}  {bar:<{width}}  {_lived(r):>9}  {ended(r)}")
    return lines

"""What the monitor does with the alert issue and the webhook: one pure decision, no I/O.

One open issue per incident state, its title following the state:

    state now      open issue        issue operations                              webhook
    unhealthy      none              open (unhealthy)                              if news
    unhealthy      unhealthy         comment "still unhealthy"                     no
    unhealthy      refresh due       retitle to unhealthy, comment what to do      yes
    refresh-due    unhealthy         close "recovered"; open (refresh due) if the  one
                                     policy prompts now
    refresh-due    none/refresh due  open / comment (refresh due) if it prompts    if it prompts
    healthy,       unhealthy or      close "recovered" / "refreshed"               one
    warning        refresh due

`prompts` is the refresh policy's decision for this run; `AlertPlan.prompt_sent` says whether this
plan carries that prompt (only then may the ledger mark it as sent).
"""

from __future__ import annotations

from dataclasses import dataclass

from .verdict import is_change

UNHEALTHY, REFRESH_DUE = "unhealthy", "refresh-due"


@dataclass(frozen=True)
class Op:
    action: str      # open | comment | retitle | close
    about: str       # unhealthy | still-unhealthy | refresh-due | recovered | refreshed


@dataclass(frozen=True)
class AlertPlan:
    ops: tuple[Op, ...]
    webhook: bool
    prompt_sent: bool

    def __contains__(self, action: str) -> bool:
        return any(op.action == action for op in self.ops)


def plan(state: str, *, issue: str | None, previous: str | None, prompts: bool) -> AlertPlan:
    """`issue`: the open issue's state by its title (UNHEALTHY, REFRESH_DUE) or None when there is
    none; `previous`: the state the last alerting run saw (None: unknown)."""
    ops: list[Op] = []
    prompt_sent = False
    if state == UNHEALTHY:
        if issue is None:
            ops.append(Op("open", UNHEALTHY))
        elif issue == UNHEALTHY:
            ops.append(Op("comment", "still-unhealthy"))
        else:
            ops += [Op("retitle", UNHEALTHY), Op("comment", UNHEALTHY)]
        webhook = is_change(previous, state) or issue == REFRESH_DUE
    elif state == REFRESH_DUE:
        closing = issue == UNHEALTHY
        if closing:
            ops.append(Op("close", "recovered"))
        if prompts:
            ops.append(Op("comment" if issue == REFRESH_DUE else "open", REFRESH_DUE))
            prompt_sent = True
        webhook = closing or prompts
    else:
        if issue is not None:
            ops.append(Op("close", "refreshed" if issue == REFRESH_DUE else "recovered"))
        webhook = issue is not None or is_change(previous, state)
    return AlertPlan(tuple(ops), webhook, prompt_sent)

"""The head of the `recover` and `refresh` plans: a session the MTN API accepts.

recover validates the session in hand, then renews it: extended with no login while the API still
accepts it (the tracked expiry once it has passed, the gate once it is under 24 h away), else a new
login, the one human step. refresh always logs in. A login likely ahead starts the browser while
the network work before it runs (prestart.py).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..core.errors import ServiceError
from ..core.times import iso, minutes_until, now, relative
from .engine import Run, StepResult
from .holdings import note_holdings, read_ahead
from .value import current_session, save_as_current

if TYPE_CHECKING:
    from ..core import session as sessions
    from ..mtn.api import Verdict

EXTEND_HOURS = 24.0


def _validate(run: Run, session: sessions.Session) -> Verdict:
    from ..mtn.api import validate

    return validate(run.settings, session, record=not run.check)


def check_current(run: Run) -> StepResult:
    from . import prestart
    from .preflight import note

    session = current_session(run)
    answer = prestart.Verdict()

    def validated() -> Verdict | None:
        login = True  # no verdict (an error, no session): the browser may well be needed
        try:
            from ..mtn import api  # noqa: F401  (imported before the question goes out: GRACE counts from there)

            answer.asked()
            found = _validate(run, session) if session is not None else None
            login = found is None or not found.valid   # live or extendable: no login, no browser
            return found
        finally:
            answer.set(login)

    if prestart.login_likely(run, session):
        # the targets are read (the first look) and the login's preflight checks run while the
        # session is validated, and the browser starts meanwhile: called off (or reaped) as soon
        # as the validation says the session is live or extendable
        verdict = prestart.overlapped(run, lambda: prestart.alongside(validated, lambda: note(run)), answer)
    else:  # the first look ("changed since this run started" compares against it) alongside
        verdict = prestart.alongside(validated, lambda: note_holdings(run))
    run.facts.verdict = verdict
    if session is None or verdict is None:   # no verdict without a session
        return StepResult("ok", "no session saved and MTN_SESSION not set: a new login is needed")
    run.session = session
    return StepResult("ok", verdict.message)


def renew(run: Run) -> StepResult:
    from . import prestart

    try:
        return _renew(run)
    finally:
        prestart.close_unused(run)  # a browser started early that no login needed


def _renew(run: Run) -> StepResult:
    from ..core.pushed import GATE_MINIMUM, extended

    verdict, current = run.facts.verdict, run.session
    gate_near = verdict is not None and verdict.valid and current is not None \
        and current.gate - now() < GATE_MINIMUM
    if verdict is not None and verdict.state == "valid" and not gate_near:
        return StepResult("skipped", "the session is still valid: no login needed")
    if verdict is not None and verdict.valid and current is not None:   # a valid verdict is of the session in hand
        tracked = verdict.state == "valid_tracked_expired"
        what = " and ".join(w for w in (tracked and f"the tracked expiry {EXTEND_HOURS:g}h",
                                        gate_near and f"the gate (the expiresAt production reads, "
                                                      f"{relative(minutes_until(current.gate))})") if w)
        if run.check:
            return StepResult("would", f"would move {what} forward; the API still accepts the session: no login")
        new = extended(run.settings, current, hours=EXTEND_HOURS, tracked=tracked, gate=gate_near)
        save_as_current(run, new, keep_prev=tracked)
        return StepResult("changed", f"extended, no login (the API still accepts it): gate now {iso(new.gate)}"
                                     + (f", tracked expiry {iso(new.expires_at)}" if tracked else ""))
    if verdict is not None and verdict.state == "error":
        raise ServiceError(f"cannot tell whether the session is alive: {verdict.message}",
                           "check that the MTN API is up (`inv validate`), then rerun `inv recover`")
    return login(run)


def login(run: Run) -> StepResult:
    if run.check:
        run.facts.new_session_pending = True
        how = "open the browser"
        if run.facts.link:
            from ..mtn.link import check_address

            check_address(run.settings)  # what the real run checks, without its port
            how = "serve a one-time login link"
        return StepResult("would", f"would {how} for a new login (the one human step)")
    import contextlib

    from ..core.console import protect
    from . import prestart
    from .preflight import once

    def ready() -> str:
        return once(run)  # refresh starts here: the preflight's first look notes what the targets hold

    # a wrong token or project must fail now, not after the person has solved the captcha;
    # the browser starts meanwhile (unless the validate step started it already)
    run.console.step("ok", "preflight", prestart.overlapped(run, ready))

    from ..mtn.sso import login as sso_login
    from .login_link import login_link

    with login_link(run.settings, run.console) if run.facts.link else contextlib.nullcontext() as link:
        new = sso_login(run.settings, console=run.console, headless=run.facts.headless,
                        timeout=run.facts.timeout, browser=prestart.lend(run), link=link)
    protect(*new.secrets())
    _adopt_alongside(run, new)
    return StepResult("changed", f"logged in: session {new.short_id} accepted by the MTN API, "
                                 f"tracked expiry {iso(new.expires_at)}")


def _adopt_alongside(run: Run, new: sessions.Session) -> None:
    """Adopt the new login's session (mtn/adopt.py validates it whole) while the push's reads go
    out (read-only): validate-new then finds them done. The value to push is validated after the
    adoption, not beside it: a session the API refuses must be refused by the adoption's own
    question, whichever request a one-off refusal meets."""
    from ..core.pushed import prepare
    from ..mtn.adopt import adopt

    value = prepare(run.settings, new)
    read_ahead(run, value.value)
    adopt(run.settings, new, run.settings.session_file)  # a session the API refuses is set aside, not saved
    run.session = new
    if value.gate_moved:
        save_as_current(run, value.session, keep_prev=False)   # as pushed() does: the same session, its gate noted
    run.facts.value = value

"""The session a `recover` or `refresh` run works on, and the value it pushes.

The session in hand is the session file, else MTN_SESSION; a renewed one is saved and becomes the
run's. The value pushed is core/pushed.py's (the MTN API host's cookies, `expiresAt` = the app's
gate), prepared once per run with its gate saved beside the session, and validated against the
MTN API once per run: `inv push` validates through here too.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Callable

from ..core import session as sessions
from ..core.errors import RunbookError, SessionExpired
from .engine import Run

if TYPE_CHECKING:
    from ..core.pushed import Pushed
    from ..mtn.api import Verdict


def current_session(run: Run) -> sessions.Session | None:
    """The session in hand (the session file, else MTN_SESSION), or None when there is neither."""
    from ..mtn.source import open_session

    if not run.settings.session_file.exists() and not run.settings.mtn_session:
        return None
    return open_session(run.settings, run.console, check=run.check).session


def save_as_current(run: Run, new: sessions.Session, *, keep_prev: bool = True) -> None:
    """Save `new` as the session file (its secrets kept out of every output) and make it the
    run's session; the value prepared from the old one is dropped."""
    from ..core.console import protect

    protect(*new.secrets())
    sessions.save(run.settings.session_file, new, keep_prev=keep_prev)
    run.session = new
    run.facts.value = None


def prepared(run: Run) -> Pushed:
    """The value this run pushes, prepared once (not yet validated: `pushed`)."""
    from ..core.pushed import prepare

    cached = run.facts.value
    if cached is None:
        assert run.session is not None   # no step prepares a value while one is pending (`pending`)
        cached = prepare(run.settings, run.session)
        if cached.gate_moved and not run.check:
            save_as_current(run, cached.session, keep_prev=False)   # the same session, its gate noted
        run.facts.value = cached
    return cached


def _refused(verdict: Verdict) -> SessionExpired:
    return SessionExpired(f"the session does not validate ({verdict.message}); nothing was pushed",
                          "run `inv recover` again (it will ask for a new login)")


def pushed(run: Run, *, source: str = "", refused: Callable[[Verdict], RunbookError] = _refused) -> Pushed:
    """The value this run pushes (core/pushed.py), its gate saved with the session so a resumed or
    repeated run pushes the same value; validated against the MTN API once per run (a value the
    API refuses raises `refused(verdict)`: nothing is pushed). `inv push` validates through here."""
    from ..mtn.api import validate

    cached = prepared(run)
    if run.facts.value_validated != cached.fingerprint:
        verdict = validate(run.settings, cached.app, source=source, record=not run.check)
        if not verdict.valid:
            raise refused(verdict)
        run.facts.value_validated = cached.fingerprint
        run.facts.products = len(verdict.products)
    return cached

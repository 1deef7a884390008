"""What the steps of one run learn for later steps and the recap, as named, typed fields (a Run's
`facts`), and what the operator asked for (`--headless`, `--only`...). Types are imported for the
type checker only: a run imports each module when a step needs it."""

from __future__ import annotations

from concurrent.futures import Future
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..core.errors import RunbookError
    from ..core.pushed import Pushed
    from ..mtn.api import Verdict
    from ..mtn.browser import Browser
    from ..services.redeploy import Project
    from ..targets import Current, PushResult, Target
    from ..targets.holding import Holding


@dataclass
class Facts:
    # what the operator asked for
    headless: bool = False
    timeout: float = 300.0              # seconds the person has to log in
    link: bool = False                  # serve a one-time login link instead of a local window
    only: tuple[str, ...] = ()          # --only: the targets pushed to
    skip: tuple[str, ...] = ()          # --skip-target
    last_run: dict[str, Any] | None = None   # the journal's end of the run a --check follows
    # the session: the first validation's verdict, the value pushed, its validation
    verdict: Verdict | None = None
    value: Pushed | None = None
    value_validated: str | None = None  # the fingerprint of the value the MTN API accepted
    products: int = 0                   # how many products the API listed for it
    new_session_pending: bool = False   # check mode: a renewal only described, no session to push
    # the targets: built once, the first look, the push's reads started early, its results
    configured: list[Target] | None = None
    holdings: dict[str, Holding] | None = None
    read_ahead: tuple[str, Future[list[Current | PushResult]]] | None = None
    results: list[PushResult] | None = None
    held_after_push: dict[str, Holding] | None = None   # each target's read-back right after the push
    held_after: dict[str, Holding] | None = None        # ... and, for the recap, read again where it was not
    # production: whether any chosen target feeds it, its project read alongside the push, verified when
    production_selected: bool = True
    production_read: Future[Project] | None = None
    verified_after: float | None = None
    # before the login: the preflight's summary or failure, the browser started early
    preflight: str | RunbookError | None = None
    browser: Browser | None = None
    browser_lent: bool = False

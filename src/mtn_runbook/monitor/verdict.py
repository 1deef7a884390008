"""The monitor's verdict: the secret and production checked once, as healthy / warning / unhealthy.

    secret      MTN_SESSION (as CI holds it) decodes and the MTN API accepts it
    production  PRODUCTION_URL loads that same session (/auth) and /products answers 200

    healthy     both fine
    warning     both fine, but the tracked expiry is under 60 min away or passed (only while no
                lifespan is known yet: after that a fresh login's 60 minutes are not news)
                Or production's gate (the expiresAt /auth reports) is under 24 h away.
    refresh-due set by monitor.py from the lifespan ledger (refresh_due.py), not here
    unhealthy   either fails; the message says which, and what to run. "production's gate closed"
                is its own case: MTN accepts the session, the app refuses it (expiresAt passed)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from ..core.checks import Check
from ..core.config import Settings, require
from ..core.errors import ConfigError, ExitCode, RunbookError, SessionFormatError
from ..core.journal import Journal
from ..core.pushed import APP_REFUSES_WITHIN
from ..core.session import Session, decode
from ..core.times import duration, iso, now, relative

TRACKED_WARNING_MINUTES = 60
EXIT_CODES = {"healthy": ExitCode.DONE, "warning": ExitCode.DONE, "refresh-due": ExitCode.DONE,
              "unhealthy": ExitCode.SESSION_INVALID}
RECOVER = "`inv recover`"
GATE_FIX = "`inv recover` (no login while MTN accepts the session: it extends, pushes and redeploys)"


@dataclass(frozen=True)
class Health:
    state: str                            # healthy | warning | unhealthy
    message: str                          # one line: what is wrong (or fine), and what to run
    checks: tuple[Check, ...]
    secret: dict                          # Verdict.to_json(), or {"valid": False, "problem": ...}
    production: dict                      # ProductionHealth.to_json() plus what it means
    lifespan: dict                        # set by monitor.py from the ledger (refresh_due.lifespan)
    fingerprint: str | None               # of MTN_SESSION, when it decodes
    bad_config: bool = False              # the secret does not decode: exit 2
    at: datetime = field(default_factory=now)

    @property
    def exit_code(self) -> int:
        return ExitCode.BAD_INPUT if self.bad_config else EXIT_CODES[self.state]



def is_change(previous: str | None, current: str) -> bool:
    """With no memory of the last state, only "unhealthy" and "refresh-due" are news (so a steady
    warning in CI, where the journal does not persist, is not posted every hour)."""
    return current in ("unhealthy", "refresh-due") if previous is None else previous != current



def require_inputs(settings: Settings) -> None:
    """The two inputs a health check cannot do without: one line, exit 2, before any request."""
    if not settings.mtn_session:
        from ..runner.rehearsal import in_sandbox_shell

        if in_sandbox_shell():   # the shell blanks MTN_SESSION: the session is in the shell's file
            raise ConfigError("MTN_SESSION is not set in a sandbox shell (sourcing it blanks it)",
                              "check the sandbox's session file: `inv monitor --file $MTN_SESSION_FILE`")
        raise ConfigError("MTN_SESSION not set", "set it to the base64 session (as the GitHub secret holds it), "
                                                 "or check a session file: `inv monitor --file PATH`")
    require(settings, "PRODUCTION_URL")


def assess(settings: Settings, *, journal: Journal | None = None, lifespans_known: bool = False,
           record: bool = True) -> Health:
    """Check the secret and production once; journal the validation (mtn.api does)."""
    from ..mtn.api import validate
    from ..services.production import check_production

    require_inputs(settings)
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
            verdict = validate(settings, session, source="monitor", record=record)
        except RunbookError as e:  # validate reports most failures as an "error" verdict already
            secret_error = e.message

    prod = check_production(settings, session)

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

    # the app's gate: MTN_SESSION's expiresAt is what production reads (when it runs the secret)
    gate_closed = (reachable and not loaded and verdict is not None and verdict.valid
                   and session is not None and session.expires_at - at <= APP_REFUSES_WITHIN)
    gate_near = next((p.split(": ", 1)[1] for p in prod.problems if p.startswith("gate:")), None)
    if loaded and prod.gate_hours is not None:
        left = prod.gate_hours * 60
        detail = f"expiresAt {auth.get('expiresAt')}, {'in ' + duration(left) if left >= 0 else 'passed'}"
        checks.append(Check("production gate", True, detail, GATE_FIX if gate_near else "", warning=bool(gate_near)))
    elif gate_closed:
        checks.append(Check("production gate", False, f"closed: MTN_SESSION's expiresAt {iso(session.expires_at)} "
                                                      "is under 5 min away", GATE_FIX))

    production_bad = False
    if not reachable and not products_ok:
        production_bad = True
        problems.append(f"production did not answer ({'; '.join(prod.problems)})")
    elif gate_closed and not products_ok:
        production_bad = True
        problems.append(f"production's gate closed: MTN_SESSION's expiresAt {iso(session.expires_at)} is under "
                        "5 min away, so the app refuses a session MTN still accepts")
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
        if left < TRACKED_WARNING_MINUTES and not lifespans_known:
            when = relative(left)
            notes.append(f"tracked expiry {when} (the API still accepts the session): `inv extend` moves it forward")
            checks.append(Check("tracked expiry", True, f"{iso(verdict.session.expires_at)}, {when}",
                                "`inv extend`", warning=True))
        else:
            checks.append(Check("tracked expiry", True, f"{iso(verdict.session.expires_at)}, in {duration(left)}"))
    if gate_near and products_ok and loaded:
        left = prod.gate_hours * 60
        when = f"in {duration(left)}" if left >= 0 else "now"
        notes.append(f"production's gate closes {when} (expiresAt {auth.get('expiresAt')}): the app drops the "
                     f"session 5 min before it, even while MTN accepts it: {GATE_FIX}")

    if problems:
        state = "unhealthy"
        action = RECOVER if secret_bad else GATE_FIX if gate_closed else "redeploy (`inv deploy`) or " + RECOVER
        message = f"{' and '.join(problems)}: {action}"
    elif notes:
        state, message = "warning", "; ".join(notes)
    else:
        state = "healthy"
        message = "the MTN_SESSION secret is valid and production serves it (/products answers 200)"

    production = {**prod.to_json(), "url": settings.production_url, "servesSecret": same,
                  "productsOk": products_ok, "problem": production_bad}
    return Health(state, message, tuple(checks), secret, production, {},
                  session.fingerprint if session else None, bad_config=bool(decode_problem), at=at)



"""The incident path and the proactive refresh, as plans of runbook steps.

recover: validate → renew (extend, or log in) → validate new → export → push → deploy → verify
refresh: login (always) → validate new → export → push → deploy → verify

What is pushed is not the session file but core/pushed.py's value: the MTN API host's cookies only,
and `expiresAt` = the app's gate (at least 24 h ahead), so production never drops a session MTN
still accepts. "Extend" therefore means two things here: the tracked expiry once it has passed,
and the gate once it is under 24 h away (the app's own rule closes it 5 minutes before).
"""

from __future__ import annotations

from concurrent.futures import Future
from datetime import datetime
from typing import TYPE_CHECKING, Callable, Sequence, TypeVar

from ..core import session as sessions
from ..core.errors import ConfigError, RunbookError, ServiceError, SessionExpired
from ..core.times import iso, now
from .engine import Run, Step, StepResult
from .holdings import chosen_targets, note_holdings, push_guarded, read_ahead

if TYPE_CHECKING:
    from ..core.pushed import Pushed
    from ..mtn.api import Verdict

T = TypeVar("T")

EXTEND_HOURS = 24.0


def current_session(run: Run) -> sessions.Session | None:
    """The session in hand (the session file, else MTN_SESSION), or None when there is neither."""
    from ..mtn.source import open_session

    if not run.settings.session_file.exists() and not run.settings.mtn_session:
        return None
    return open_session(run.settings, run.console, check=run.check).session


def _protect(session: sessions.Session) -> None:
    from ..core.console import protect

    protect(*session.secrets())


def _validate(run: Run, session: sessions.Session) -> Verdict:
    from ..mtn.api import validate

    return validate(run.settings, session, record=not run.check)


def _adopt(run: Run, new: sessions.Session, *, keep_prev: bool = True) -> None:
    _protect(new)
    sessions.save(run.settings.session_file, new, keep_prev=keep_prev)
    run.session = new
    run.facts.value = None


def _in(moment: datetime) -> str:
    from ..core.times import duration

    left = (moment - now()).total_seconds() / 60
    return f"in {duration(left)}" if left >= 0 else f"passed {duration(-left)} ago"


def prepared(run: Run) -> Pushed:
    """The value this run pushes, prepared once (not yet validated: `pushed`)."""
    from ..core.pushed import prepare

    cached = run.facts.value
    if cached is None:
        assert run.session is not None   # no step prepares a value while one is pending (`pending`)
        cached = prepare(run.settings, run.session)
        if cached.gate_moved and not run.check:
            _adopt(run, cached.session, keep_prev=False)   # the same session, its gate noted
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


# -- steps ------------------------------------------------------------------------------
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
                                                      f"{_in(current.gate)})") if w)
        if run.check:
            return StepResult("would", f"would move {what} forward; the API still accepts the session: no login")
        new = extended(run.settings, current, hours=EXTEND_HOURS, tracked=tracked, gate=gate_near)
        _adopt(run, new, keep_prev=tracked)
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
    _protect(new)
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
        _adopt(run, value.session, keep_prev=False)   # as pushed() does: the same session, its gate noted
    run.facts.value = value


def pending(run: Run) -> bool:
    """In check mode after a renewal that was only described, there is no new session to use."""
    return run.session is None or bool(run.facts.new_session_pending)


def validate_new(run: Run) -> StepResult:
    if pending(run):
        return StepResult("would", "would validate the value to push (API host cookies only) before pushing it anywhere")
    if not run.check:  # the push's reads (read-only) go out while the value is validated
        read_ahead(run, prepared(run).value)
    value = pushed(run)
    # the pushed value's expiresAt is the app's gate, not the tracked expiry: say which it is
    return StepResult("ok", f"MTN API accepts the value to push ({run.facts.products} products) "
                            f"with its {len(value.app.cookies)} cookie(s); the app's gate (expiresAt) "
                            f"{_in(value.app.expires_at)}")


def export(run: Run) -> StepResult:
    if pending(run):
        return StepResult("would", "would encode the new session as MTN_SESSION (API host cookies, a gate 24 h+ ahead)")
    value = pushed(run)
    encoded = value.value
    decoded, _ = sessions.decode(encoded)
    if decoded.to_dict() != value.app.to_dict() or encoded != encoded.strip():
        raise ServiceError("the encoded session does not decode back to itself", "report this as a bug")
    return StepResult("ok", f"MTN_SESSION encoded: {len(encoded)} base64 chars, round-trip checked, "
                            f"value fingerprint {value.fingerprint}; {value.cookies_line()}; expiresAt (the app's "
                            f"gate) {iso(value.app.expires_at)}, {_in(value.app.expires_at)}")


def push(run: Run) -> StepResult:
    from ..targets.target import exit_code
    from ..targets.selection import finish_command, production_reads

    targets = chosen_targets(run)
    # production reads Vercel or Coolify: with none of their targets chosen there is nothing to redeploy,
    # unless this run finishes a partial one (production is checked, redeployed only if it must be)
    run.facts.production_selected = bool(run.finishing) or any(production_reads(t) for t in targets)
    if pending(run):
        return StepResult("would", f"would push the new session to: {', '.join(t.name for t in targets)}")
    value = pushed(run)
    if not run.check and any(t.kind == "vercel" for t in targets):
        _production_alongside(run)  # the deploy step's read of the project, while the targets are written
    results = push_guarded(run, value)
    run.facts.results = results
    if not results:
        raise ConfigError("no push targets configured", "set VERCEL_* and GITHUB_* (or `targets:` in invoke.yaml)")
    failed = [r for r in results if r.outcome == "failed"]
    if failed:
        # the same code as `inv push` for the same failures: 2 when each is a configuration error
        error = ConfigError if exit_code(results) == ConfigError.exit_code else ServiceError
        names = [r.name for r in failed]
        reads = [r for r, t in zip(results, targets) if production_reads(t)]
        if run.check or not reads or any(r.failed for r in reads):
            raise error(f"push failed for {', '.join(names)}",
                        "the other targets hold the new session; fix the cause and run `inv recover --resume` "
                        f"(or `{finish_command(names)}`)")
        # production reads only Vercel, which holds the new session: bring production back now,
        # and still end in failure, naming what is left to do
        run.left_targets = tuple(names)
        run.left_behind = error(
            f"push failed for {', '.join(names)}; production was redeployed all the same "
            f"({', '.join(r.name for r in reads)} holds the new session)",
            f"fix the cause, then `inv {run.task} --resume` pushes to {'it' if len(names) == 1 else 'them'} "
            "and verifies production")
        return StepResult("failed", f"{len(results) - len(failed)} of {len(results)} targets updated; "
                                    f"failed: {', '.join(names)} (production reads "
                                    f"{', '.join(r.name for r in reads)}, which holds it: deploying)")
    if run.check:
        return StepResult("would", f"{sum(r.outcome == 'would' for r in results)} of {len(results)} targets would change")
    changed = sum(r.outcome == "changed" for r in results)
    return StepResult("changed" if changed else "ok",
                      f"{changed} of {len(results)} targets updated" if changed else "every target already holds it")


def _production_alongside(run: Run) -> None:
    """Read production's current deployment (and the recent builds' durations) on a thread while
    the push runs: the redeploy needs it, and it does not depend on the push."""
    from concurrent.futures import ThreadPoolExecutor

    from ..services.redeploy import project

    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="production")
    run.facts.production_read = pool.submit(project, run.settings)
    pool.shutdown(wait=False)


def _production_left_out(run: Run) -> StepResult | None:
    if run.facts.production_selected:
        return None
    return StepResult("skipped", "no target production reads was chosen (--only/--skip-target)")


def deploy(run: Run) -> StepResult:
    from ..services.redeploy import redeploy
    from ..services.production import check_production

    if (left_out := _production_left_out(run)) is not None:
        return left_out

    # production cannot serve a value this run's push just gave the platform it runs on: no need to ask it
    just_changed = any(r.outcome == "changed" and r.kind in ("vercel", "coolify") for r in run.facts.results or ())
    if not pending(run) and run.settings.production_url and not just_changed:
        value = pushed(run).app
        health = check_production(run.settings, value)
        auth = health.auth or {}
        if health.ok and auth.get("expiresAt") == iso(value.expires_at) \
                and auth.get("cookiesCount") == len(value.cookies):
            return StepResult("ok", "production already serves this session")
    from .platforms import chosen_platforms, redeploy as redeploy_all

    read, run.facts.production_read = run.facts.production_read, None
    platforms = chosen_platforms(chosen_targets(run))
    if platforms.coolify:  # production on Coolify (with or without Vercel): each application, then Vercel's
        done = redeploy_all(run.settings, platforms, console=run.console, check=run.check)
        if run.check:
            return StepResult("would", f"would redeploy production on {', '.join(platforms.names())}")
        return StepResult("changed", "; ".join(f"deployment {d.id} ({d.url}) is {d.state}" for d in done))
    deployment = redeploy(run.settings, console=run.console, wait=True, check=run.check,
                          found=_result_or_none(read))
    if run.check:
        return StepResult("would", f"would redeploy production ({deployment.id})")
    return StepResult("changed", f"deployment {deployment.id} is {deployment.state}")


def _result_or_none(future: Future[T] | None) -> T | None:
    """What a read started alongside found; None (read it again) when it failed or never ran."""
    if future is None:
        return None
    try:
        return future.result()
    except Exception:
        return None


def verify(run: Run) -> StepResult:
    from ..services.production import check_production, verified

    if (left_out := _production_left_out(run)) is not None:
        return left_out
    if not run.settings.production_url:
        raise ConfigError("PRODUCTION_URL not set: cannot verify production", "set it in the environment or .env")
    if run.check:
        health = check_production(run.settings, run.session)
        now = "production is healthy" if health.ok else "; ".join(health.problems)
        return StepResult("would", f"would check production (now: {now})")
    # as `inv deploy` does: right after a redeploy the app may answer from the old one for a moment
    health = verified(run.settings, pushed(run).app, run.console)
    if not health.ok:
        raise ServiceError(f"production check failed: {'; '.join(health.problems)}",
                           "see runbooks/troubleshooting.md (verify failing)")
    run.facts.verified_after = run.elapsed
    gate = (health.auth or {}).get("expiresAt")
    return StepResult("ok", f"production reports this session (expiresAt {gate}) and serves products (200)")


RECOVER: Sequence[Step] = (
    Step("validate", check_current, "validate the session in hand against the MTN API"),
    Step("renew", renew, "extend it if the API still accepts it, else log in (the human step)", waits_for_person=True),
    Step("validate-new", validate_new, "validate the session about to be pushed"),
    Step("export", export, "encode it as MTN_SESSION (base64 of compact JSON, no newline)"),
    Step("push", push, "put MTN_SESSION at every configured target, concurrently, verified"),
    Step("deploy", deploy, "redeploy production so the app reads the new value"),
    Step("verify", verify, "production reports the new session and serves products"),
)

REFRESH: Sequence[Step] = (
    Step("login", login, "always log in again (the human step)", waits_for_person=True),
    *RECOVER[2:],
)

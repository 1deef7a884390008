"""The incident path and the proactive refresh, as plans of runbook steps.

recover: validate → renew (extend, or log in) → validate new → export → push → deploy → verify
refresh: login (always) → validate new → export → push → deploy → verify

What is pushed is not the session file but core/pushed.py's value: the MTN API host's cookies only,
and `expiresAt` = the app's gate (at least 24 h ahead), so production never drops a session MTN
still accepts. "Extend" therefore means two things here: the tracked expiry once it has passed,
and the gate once it is under 24 h away (the app's own rule closes it 5 minutes before).
"""

from __future__ import annotations

from typing import Sequence

from ..core import session as sessions
from ..core.errors import ConfigError, ServiceError, SessionExpired
from .engine import Run, Step, StepResult
from .holdings import chosen_targets, note_holdings

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


def _validate(run: Run, session: sessions.Session):
    from ..mtn.api import validate

    return validate(run.settings, session, record=not run.check)


def _adopt(run: Run, new: sessions.Session, *, keep_prev: bool = True) -> None:
    _protect(new)
    sessions.save(run.settings.session_file, new, keep_prev=keep_prev)
    run.session = new
    run.facts.pop("value", None)


def _in(moment) -> str:
    from ..core.console import duration

    left = (moment - sessions.now()).total_seconds() / 60
    return f"in {duration(left)}" if left >= 0 else f"passed {duration(-left)} ago"


def pushed(run: Run):
    """The value this run pushes (core/pushed.py), its gate saved with the session so a resumed or
    repeated run pushes the same value; validated against the MTN API once per run."""
    from ..core.pushed import prepare

    cached = run.facts.get("value")
    if cached is None:
        cached = prepare(run.settings, run.session)
        if cached.gate_moved and not run.check:
            _adopt(run, cached.session, keep_prev=False)   # the same session, its gate noted
        run.facts["value"] = cached
    if run.facts.get("pushed_valid") != cached.fingerprint:
        verdict = _validate(run, cached.app)
        if not verdict.valid:
            raise SessionExpired(f"the session does not validate ({verdict.message}); nothing was pushed",
                                 "run `inv recover` again (it will ask for a new login)")
        run.facts["pushed_valid"] = cached.fingerprint
        run.facts["pushed_products"] = len(verdict.products)
    return cached


# -- steps ------------------------------------------------------------------------------
def check_current(run: Run) -> StepResult:
    from . import prestart

    session = current_session(run)

    from .preflight import note

    def look():
        note_holdings(run)  # first: "changed since this run started" compares against this
        return _validate(run, session) if session is not None else None

    if prestart.login_likely(run, session):
        # the browser starts while the targets are read and the session validated, and the
        # login's preflight checks run alongside
        verdict = prestart.overlapped(run, lambda: prestart.alongside(look, lambda: note(run)))
    else:
        verdict = look()
    run.facts["verdict"] = verdict
    if session is None:
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
    from ..core.pushed import GATE_MINIMUM, prepare

    verdict = run.facts.get("verdict")
    gate_near = verdict is not None and verdict.valid and run.session.gate - sessions.now() < GATE_MINIMUM
    if verdict is not None and verdict.state == "valid" and not gate_near:
        return StepResult("skipped", "the session is still valid: no login needed")
    if verdict is not None and verdict.valid:
        tracked = verdict.state == "valid_tracked_expired"
        what = " and ".join(w for w in (tracked and f"the tracked expiry {EXTEND_HOURS:g}h",
                                        gate_near and f"the gate (the expiresAt production reads, "
                                                      f"{_in(run.session.gate)})") if w)
        if run.check:
            return StepResult("would", f"would move {what} forward; the API still accepts the session: no login")
        new = run.session.extended(EXTEND_HOURS) if tracked else run.session
        _adopt(run, prepare(run.settings, new, renew=gate_near).session, keep_prev=tracked)
        return StepResult("changed", f"extended, no login (the API still accepts it): gate now "
                                     f"{sessions.iso(run.session.gate)}"
                                     + (f", tracked expiry {sessions.iso(run.session.expires_at)}" if tracked else ""))
    if verdict is not None and verdict.state == "error":
        raise ServiceError(f"cannot tell whether the session is alive: {verdict.message}",
                           "check that the MTN API is up (`inv validate`), then rerun `inv recover`")
    return login(run)


def login(run: Run) -> StepResult:
    if run.check:
        run.facts["new_session_pending"] = True
        how = "open the browser"
        if run.facts.get("link"):
            from ..mtn.link import check_address

            check_address(run.settings)  # what the real run checks, without its port
            how = "serve a one-time login link"
        return StepResult("would", f"would {how} for a new login (the one human step)")
    import contextlib

    from . import prestart
    from .preflight import once

    def ready() -> str:
        note_holdings(run)  # refresh starts here
        return once(run)

    # a wrong token or project must fail now, not after the person has solved the captcha;
    # the browser starts meanwhile (unless the validate step started it already)
    run.console.step("ok", "preflight", prestart.overlapped(run, ready))

    from ..mtn.adopt import adopt
    from ..mtn.sso import login as sso_login
    from .login_link import login_link

    with login_link(run.settings, run.console) if run.facts.get("link") else contextlib.nullcontext() as link:
        new = sso_login(run.settings, console=run.console, headless=run.facts.get("headless", False),
                        timeout=run.facts.get("timeout", 300.0), browser=prestart.lend(run), link=link)
    _protect(new)
    adopt(run.settings, new, run.settings.session_file)  # a session the API refuses is set aside, not saved
    run.session = new
    return StepResult("changed", f"logged in: session {new.short_id} accepted by the MTN API, "
                                 f"tracked expiry {sessions.iso(new.expires_at)}")


def pending(run: Run) -> bool:
    """In check mode after a renewal that was only described, there is no new session to use."""
    return run.session is None or bool(run.facts.get("new_session_pending"))


def validate_new(run: Run) -> StepResult:
    if pending(run):
        return StepResult("would", "would validate the value to push (API host cookies only) before pushing it anywhere")
    value = pushed(run)
    # the pushed value's expiresAt is the app's gate, not the tracked expiry: say which it is
    return StepResult("ok", f"MTN API accepts the value to push ({run.facts['pushed_products']} products) "
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
    run.facts["value_length"] = len(encoded)
    return StepResult("ok", f"MTN_SESSION encoded: {len(encoded)} base64 chars, round-trip checked, "
                            f"value fingerprint {value.fingerprint}; {value.cookies_line()}; expiresAt (the app's "
                            f"gate) {sessions.iso(value.app.expires_at)}, {_in(value.app.expires_at)}")


def push(run: Run) -> StepResult:
    from ..targets import exit_code, push as push_all
    from ..targets.selection import finish_command, production_reads

    targets = chosen_targets(run)
    # production reads Vercel or Coolify: with none of their targets chosen there is nothing to redeploy,
    # unless this run finishes a partial one (production is checked, redeployed only if it must be)
    run.facts["production_selected"] = bool(run.finishing) or any(production_reads(t) for t in targets)
    if pending(run):
        return StepResult("would", f"would push the new session to: {', '.join(t.name for t in targets)}")
    if not run.check:
        from ..targets.holding import refuse_if_changed

        note_holdings(run)  # a run started at this step (--from, --resume) compares from here
        refuse_if_changed(run.facts["holdings"], chosen_targets(run), pushed(run).fingerprint)
    results = push_all(run.settings, pushed(run).value, console=run.console, check=run.check, targets=targets)
    run.facts["targets"] = results
    if not results:
        raise ConfigError("no push targets configured", "set VERCEL_* and GITHUB_* (or `targets:` in invoke.yaml)")
    if not run.check:  # what each target holds right after this push, for the recap's read-back
        from ..targets import configured
        from ..targets.holding import look

        run.facts["pushed"] = look(configured(run.settings))
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


def _production_left_out(run: Run) -> StepResult | None:
    if run.facts.get("production_selected", True):
        return None
    return StepResult("skipped", "no target production reads was chosen (--only/--skip-target)")


def deploy(run: Run) -> StepResult:
    from ..services.redeploy import redeploy
    from ..services.production import check_production

    if (left_out := _production_left_out(run)) is not None:
        return left_out

    if not pending(run) and run.settings.production_url:
        value = pushed(run).app
        health = check_production(run.settings, value)
        auth = health.auth or {}
        if health.ok and auth.get("expiresAt") == sessions.iso(value.expires_at) \
                and auth.get("cookiesCount") == len(value.cookies):
            return StepResult("ok", "production already serves this session")
    from .platforms import chosen_platforms, redeploy as redeploy_all

    platforms = chosen_platforms(chosen_targets(run))
    if platforms.coolify:  # production on Coolify (with or without Vercel): each application, then Vercel's
        done = redeploy_all(run.settings, platforms, console=run.console, check=run.check)
        if run.check:
            return StepResult("would", f"would redeploy production on {', '.join(platforms.names())}")
        run.facts["deployment"] = done[0]
        return StepResult("changed", "; ".join(f"deployment {d.id} ({d.url}) is {d.state}" for d in done))
    deployment = redeploy(run.settings, console=run.console, wait=True, check=run.check)
    if run.check:
        return StepResult("would", f"would redeploy production ({deployment.id})")
    run.facts["deployment"] = deployment
    return StepResult("changed", f"deployment {deployment.id} is {deployment.state}")


def verify(run: Run) -> StepResult:
    from ..services.production import check_production, wait_healthy

    if (left_out := _production_left_out(run)) is not None:
        return left_out
    if not run.settings.production_url:
        raise ConfigError("PRODUCTION_URL not set: cannot verify production", "set it in the environment or .env")
    if run.check:
        health = check_production(run.settings, run.session)
        now = "production is healthy" if health.ok else "; ".join(health.problems)
        return StepResult("would", f"would check production (now: {now})")
    # as `inv deploy` does: right after a redeploy the app may answer from the old one for a moment
    health = wait_healthy(run.settings, pushed(run).app, window=run.settings.verify_window,
                          on_retry=lambda h: run.console.line(f"… not yet: {h.problems[0]}; retrying"))
    if not health.ok:
        raise ServiceError(f"production check failed: {'; '.join(health.problems)}",
                           "see runbooks/troubleshooting.md (verify failing)")
    run.facts["verified_after"] = run.elapsed
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

"""The tail both plans share: validate the value to push, export it, push it, redeploy
production, verify it. In check mode after a renewal that was only described, each step says
what it would do with the new session.
"""

from __future__ import annotations

from concurrent.futures import Future
from typing import TypeVar

from ..core import session as sessions
from ..core.errors import ConfigError, ServiceError
from ..core.times import iso, minutes_until, relative
from .engine import Run, StepResult
from .holdings import chosen_targets, push_guarded, read_ahead
from .value import prepared, pushed

T = TypeVar("T")


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
                            f"{relative(minutes_until(value.app.expires_at))}")


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
                            f"gate) {iso(value.app.expires_at)}, {relative(minutes_until(value.app.expires_at))}")


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

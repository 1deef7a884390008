"""The session's own tasks: auth, export, validate, extend, status.

Heavy imports (playwright, httpx, rich) happen inside the task bodies, so `inv --list` stays fast.
"""

from __future__ import annotations

from invoke import Context

from .base import READ_ONLY_CHECK, runbook_task, settings

__all__ = ["auth", "export", "validate", "extend", "status"]

SOURCE_HELP = {
    "file": "use this session file instead of MTN_SESSION_FILE (.cache/mtn-session.json)",
    "env": "use MTN_SESSION (base64) even when the session file exists",
}


def _when(moment) -> str:
    return moment.strftime("%Y-%m-%d %H:%M UTC")


def _left(moment) -> str:
    from ..core.times import minutes_until, relative

    return relative(minutes_until(moment))


@runbook_task(help={
    "headless": "run the browser without a window (only the sandbox's stand-in captcha can be solved so)",
    "timeout": "seconds to wait for you to solve the reCAPTCHA and submit (default 300)",
    "check": "say what would happen (browser, where the session is saved); open nothing, save nothing",
    "link": "headless browser on this machine, driven from any browser (a phone) through a one-time "
            "link printed here and sent to ALERT_WEBHOOK_URL; see runbooks/session-refresh.md",
})
def auth(c: Context, headless: bool = False, timeout: float = 300.0, check: bool = False, link: bool = False) -> None:
    """Log in to MTN in Chromium (you solve the reCAPTCHA) and save the captured session (0600)."""
    from urllib.parse import urlsplit

    from ..core import session as sessions
    from ..core.config import require
    from ..core.console import Console, protect
    from ..core.journal import Journal
    from ..mtn.sso import login_timeout

    s = settings(c)
    out = Console()
    timeout = login_timeout(timeout)
    path = s.session_file
    require(s, "MTN_USERNAME", "MTN_PASSWORD")  # before any browser or "opening" line
    if check:
        from ..mtn.browser import find_chromium

        browser = find_chromium(s, headless=headless or link) or "Playwright's own Chromium"
        served = ""
        if link:
            from ..mtn.link import check_address

            host, port = check_address(s)  # what the real run checks, without its port
            served = f", served through a one-time link on {host}:{port or '(a free port chosen at random)'}"
        out.step("would", "auth", f"would open {'headless ' if headless or link else ''}{browser}{served} at "
                                  f"{urlsplit(s.mtn_sso_login_url).hostname}, pre-fill MTN_USERNAME/MTN_PASSWORD, "
                                  f"wait up to {timeout:.0f}s for the reCAPTCHA, validate the new session, "
                                  f"save it to {path} (keeping {path.name}.prev)")
        return
    import contextlib

    from ..mtn.adopt import adopt

    from ..mtn.sso import login
    from ..runner.login_link import login_link

    with sessions.lock(path), login_link(s, out) if link else contextlib.nullcontext() as served:
        where = "headless, behind a one-time link" if link else "headless" if headless else ""
        out.line(f"Opening the MTN login in Chromium{f' ({where})' if where else ''}: "
                 "solve the reCAPTCHA; the form is filled in and submitted for you.")
        new = login(s, console=out, headless=headless, timeout=timeout, link=served)
        protect(*new.secrets())
        verdict = adopt(s, new, path)  # validated before it replaces the saved session
    Journal(s.journal_file).write("login", fingerprint=new.fingerprint, createdAt=new.extra.get("createdAt"),
                                  cookies=len(new.cookies))
    out.ok(f"logged in: session {new.short_id} ({len(new.cookies)} cookies) accepted by the MTN API "
           f"({verdict.api_status}), saved to {path} (0600)")
    out.line(f"  tracked expiry {_when(new.expires_at)} (60 min; MTN keeps sessions longer). "
             "Next: `inv push` (then `inv deploy`).")


@runbook_task(help={
    "stdout": "print only the base64 value on stdout (no newline); messages go to stderr",
    "output": "file to write (default session.txt; in a sandbox shell .cache/sandbox/session.txt), 0600, no newline",
    "check": "say what would be written, write nothing",
    **SOURCE_HELP,
})
def export(c: Context, stdout: bool = False, output: str | None = None, file: str | None = None, env: bool = False,
           check: bool = False) -> None:
    """Encode MTN_SESSION as production gets it (API host cookies, the app's gate) into session.txt (0600) or --stdout."""
    from pathlib import Path

    from ..core import session as sessions
    from ..core.console import Console
    from ..core.errors import ConfigError
    from ..core.pushed import prepare
    from ..mtn.source import open_session

    if stdout and output:
        raise ConfigError("--stdout and --output go separately", "use one of them")
    target = Path(output).expanduser() if output else None
    if output and target.is_dir():
        raise ConfigError(f"--output {output} is a directory", "give the path of a file to write")
    if output and not target.parent.is_dir():
        raise ConfigError(f"--output {output}: folder {target.parent} does not exist", "create it, or choose another path")
    s = settings(c)
    if target is None:  # a sandbox shell's export goes beside its session, never over a real session.txt
        from ..runner.rehearsal import in_sandbox_shell

        sandboxed = in_sandbox_shell()
        target = s.session_file.parent / "session.txt" if sandboxed else Path("session.txt")
        if sandboxed and not check:
            target.parent.mkdir(parents=True, exist_ok=True)
    out = Console(stderr=stdout)
    loaded = open_session(s, out, file=file, env=env, check=check)
    pushed = prepare(s, loaded.session)
    value = pushed.value
    where = "stdout" if stdout else f"{target} (0600)"
    gate = f"expiresAt (the app's gate) {_when(pushed.app.expires_at)}, {_left(pushed.app.expires_at)}"
    if check:
        out.step("would", "export", f"would write session {loaded.session.short_id} from {loaded.source} "
                                    f"({len(value)} characters) to {where}")
    else:
        if pushed.gate_moved and loaded.path:
            with sessions.lock(loaded.path):  # a later `inv push` of this session is then the same value
                sessions.save(loaded.path, pushed.session, keep_prev=False)
        if stdout:
            out.data(value)
        else:
            sessions.write_private(target, value)
        out.ok(f"exported session {loaded.session.short_id} from {loaded.source} to {where}: "
               f"{len(value)} characters, value fingerprint {pushed.fingerprint}")
    out.line(f"  {pushed.cookies_line()}")
    out.line(f"  {gate}: the app drops a session 5 min before its expiresAt, so this is set "
             f"MTN_GATE_HOURS ahead at push time (tracked expiry {_when(loaded.session.expires_at)})")


@runbook_task(help={
    "json": "print the verdict as JSON on stdout (valid, sessionId, trackedExpiry, "
            "minutesUntilTrackedExpiry, apiStatus, verdict, message)",
    "check": "ask the MTN API, but record nothing (no journal line, nothing in the lifespan ledger)",
    **SOURCE_HELP,
})
def validate(c: Context, env: bool = False, file: str | None = None, json: bool = False, check: bool = False) -> None:
    """Ask the MTN API whether it accepts the session. Exit 0 valid, 3 expired, 1 API error."""
    from invoke import Exit

    from ..core.console import Console
    from ..mtn.api import validate as check_session
    from ..mtn.source import open_session

    s = settings(c)
    out = Console(json_mode=json)
    loaded = open_session(s, out, file=file, env=env, check=check)
    verdict = check_session(s, loaded.session, source="MTN_SESSION" if loaded.path is None else "file",
                            record=not check)
    if json:
        out.json(verdict.to_json())
    left = verdict.minutes_left()
    if verdict.valid:
        out.ok(f"{verdict.state} — {verdict.message}")
    else:
        out.fail(f"{verdict.state} — {verdict.message}")
    out.line(f"  session {loaded.session.short_id} from {loaded.source}; tracked expiry "
             f"{_when(loaded.session.expires_at)}; API status {verdict.api_status or 'none'}")
    from ..lifespan.observe import observe_validation  # the verdict is out first; the ledger is bookkeeping

    known, ledger_problem = (False, "check mode (journal and ledger untouched)") if check else \
        observe_validation(s, loaded.session, verdict.state)
    if ledger_problem:
        out.line(f"  not recorded: {ledger_problem}")
    if verdict.state == "valid" and left < 60 and not known:
        # a fresh login's tracked expiry is login + 60 min, a guess: the API has just accepted the
        # session, so there is nothing to do (walked: it warned "`inv extend` or `inv refresh`")
        out.line("  the tracked expiry is only an estimate (60 min after login); the MTN API's answer is what "
                 "counts, and `inv status` shows how long sessions have lived")
    if verdict.state == "expired":
        out.line("  next: `inv recover` (or `inv auth`, then `inv push`)")
    if verdict.exit_code:
        raise Exit(code=verdict.exit_code)


@runbook_task(help={
    "hours": "move the tracked expiry this many hours from now (default 24); the app's gate moves "
             "MTN_GATE_HOURS (or this, if more) from now",
    "check": "validate and say what would change; save nothing",
    **SOURCE_HELP,
})
def extend(c: Context, hours: float = 24.0, check: bool = False, file: str | None = None, env: bool = False) -> None:
    """Guide's Method 3: while the API still accepts the session, move its tracked expiry and the app's gate forward."""
    from pathlib import Path

    from ..core import session as sessions
    from ..core.console import Console
    from ..core.pushed import extended, gate_hours
    from ..mtn.api import check_hours, extend as extend_session
    from ..mtn.source import open_session

    hours = float(hours)
    check_hours(hours)  # before the session is opened or locked: nothing written
    s = settings(c)
    out = Console()
    loaded = open_session(s, out, file=file, env=env, check=check)
    target = loaded.path or (Path(file) if file else s.session_file)
    old = loaded.session
    gate_hours(s)  # a bad MTN_GATE_HOURS: exit 2 before the API is called
    from datetime import timedelta

    from ..core.pushed import GATE_MINIMUM

    # walked: a gate still a day or more away (and past the new tracked expiry) is kept, as a push
    # keeps it; moving it by seconds made the next push change the value and ask for a redeploy
    renew = old.gate - sessions.now() < GATE_MINIMUM or old.gate < sessions.now() + timedelta(hours=hours)
    moves = (lambda new: f"tracked expiry {_when(old.expires_at)} → {_when(new.expires_at)}; the app's gate "
                         f"(expiresAt pushed) {_when(old.gate)} → {_when(new.gate)}")
    if check:
        extend_session(s, old, hours=hours, check=True)   # the API must accept it (exit 3 if not)
        new = extended(s, old, hours=hours, gate=renew)
        out.step("would", "extend", f"would move session {old.short_id}'s {moves(new)} and save it to {target}")
        return
    with sessions.lock(target):
        extend_session(s, old, hours=hours)
        new = extended(s, old, hours=hours, gate=renew)
        sessions.save(target, new)
    out.ok(f"extended session {old.short_id}: {moves(new)}; saved to {target}")
    if renew:
        why = "was under 24 h away" if old.gate - sessions.now() < GATE_MINIMUM else "moved past the new tracked expiry"
        out.line(f"  the gate production reads {why}: `inv push` (then `inv deploy`) so production gets it.")
    else:  # walked: right after a push it asked for a push and a redeploy for a 16-second move
        out.line(f"  the gate production reads ({_when(old.gate)}) is still more than 24 h away: kept, "
                 "nothing to push now.")


@runbook_task(read_only="status", help={"json": "print the status as JSON on stdout", "check": READ_ONLY_CHECK})
def status(c: Context, json: bool = False, check: bool = False) -> None:
    """Session age, tracked and predicted expiry, last validation, each target's last push (no service is called)."""
    from ..core.console import Console
    from ..core.times import relative
    from ..monitor.status import session_status

    s = settings(c)
    out = Console(json_mode=json)
    data = session_status(s)
    for warning in data["warnings"]:
        out.warn(warning)
    verdict = data["verdict"]
    if json:
        out.json(data)
        _status_exit(verdict)
        return
    out.line(f"{verdict['symbol']} {verdict['line']}", {"ok": "green", "warning": "yellow", "failed": "red"}[verdict["state"]])
    session = data["session"]
    if session is not None:  # without one, the headline said why
        age = f"{session['ageMinutes']:.0f} min old" if session["ageMinutes"] is not None else "age unknown"
        left = session["minutesUntilTrackedExpiry"]
        expiry = relative(left)
        out.line(f"Session {session['sessionId']} from {session['source']}: {age}, "
                 f"tracked expiry {session['trackedExpiry']} ({expiry})")
    last = data["lastValidation"]
    if last is None:
        out.line("Last validation: none recorded (`inv validate`)")
    else:
        which = "this session" if last["sameSession"] else \
            f"another session ({last.get('sessionId') or 'value fingerprint ' + str(last['fingerprint'])})"
        out.line(f"Last validation: {last['verdict']} (API {last['apiStatus']}) at {last['at']}, of {which}")
    out.line(f"Lifespans: {data['lifespan']['summary']}")
    out.line(f"Keepalive experiment: {data['experiment']['line']}")
    if not data["targets"]:
        out.line("Pushes: no target configured (`inv doctor`)")
    for push in data["targets"]:
        holds = "holds this session" if push["holdsCurrent"] else \
            f"holds another value (value fingerprint {push['fingerprint']})"
        if push["outcome"] == "failed":
            holds = "last push FAILED (still holds its previous value)"
        if push["outcome"] is None:
            out.line(f"Push {push['target']}: none recorded (`inv push`)")
        else:
            out.line(f"Push {push['target']}: {push['outcome']} at {push['at']}, {holds}")
    _status_exit(verdict)


def _status_exit(verdict: dict) -> None:
    if verdict["exitCode"]:
        from invoke import Exit

        raise Exit(code=verdict["exitCode"])

"""Every failure the runbook can report, and the exit code each one ends with.

    RunbookError                 1  a step failed at an external service (the default)
    ├── ServiceError             1  an API answered with an error, or did not answer
    ├── ConfigError              2  bad input or configuration (a flag, a variable, a file)
    │   └── SessionFormatError   2  a session that does not decode (base64 / JSON / fields)
    ├── SessionExpired           3  the MTN API no longer accepts the session
    ├── LoginTimeout             4  the person did not finish the login in time
    ├── LockHeld                 5  another run holds the session lock
    └── Interrupted            130  Ctrl-C

Each error carries the one line the user sees (`str(error)`) and a `hint`: what to do next.
Messages never contain a secret: build them from names and statuses, not values.
`ExitCode` is the only place an exit number is written (tests/test_exit_codes.py looks for others).
"""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    """The exit codes of every task, as the README lists them."""
    DONE = 0
    SERVICE_FAILED = 1        # an external service failed (the default for an error)
    BAD_INPUT = 2             # bad input or configuration
    SESSION_INVALID = 3       # the session is invalid or expired
    LOGIN_TIMEOUT = 4         # the login was not finished in time
    LOCK_HELD = 5             # another run holds the lock
    INTERRUPTED = 130         # Ctrl-C


class RunbookError(Exception):
    exit_code = ExitCode.SERVICE_FAILED
    default_hint = ""
    status: int | None = None    # the HTTP status behind it, when a service answered

    def __init__(self, message: str, hint: str | None = None):
        super().__init__(message)
        self.message = message
        self.hint = self.default_hint if hint is None else hint

    def line(self) -> str:
        """The single line printed for this error: what failed, then what to do."""
        return f"{self.message} — {self.hint}" if self.hint else self.message


class ServiceError(RunbookError):
    exit_code = ExitCode.SERVICE_FAILED


class ConfigError(RunbookError):
    exit_code = ExitCode.BAD_INPUT


class NoDisplay(ConfigError):
    """A headed browser without a display: the run's next command adds -H (sandbox) or --link."""


class SessionFormatError(ConfigError):
    default_hint = "run `inv auth` for a new session, or `inv export` to re-encode the saved one"


class SessionExpired(RunbookError):
    exit_code = ExitCode.SESSION_INVALID
    default_hint = "run `inv recover` (or `inv auth`) to log in again"


class LoginTimeout(RunbookError):
    exit_code = ExitCode.LOGIN_TIMEOUT
    default_hint = (
        "solve the reCAPTCHA and submit within the timeout (`--timeout` to allow longer); "
        "if it keeps failing, check that the SSO login page loads (in the window, or through the link) "
        "and that MTN_USERNAME/MTN_PASSWORD are right"
    )


class LockHeld(RunbookError):
    exit_code = ExitCode.LOCK_HELD
    default_hint = "another run is using this session file; wait for it to finish"


class Interrupted(RunbookError):
    exit_code = ExitCode.INTERRUPTED
    default_hint = "nothing was left half-written; `inv recover --resume` continues"

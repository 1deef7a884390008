"""The incident path and the proactive refresh, as plans of runbook steps.

recover: validate → renew (extend, or log in) → validate new → export → push → deploy → verify
refresh: login (always) → validate new → export → push → deploy → verify

What is pushed is not the session file but core/pushed.py's value: the MTN API host's cookies only,
and `expiresAt` = the app's gate (at least 24 h ahead), so production never drops a session MTN
still accepts. "Extend" therefore means two things here: the tracked expiry once it has passed,
and the gate once it is under 24 h away (the app's own rule closes it 5 minutes before).

The steps live by role: renewal.py (validate, renew, login), delivery.py (validate-new, export,
push, deploy, verify) and value.py (the session in hand and the value pushed).
"""

from __future__ import annotations

from typing import Sequence

from .delivery import deploy, export, push, validate_new, verify
from .engine import Step
from .renewal import check_current, login, renew

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

"""A new login's session replaces the saved one only once the MTN API has accepted it.

A login can end with a session that does not work (a ticket MTN never redeemed, a cookie the
API no longer takes). Saved over the saved session, it moved a good session to `.prev` and left a
dead one in place, which `refresh` then pushed nowhere but kept. So the new session is validated
first. One the API does not accept is set aside beside the session file, as `<file>.rejected`
(the API refused it) or `<file>.unverified` (the API could not be asked), and the error names
both files and says which session validates. The saved session is left exactly as it was.
"""

from __future__ import annotations

import json
from pathlib import Path

from ..core.config import Settings
from ..core.errors import ServiceError
from ..core.session import Session, load, save, write_private
from .api import Verdict, validate


def adopt(settings: Settings, new: Session, path: Path, *, saved: Verdict | None = None) -> Verdict:
    """Validate `new`; save it to `path` (the replaced one kept as `.prev`) when the API accepts it.
    Otherwise set it aside and raise ServiceError naming both files. `saved`: the saved session's
    verdict when the caller already has it (else it is checked here, only on failure)."""
    verdict = validate(settings, new, source="new login")
    if verdict.valid:
        save(path, new)
        return verdict
    aside = aside_path(path, verdict)
    write_private(aside, json.dumps(new.to_dict(), indent=2, ensure_ascii=False) + "\n")
    why = "the MTN API did not accept it" if verdict.state == "expired" else "the MTN API could not check it"
    raise ServiceError(f"the new login's session {new.short_id} was not saved: {why} ({verdict.message}); "
                       f"it is set aside as {aside}; {_describe_saved(settings, path, saved)}",
                       "run the login again" if verdict.state == "expired" else
                       f"when `inv validate --file {aside}` says valid, move it to {path}")


def aside_path(path: Path, verdict: Verdict) -> Path:
    return path.with_name(path.name + (".rejected" if verdict.state == "expired" else ".unverified"))


def _describe_saved(settings: Settings, path: Path, saved: Verdict | None) -> str:
    if saved is None:
        try:
            session, _ = load(path)
        except Exception:  # missing or unreadable: there is nothing worth keeping there
            return f"nothing usable is saved at {path}"
        saved = validate(settings, session, source="saved, after a failed login")
    state = ("still validates" if saved.valid else
             "does not validate either" if saved.state == "expired" else "could not be checked either")
    return f"the saved session {saved.session.short_id} at {path} is unchanged and {state}"

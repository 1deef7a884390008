"""MTN_SESSION as a Coolify application's environment variable, through Coolify's API (v1).

Edited in place, never deleted: an existing production variable gets `PATCH
/applications/{uuid}/envs` by key, carrying the flags it has (`is_literal`, `is_multiline`,
`is_shown_once`: Coolify resets any that a PATCH leaves out; `is_runtime`/`is_buildtime` are kept
when left out, so they are not sent). A missing one is created with `POST` (runtime only,
literal). The preview copy Coolify keeps beside it is left as it is. Read back with `GET
/applications/{uuid}/envs`: the value where the token may read it (`read:sensitive`) and the
variable is not `is_shown_once`, else its `updated_at`.

The container reads the environment it was started with: a push is live only after a
deployment (`coolify_deploy.py`, run by `inv deploy` and recover's deploy step).
"""

from __future__ import annotations

from typing import Any

from ..core import apis
from ..core.config import Settings
from ..core.errors import ConfigError, ServiceError
from ..core.http import Api, api_message, json_body
from .entry import Entry
from .http_target import HttpTarget, read_found
from .target import Current

FLAGS = ("is_literal", "is_multiline", "is_shown_once")        # reset by a PATCH that leaves them out
KEPT = ("is_runtime", "is_buildtime")                         # kept by a PATCH that leaves them out
APP_HINT = "check COOLIFY_APP_UUID (or the entry's `application`): the application's UUID, as its URL in Coolify shows"
NEW = {"is_preview": False, "is_literal": True, "is_multiline": False, "is_shown_once": False,
       "is_runtime": True, "is_buildtime": False}


def flags_line(var: dict) -> str:
    """The variable's flags in words: "literal, runtime" ."""
    words = {"is_literal": "literal", "is_multiline": "multiline", "is_shown_once": "shown once",
             "is_runtime": "runtime", "is_buildtime": "build-time"}
    return ", ".join(w for k, w in words.items() if var.get(k)) or "no flags"


def validation_error(name: str, what: str, response: Any) -> ConfigError:
    """Coolify's 422: "Validation failed." with messages per field, in one line."""
    body = json_body(response) or {}
    errors = body.get("errors") if isinstance(body, dict) else None
    fields = "; ".join(f"{k}: {' '.join(v) if isinstance(v, list) else v}" for k, v in (errors or {}).items())
    return ConfigError(f"{name}: {what} answered 422 {api_message(response)}" + (f" ({fields})" if fields else ""),
                       "fix the variable's key in invoke.yaml (letters, digits, _ and .; not starting with a digit)")


class CoolifyTarget(HttpTarget):
    kind = "coolify"
    look_in_check = True

    def __init__(self, settings: Settings, *, application: str, key: str = "MTN_SESSION", name: str = ""):
        self.settings, self.application, self.key = settings, application, key
        self.name = name or f"coolify {application}"

    @classmethod
    def from_entry(cls, settings: Settings, entry: Entry) -> "CoolifyTarget":
        raw = entry.raw
        application = entry.field_or("application", settings, "COOLIFY_APP_UUID")
        return cls(settings, application=application, key=str(raw.get("key") or "MTN_SESSION"),
                   name=str(raw.get("name") or ""))

    def describe(self) -> str:
        return f"set {self.key} of Coolify application {self.application}"

    # -- the API ---------------------------------------------------------------------------
    def open_api(self) -> Api:
        return apis.coolify(self.settings, name=self.name)

    @property
    def path(self) -> str:
        return f"/applications/{self.application}"

    def get(self, path: str) -> Any:
        """GET, with a 404 named as the application's (Coolify: "Application not found")."""
        return read_found(self.api, self.name, path, APP_HINT)

    def variable(self) -> dict | None:
        """The production variable (not its preview copy), as GET .../envs lists it."""
        envs = self.get(f"{self.path}/envs")
        found = [e for e in envs if isinstance(e, dict) and e.get("key") == self.key and not e.get("is_preview")]
        return found[0] if found else None

    @staticmethod
    def readable(var: dict) -> str | None:
        """The stored value where Coolify shows it: not for `is_shown_once`, nor to a token
        without read:sensitive (the field is then absent)."""
        if var.get("is_shown_once") or "value" not in var:
            return None
        return var.get("value") or ""

    @staticmethod
    def unreadable_why(var: dict) -> str:
        return "is_shown_once" if var.get("is_shown_once") else "the token lacks read:sensitive"

    def preflight(self) -> str:
        try:
            app = self.get(self.path)
            var = self.variable()
        finally:
            self.close()
        what = f"application {app.get('name') or self.application}" + (f" ({app['status']})" if app.get("status") else "")
        if var is None:
            return f"{what} reachable; {self.key}: not set yet (a push creates it)"
        readable = "value readable" if self.readable(var) is not None else \
            f"value not readable ({self.unreadable_why(var)}): compared by updated_at"
        return f"{what} reachable; {self.key}: {flags_line(var)}; {readable}"

    def holding(self) -> "Holding":
        from ..core.session import fingerprint
        from .holding import Holding

        var = self.variable()
        if var is None:
            return Holding(stamp="absent")
        value = self.readable(var)
        return Holding(stamp=f"{var.get('uuid')}@{var.get('updated_at')}",
                       fingerprint=fingerprint(value) if value else None, updated=var.get("updated_at"))

    # -- look, act, look again -------------------------------------------------------------
    def read(self, value: str) -> Current:
        var = self.variable()
        if var is None:
            return Current(False, f"create {self.key} (literal, runtime) in Coolify application {self.application}",
                           {"var": None})
        stored = self.readable(var)
        holds = None if stored is None else stored == value
        return Current(holds, f"update {self.key} in place ({flags_line(var)}) in Coolify application "
                              f"{self.application}", {"var": var})

    def put(self, value: str, current: Current) -> None:
        var = current.state["var"]
        if var is None:
            response = self.api.post(f"{self.path}/envs", expect=(201, 409, 422),
                                     json={"key": self.key, "value": value, **NEW})
            if response.status_code == 409:   # created meanwhile: never a second one, update it instead
                var = self.variable()
                if var is None:
                    raise ServiceError(f"{self.name}: POST {self.path}/envs answered 409 but {self.key} is not listed",
                                       "retry; if it persists, check the application's variables in Coolify")
                current.state["var"] = var
            elif response.status_code == 422:
                raise validation_error(self.name, f"POST {self.path}/envs", response)
            else:
                return
        body = {"key": self.key, "value": value, "is_preview": False, **{f: bool(var.get(f)) for f in FLAGS}}
        response = self.api.patch(f"{self.path}/envs", json=body, expect=(201, 404, 422), idempotent=True)
        if response.status_code == 422:
            raise validation_error(self.name, f"PATCH {self.path}/envs", response)
        if response.status_code == 404:
            message = api_message(response)
            line = f"{self.name}: PATCH {self.path}/envs answered 404 {message}".rstrip()
            if "application" in message.lower():
                raise ConfigError(line, APP_HINT)
            raise ServiceError(line, f"{self.key} was deleted meanwhile; push again (it is then created)")

    def verify(self, value: str, current: Current) -> str:
        before = current.state["var"]
        after = self.variable()
        if after is None:
            raise ServiceError(f"{self.name}: {self.key} is not listed after the update",
                               "retry; if it persists, check the application's variables in Coolify")
        if before is not None:
            lost = [f for f in FLAGS + KEPT if bool(after.get(f)) != bool(before.get(f))]
            if lost:
                raise ServiceError(f"{self.name}: {self.key}'s flags changed in the update ({', '.join(lost)})",
                                   "set them back in Coolify; report this as a bug")
        stored = self.readable(after)
        if stored is None:
            if before is not None and after.get("updated_at") == before.get("updated_at"):
                raise ServiceError(f"{self.name}: {self.key} reports no change after the update",
                                   "retry; if it persists, check the application's variables in Coolify")
            how = f"stored, updated_at moved (value not readable: {self.unreadable_why(after)})"
        elif stored != value:
            raise ServiceError(f"{self.name}: {self.key} reads back a different value after the update",
                               "retry; another process may be writing it at the same time")
        else:
            how = "stored and read back"
        return f"{how}; {flags_line(after)} kept; live after `inv deploy`"

    def activate(self) -> str:
        return ""  # the container reads its environment when it starts: a deployment (inv deploy)

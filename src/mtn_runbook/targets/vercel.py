"""MTN_SESSION as a Vercel project environment variable, through the REST API.

Upsert, never delete-then-add: an existing variable is edited in place (PATCH, no `key`, so a
`sensitive` one stays sensitive); environments no variable covers get a new one (POST
?upsert=true, `encrypted` unless configured). Read back with GET .../env/{id}: the value where
Vercel returns it, else `updatedAt`.

Requests per run: the first look (`holding`) lists the project's env vars and GETs each one that
covers a configured environment (the list has no plaintext); the push's read lists them again
(the two-operator guard: has an id or `updatedAt` moved since the look?) and reuses the values
the look fetched for every variable that has not moved; then one PATCH per variable, and one GET
per variable to read it back.
"""

from __future__ import annotations

from typing import Any

from ..core import apis
from ..core.config import Settings
from ..core.errors import ConfigError, ServiceError
from ..core.http import Api
from .entry import Entry
from .http_target import HttpTarget, read_found
from .target import Current

TYPES = ("encrypted", "sensitive", "plain")
STANDARD_ENVIRONMENTS = ("production", "preview", "development")   # any other is a custom environment
PROJECT_HINT = ("check VERCEL_PROJECT_ID (or the entry's `project`) and VERCEL_TEAM_ID: "
                "a team's project is only found with its team id")


def _iso_ms(ms: Any) -> str | None:
    from datetime import datetime, timezone

    from ..core.session import iso

    try:
        return iso(datetime.fromtimestamp(float(ms) / 1000, timezone.utc))
    except (TypeError, ValueError, OverflowError, OSError):
        return None


def _targets(var: dict) -> list[str]:
    target = var.get("target") or []
    return [target] if isinstance(target, str) else list(target)


class VercelTarget(HttpTarget):
    kind = "vercel"
    look_in_check = True

    def __init__(self, settings: Settings, *, project: str, team: str = "",
                 environments: tuple[str, ...] = ("production",), type: str = "encrypted",
                 key: str = "MTN_SESSION", name: str = ""):
        self.settings, self.project, self.team = settings, project, team
        self.environments = tuple(dict.fromkeys(environments))
        self.type, self.key = type, key
        self.name = name or f"vercel {project} ({', '.join(self.environments)})"
        self._fetched: dict[str, dict] = {}  # env id -> its GET body, kept while its updatedAt holds
        self._environments_checked = False

    @classmethod
    def from_entry(cls, settings: Settings, entry: Entry) -> "VercelTarget":
        raw = entry.raw
        project = entry.field_or("project", settings, "VERCEL_PROJECT_ID")
        type_ = raw.get("type", "encrypted")
        if type_ not in TYPES:
            raise entry.error(f"type {type_!r} is not one of {', '.join(TYPES)}")
        environments = tuple(raw.get("environments") or ("production",))
        if type_ == "sensitive" and "development" in environments:
            raise entry.error("Vercel does not allow sensitive variables for development")
        return cls(settings, project=project, team=str(raw.get("team") or settings.vercel_team_id),
                   environments=environments, type=type_, key=str(raw.get("key") or "MTN_SESSION"),
                   name=str(raw.get("name") or ""))

    def describe(self) -> str:
        return f"set {self.key} in Vercel project {self.project} for {', '.join(self.environments)}"

    def preflight(self) -> str:
        try:
            self.check_config()
            found = self._list()
        finally:
            self.close()
        where = "; ".join(f"{v.get('type')} for {', '.join(_targets(v))}" for v in found) or "not set yet"
        return f"project reachable; {self.key}: {where}"

    # -- the API ---------------------------------------------------------------------------
    def open_api(self) -> Api:
        return apis.vercel(self.settings, name=self.name, team=self.team)

    def _path(self, suffix: str, version: str) -> str:
        return f"/{version}/projects/{self.project}{suffix}"

    def _get(self, path: str) -> Any:
        return read_found(self.api, self.name, path, PROJECT_HINT)

    def _list(self) -> list[dict]:
        body = self._get(self._path("/env", "v10"))
        envs = body.get("envs", []) if isinstance(body, dict) else body
        # branch-specific preview vars (gitBranch) are someone else's override: leave them be
        return [e for e in envs if e.get("key") == self.key and not e.get("gitBranch")]

    def _one(self, env_id: str) -> dict:
        found = self._get(self._path(f"/env/{env_id}", "v1"))
        self._fetched[env_id] = found
        return found

    def _known(self, var: dict) -> dict:
        """The var's GET body: the one fetched this run while its `updatedAt` has not moved (the
        list gives no plaintext), else fetched now."""
        seen = self._fetched.get(var["id"])
        if seen is not None and seen.get("updatedAt") == var.get("updatedAt"):
            return seen
        return self._one(var["id"])

    @staticmethod
    def _readable(var: dict) -> str | None:
        """The plaintext, where Vercel gives it back (never for sensitive vars)."""
        if var.get("type") == "sensitive" or "value" not in var:
            return None
        if var.get("type") == "plain" or var.get("decrypted") is True:
            return var["value"]
        return None

    def holding(self) -> "Holding":
        """What the variables covering the configured environments hold now (targets/holding.py)."""
        wanted = set(self.environments)
        # a GET per var: the list has no plaintext. Kept for the push's read (`_known`)
        return self._holding([self._one(v["id"]) for v in self._list() if set(_targets(v)) & wanted])

    def _holding(self, found: list[dict]) -> "Holding":
        from ..core.session import fingerprint
        from .holding import Holding

        if not found:
            return Holding(stamp="absent")
        values = {self._readable(v) for v in found}
        readable = None if None in values or len(values) != 1 else values.pop()
        updated = max((v.get("updatedAt") or 0 for v in found), default=0)
        return Holding(stamp=";".join(sorted(f"{v.get('id')}@{v.get('updatedAt')}" for v in found)),
                       fingerprint=fingerprint(readable) if readable else None,
                       updated=_iso_ms(updated) if updated else None)

    # -- look, act, look again -------------------------------------------------------------
    def check_config(self) -> None:
        """Every configured environment is production, preview, development or one of the
        project's custom environments (asked once, and only when a name is not one of the three)."""
        unknown = [e for e in self.environments if e not in STANDARD_ENVIRONMENTS]
        if not unknown or self._environments_checked:
            return
        body = self._get(self._path("/custom-environments", "v9"))
        found = body.get("environments") if isinstance(body, dict) else None
        custom = [str(c.get("slug")) for c in found or [] if isinstance(c, dict) and c.get("slug")]
        missing = [e for e in unknown if e not in custom]
        if missing:
            raise ConfigError(f"{self.name}: environment {missing[0]!r} does not exist in project {self.project} "
                              f"(it has: {', '.join([*STANDARD_ENVIRONMENTS, *custom])})",
                              "fix `environments` of this target in invoke.yaml")
        self._environments_checked = True

    def read(self, value: str) -> Current:
        self.check_config()
        wanted = set(self.environments)
        # Edit every existing var that covers a configured environment, for all the environments
        # it has. When a var targets ["production", "preview"] and only production is configured,
        # editing it in place also gives preview the new value. The alternative (`vercel env rm X
        # production` + add) leaves production without the var for a moment, flips its type, and
        # leaves preview silently on the old, dead session. One var, one value is the safe choice.
        # the list: the guard's read (ids and updatedAt) and the plan's (which vars to edit)
        edits = [v for v in self._list() if set(_targets(v)) & wanted]
        covered = {t for v in edits for t in _targets(v)}
        missing = sorted(wanted - covered, key=self.environments.index)
        if missing and self.type == "sensitive" and "development" in missing:
            raise ConfigError(f"{self.name}: Vercel does not allow sensitive variables for development",
                              "drop development from the entry's environments, or use type encrypted")
        before = {v["id"]: self._known(v) for v in edits}  # no request for a var the look fetched
        stored = [self._readable(before[v["id"]]) for v in edits]
        if missing or any(s is not None and s != value for s in stored):
            holds: bool | None = False
        elif any(s is None for s in stored):
            holds = None  # sensitive: cannot be read back, so push again
        else:
            holds = True
        plan = []
        for v in edits:
            extra = sorted(set(_targets(v)) - wanted)
            also = f"; {', '.join(extra)} too: same variable" if extra else ""
            plan.append(f"update {self.key} in place ({v.get('type')}, {', '.join(_targets(v))}{also})")
        if missing:
            plan.append(f"create {self.key} ({self.type}) for {', '.join(missing)}")
        return Current(holds, "; ".join(plan), {"edits": edits, "missing": missing, "before": before},
                       before=self._holding(list(before.values())))

    def put(self, value: str, current: Current) -> None:
        # In place first, create after: nothing is ever deleted, so production always has the var.
        for var in current.state["edits"]:
            # no `key`, no `type`: Vercel rejects `key` for sensitive vars, and the type stays
            self.api.patch(self._path(f"/env/{var['id']}", "v9"), json={"value": value}, idempotent=True)
        missing = current.state["missing"]
        current.state["created"] = []
        if missing:
            response = self.api.post(self._path("/env", "v10"), params={"upsert": "true"}, idempotent=True,
                                     expect=(200, 201, 400),
                                     json={"key": self.key, "value": value, "type": self.type, "target": missing})
            body = response.json()
            # a 201 can still carry failures; when every item failed, Vercel answers 400 with one error
            failed = [body] if response.status_code == 400 else body.get("failed") or []
            if failed:
                err = failed[0].get("error", failed[0]) if isinstance(failed[0], dict) else {}
                raise ServiceError(
                    f"{self.name}: Vercel did not create {self.key} for {', '.join(missing)}: "
                    f"{err.get('message', 'failed')} ({err.get('code', '?')})",
                    "read the message above; fix the variable in the Vercel dashboard if it conflicts")
            created = body.get("created") or []
            current.state["created"] = [c["id"] for c in (created if isinstance(created, list) else [created])
                                        if isinstance(c, dict) and c.get("id")]

    def verify(self, value: str, current: Current) -> str:
        covered: set[str] = set()
        unread = []
        ids = [v["id"] for v in current.state["edits"]] + current.state["created"]
        read = [self._one(env_id) for env_id in ids]  # the read-back: one GET per var written
        current.after = self._holding(read)
        for after in read:
            env_id = after.get("id")
            covered |= set(_targets(after))
            stored = self._readable(after)
            if stored is None:
                old = current.state["before"].get(env_id)
                if old is not None and after.get("updatedAt") == old.get("updatedAt"):
                    raise ServiceError(f"{self.name}: {self.key} ({after.get('type')}) reports no change "
                                       "after the update", "retry; if it persists, check the Vercel dashboard")
                unread.append(after.get("type", "?"))
            elif stored != value:
                raise ServiceError(f"{self.name}: {self.key} reads back a different value after the update",
                                   "retry; another process may be writing it at the same time")
        lacking = set(self.environments) - covered
        if lacking:
            raise ServiceError(f"{self.name}: {self.key} is still missing for {', '.join(sorted(lacking))}",
                               "retry; if it persists, check the Vercel dashboard")
        how = f"stored, updatedAt moved ({', '.join(unread)}: value not readable)" if unread else "stored and read back"
        return f"{how} for {', '.join(sorted(covered))}; live after `inv deploy`"

    def activate(self) -> str:
        return ""  # env changes reach the app only through a new deployment (inv deploy)

"""The Coolify stand-in's state: one application's environment variables and deployments, and
the checks Coolify's API applies to an env body (coolify.py serves them over HTTP).

Followed: coollabsio/coolify 4.3.11 (commit 379abb25), ApplicationsController's envs,
create_env and update_env_by_uuid, DeployController, bootstrap/helpers/applications.php
(queue_application_deployment) and the EnvironmentVariable model. Rules kept here:
  - creating a production variable also creates its preview copy (the model's `created` hook);
  - a PATCH sets `is_literal`, `is_multiline`, `is_shown_once` from the body, false when left out;
    `is_runtime`, `is_buildtime`, `comment` only when present;
  - Laravel's TrimStrings and ConvertEmptyStringsToNull: values are trimmed, "" becomes null;
  - a deployment is queued, then in_progress (the container's environment is written then:
    the runtime production variables), then finished or failed (options.coolify_deploy_state at
    creation); the running container is the newest finished deployment's; a failed one leaves it.
"""

from __future__ import annotations

import re
import secrets
import string
import threading
import time
from datetime import datetime, timezone
from typing import Any

from ..core.session import fingerprint
from .deployment_phase import phase
from .vercel_state import encode_session, old_session

KEY_RE = re.compile(r"\A[A-Za-z_][A-Za-z0-9_.]*\Z")
ALLOWED = ("key", "value", "is_preview", "is_literal", "is_multiline", "is_shown_once", "is_runtime",
           "is_buildtime", "comment")
BOOLEANS = ("is_preview", "is_literal", "is_multiline", "is_shown_once", "is_runtime", "is_buildtime")
WATCHED = "MTN_SESSION"
VERSION = "4.3.11"


def new_uuid() -> str:
    """Coolify's public ids: 24 lower-case letters and digits (cuid2-like)."""
    return "".join(secrets.choice(string.ascii_lowercase + string.digits) for _ in range(24))


def _iso(t: float | None = None) -> str:
    return datetime.fromtimestamp(time.time() if t is None else t, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def middleware(body: dict) -> dict:
    """TrimStrings + ConvertEmptyStringsToNull, as Laravel applies them to every request."""
    out = {}
    for k, v in body.items():
        if isinstance(v, str):
            v = v.strip() or None
        out[k] = v
    return out


def _boolean(v: Any) -> bool:
    return v in (True, False, 0, 1, "0", "1")


def truth(v: Any) -> bool:
    """A value Laravel's `boolean` rule accepted, as the model's cast stores it."""
    return v is True or v == 1 or v == "1"


def validate(body: dict) -> dict[str, list[str]]:
    """Laravel's validator with the controller's rules; unknown fields: "This field is not allowed."."""
    errors: dict[str, list[str]] = {}

    def add(field: str, message: str) -> None:
        errors.setdefault(field, []).append(message)

    key = body.get("key")
    if key is None:
        add("key", "The key field is required.")
    elif not isinstance(key, str):
        add("key", "The key field must be a string.")
    else:
        if len(key) > 255:
            add("key", "The key may not be greater than 255 characters.")
        if not KEY_RE.match(key):
            add("key", "The key must start with a letter or underscore and may only contain letters, numbers, "
                       "underscores, and dots.")
    if body.get("value") is not None and not isinstance(body["value"], str):
        add("value", "The value field must be a string.")
    for name in BOOLEANS:
        if name in body and body[name] is not None and not _boolean(body[name]):
            add(name, f"The {name} field must be true or false.")
    comment = body.get("comment")
    if comment is not None and (not isinstance(comment, str) or len(comment) > 256):
        add("comment", "The comment field must be a string of at most 256 characters.")
    for name in body:
        if name not in ALLOWED:
            add(name, "This field is not allowed.")
    return errors


class CoolifyState:
    def __init__(self, sb: Any):
        self.sb = sb
        self._lock = threading.Lock()
        self.app = {"uuid": sb.options.coolify_app_uuid, "name": "mtn-app", "status": "running:healthy",
                    "build_pack": "nixpacks", "fqdn": sb.urls["app"]}
        self.seed_session = old_session()
        self.seed_value = encode_session(self.seed_session)
        self._envs: list[dict] = []
        now = time.time()
        self._create({"key": WATCHED, "value": self.seed_value, "is_literal": True, "is_buildtime": False},
                     now - 86400)
        self._create({"key": "NODE_ENV", "value": "production"}, now - 86400)
        seed = self._deployment(now - 3600, 0.0, "finished")
        seed["env"] = self._runtime_env()
        self._deployments = [seed]
        self._recreated: tuple[float, dict] | None = None

    # -- records ------------------------------------------------------------------------
    def _record(self, body: dict, at: float, is_preview: bool) -> dict:
        return {"uuid": new_uuid(), "key": body["key"], "value": body.get("value"), "is_preview": is_preview,
                "is_literal": truth(body.get("is_literal")), "is_multiline": truth(body.get("is_multiline")),
                "is_shown_once": truth(body.get("is_shown_once")),
                "is_runtime": truth(body.get("is_runtime", True)), "is_buildtime": truth(body.get("is_buildtime", True)),
                "comment": body.get("comment"), "version": VERSION, "created_at": _iso(at), "updated_at": _iso(at)}

    def _create(self, body: dict, at: float | None = None) -> dict:
        """create_env: the variable, and for a production one its preview copy (is_shown_once not copied)."""
        at = time.time() if at is None else at
        preview = truth(body.get("is_preview"))
        rec = self._record(body, at, preview)
        self._envs.append(rec)
        self._changed("create", rec)
        if not preview and self._find(rec["key"], True) is None:
            copy = self._record({**body, "is_shown_once": False, "is_runtime": rec["is_runtime"],
                                 "is_buildtime": rec["is_buildtime"]}, at, True)
            self._envs.append(copy)
            self._changed("create", copy)
        return rec

    def _find(self, key: str, preview: bool) -> dict | None:
        return next((e for e in self._envs if e["key"] == key and e["is_preview"] == preview), None)

    def _runtime_env(self) -> dict:
        return {e["key"]: e["value"] or "" for e in self._envs if not e["is_preview"] and e["is_runtime"]}

    def _changed(self, action: str, rec: dict) -> None:
        self.sb.history.add("coolify", "env.change", action=action, key=rec["key"], uuid=rec["uuid"],
                            is_preview=rec["is_preview"], fingerprint=fingerprint(rec["value"] or ""),
                            flags={k: rec[k] for k in BOOLEANS if k != "is_preview"})

    def env_json(self, rec: dict, can_read_sensitive: bool) -> dict:
        out = {k: v for k, v in rec.items() if k != "value"}
        out.update(is_shared=False, is_really_required=False, is_buildpack_control=False, is_coolify=False)
        if can_read_sensitive and not rec["is_shown_once"]:
            out["value"] = out["real_value"] = rec["value"]
        return out

    # -- deployments --------------------------------------------------------------------
    def _deployment(self, created: float, duration: float, final: str) -> dict:
        return {"deployment_uuid": new_uuid(), "created": created, "duration": duration, "final": final,
                "env": None, "commit": "HEAD", "seen": "queued"}

    @staticmethod
    def _status(dep: dict, now: float) -> str:
        return phase(dep, now, "queued", "in_progress")

    def advance(self, now: float | None = None) -> None:
        """Every deployment past its start gets the environment of that moment (caller holds
        the lock; called before every change, so no change made after a start reaches it)."""
        now = time.time() if now is None else now
        for dep in self._deployments:
            status = self._status(dep, now)
            if dep["env"] is None and status != "queued":
                dep["env"] = self._runtime_env()
            if status != dep["seen"]:
                self.sb.history.add("coolify", "deployment.state", deployment=dep["deployment_uuid"],
                                    previous=dep["seen"], state=status)
                dep["seen"] = status

    def running(self, now: float | None = None) -> dict | None:
        now = time.time() if now is None else now
        return next((d for d in self._deployments if self._status(d, now) in ("queued", "in_progress")), None)

    def queue(self) -> tuple[str, str]:
        """queue_application_deployment as deploy_resource reports it: (message, deployment_uuid)."""
        now = time.time()
        self.advance(now)
        if self.running(now) is not None:
            return "Deployment already queued for this commit.", new_uuid()   # an id that does not exist
        o = self.sb.options
        dep = self._deployment(now, max(0.0, float(o.deploy_seconds)), str(o.coolify_deploy_state or "finished"))
        self._deployments.append(dep)
        self.sb.history.add("coolify", "deploy", deployment=dep["deployment_uuid"], final=dep["final"])
        return f"Application {self.app['name']} deployment queued.", dep["deployment_uuid"]

    def deployment_json(self, dep: dict, now: float | None = None) -> dict:
        now = time.time() if now is None else now
        return {"id": self._deployments.index(dep) + 1, "application_id": "1", "deployment_uuid": dep["deployment_uuid"],
                "pull_request_id": 0, "force_rebuild": False, "commit": dep["commit"],
                "status": self._status(dep, now), "is_webhook": False, "is_api": True,
                "created_at": _iso(dep["created"]), "updated_at": _iso(now)}

    # -- for the app stand-in and tests ------------------------------------------------------
    def running_env(self) -> dict:
        """The environment the running container was started with: the newest finished
        deployment's, or a later recreate()'s."""
        now = time.time()
        with self._lock:
            self.advance(now)
            done = [(d["created"] + d["duration"], d["env"] or {}) for d in self._deployments
                    if self._status(d, now) == "finished"]
            if self._recreated is not None:
                done.append(self._recreated)
            latest = max(done, key=lambda d: d[0], default=None)
            return dict(latest[1]) if latest else {}

    def recreate(self, fresh: bool = True) -> None:
        """Sandbox only, for bench/guide_vs_tool.py: `docker compose up -d --force-recreate` run on the
        host, outside Coolify. `fresh`: at its best, the new container gets the variables as they
        are now; else as on a real host, where compose reads the .env that Coolify's last deployment
        wrote (ApplicationDeploymentJob::save_runtime_environment_variables): no change."""
        with self._lock:
            self.advance()
            if fresh:
                env = self._runtime_env()
            else:
                now = time.time()
                done = [(d["created"] + d["duration"], d["env"] or {}) for d in self._deployments
                        if self._status(d, now) == "finished"]
                env = dict(max(done, key=lambda d: d[0])[1]) if done else {}
            self._recreated = (time.time(), env)
            self.sb.history.add("coolify", "recreate")

    def variables(self) -> list[dict]:
        with self._lock:
            return [dict(e) for e in self._envs]

    def set_env(self, key: str, value: str, **flags: Any) -> dict:
        """Set a variable directly (as a person would in Coolify's UI)."""
        with self._lock:
            self.advance()
            rec = self._find(key, bool(flags.get("is_preview")))
            if rec is None:
                return dict(self._create({"key": key, "value": value, **flags}))
            rec.update(value=value, updated_at=_iso(), **flags)
            self._changed("update", rec)
            return dict(rec)

    def deployments(self) -> list[dict]:
        now = time.time()
        with self._lock:
            self.advance(now)
            return [{**self.deployment_json(d, now), "env": dict(d["env"] or {})} for d in self._deployments]

    def secret_values(self) -> set[str]:
        return {self.seed_value, *(c["value"] for c in self.seed_session["cookies"])}

    def snapshot(self) -> dict:
        now = time.time()
        with self._lock:
            self.advance(now)
            return {"application": dict(self.app),
                    "envs": [{**{k: v for k, v in e.items() if k != "value"}, "fingerprint": fingerprint(e["value"] or "")}
                             for e in self._envs],
                    "deployments": [{**self.deployment_json(d, now),
                                     "envFingerprints": {k: fingerprint(v) for k, v in (d["env"] or {}).items()}}
                                    for d in self._deployments]}

    # -- the API's operations (caller holds the lock) -----------------------------------------
    def create_env(self, body: dict) -> tuple[int, dict]:
        self.advance()
        preview = truth(body.get("is_preview"))
        if self._find(body["key"], preview) is not None:
            return 409, {"message": "Environment variable already exists. Use PATCH request to update it."}
        return 201, {"uuid": self._create(body)["uuid"]}

    def update_env(self, body: dict) -> tuple[int, dict | None]:
        """update_env_by_uuid: (201, the record) or (404, None)."""
        self.advance()
        rec = self._find(body["key"], truth(body.get("is_preview")))
        if rec is None:
            return 404, None
        rec["value"] = body.get("value")
        for flag in ("is_literal", "is_multiline", "is_shown_once"):   # left out: reset to false
            rec[flag] = truth(body.get(flag))
        for kept in ("is_runtime", "is_buildtime", "comment"):
            if kept in body:
                rec[kept] = truth(body[kept]) if kept != "comment" else body[kept]
        rec["updated_at"] = _iso()
        self._changed("update", rec)
        return 201, rec

    def delete_env(self, env_uuid: str) -> bool:
        self.advance()
        rec = next((e for e in self._envs if e["uuid"] == env_uuid), None)
        if rec is None:
            return False
        self._envs.remove(rec)
        self._changed("delete", rec)
        return True

"""The Vercel stand-in's state: env vars and deployments of one team project (vercel.py and
vercel_env.py serve them over HTTP; vercel_checks.py holds the checks the real API applies to
an env var body).

Deployment states are computed from the time elapsed since creation (deployment_phase.py;
options.deploy_seconds, read when the deployment is created); the final state is
options.next_deploy_state at creation ("READY", "ERROR" or "CANCELED"; it stays until changed).
The newest READY production deployment is `targets.production`.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import string
import threading
import time
from datetime import datetime, timedelta, timezone
from typing import Any

from ..core.session import fingerprint
from ..core.times import iso
from .deployment_phase import building_at, phase

WATCHED = "MTN_SESSION"


def _ms(t: float | None = None) -> int:
    return int((time.time() if t is None else t) * 1000)


def _rand(n: int, alphabet: str = string.ascii_letters + string.digits) -> str:
    return "".join(secrets.choice(alphabet) for _ in range(n))



def old_session() -> dict:
    """A session in the app's format that the MTN stand-in never issued: dead on arrival."""
    def cookie(name: str, value: str, domain: str) -> dict:
        return {"name": name, "value": value, "domain": domain, "path": "/", "expires": -1,
                "httpOnly": name == "JSESSIONID", "secure": False, "sameSite": "Lax"}

    sso_id = secrets.token_hex(16).upper()
    created = datetime.now(timezone.utc) - timedelta(days=3)
    return {
        "cookies": [cookie("JSESSIONID", sso_id, "127.0.0.1"),
                    cookie("CASTGC", f"TGT-{secrets.randbelow(10**6)}-{_rand(40)}-cas", "127.0.0.1"),
                    cookie("_GRECAPTCHA", _rand(60), "www.google.com"),
                    cookie("JSESSIONID", secrets.token_hex(16).upper(), "localhost")],
        "sessionId": sso_id,
        # pushed with expiresAt well ahead, so the app's 5-minute gate loads it and only MTN refuses it
        "expiresAt": iso(datetime.now(timezone.utc) + timedelta(days=2)),
        "createdAt": iso(created),
    }


def encode_session(data: dict) -> str:
    return base64.b64encode(json.dumps(data, separators=(",", ":")).encode()).decode()


class VercelState:
    def __init__(self, sb: Any):
        self.sb = sb
        self._lock = threading.Lock()
        self._envs: list[dict] = []          # internal records, plaintext value included
        self._deployments: list[dict] = []   # oldest first
        self.custom_environments: list[str] = []   # slugs of the project's custom environments (tests add some)
        self.seed_session = old_session()
        self.seed_value = encode_session(self.seed_session)
        now = time.time()
        self._envs.append(self._record(WATCHED, self.seed_value, "encrypted", ["production", "preview"], now - 86400))
        # the seed took as long to build as this sandbox's builds do: a redeploy learns the time from it
        seed_build = max(0.0, float(sb.options.deploy_seconds))
        self._deployments.append(self._deployment("production", {}, now - 3600, seed_build, "READY", "seed"))
        self._deployments[0]["env"] = self._env_for("production")

    # -- records ----------------------------------------------------------------------
    @staticmethod
    def _record(key: str, value: str, type_: str, target: list[str], at: float | None = None) -> dict:
        at = time.time() if at is None else at
        return {"id": _rand(16), "key": key, "value": value, "type": type_, "target": list(target),
                "gitBranch": None, "createdAt": _ms(at), "updatedAt": _ms(at), "comment": ""}

    def _deployment(self, target: str | None, env: dict, created: float, duration: float, final: str,
                    action: str) -> dict:
        o = self.sb.options
        dep_id = "dpl_" + _rand(28)
        return {"id": dep_id, "name": o.vercel_project_name, "projectId": o.vercel_project_id,
                "url": f"{o.vercel_project_name}-{_rand(9, string.ascii_lowercase + string.digits)}-sandbox.vercel.app",
                "target": target, "created": created, "duration": duration, "final": final,
                "env": env, "meta": {"action": action}}

    def _env_for(self, target: str) -> dict:
        return {e["key"]: e["value"] for e in self._envs if target in e["target"]}

    def _has(self, key: str, target: str) -> bool:
        return any(e["key"] == key and target in e["target"] for e in self._envs)

    @staticmethod
    def _state_at(dep: dict, now: float) -> str:
        return phase(dep, now, "QUEUED", "BUILDING")

    def _production(self, now: float) -> dict | None:
        ready = [d for d in self._deployments
                 if d["target"] == "production" and self._state_at(d, now) == "READY"]
        return max(ready, key=lambda d: d["created"] + d["duration"], default=None)

    def _record_change(self, action: str, rec: dict) -> None:
        self.sb.history.add("vercel", "env.change", action=action, key=rec["key"], id=rec["id"],
                            targets=list(rec["target"]), type=rec["type"],
                            fingerprint=fingerprint(rec["value"]),
                            production_has=self._has(WATCHED, "production"))

    # -- the public view of records ------------------------------------------------------
    @staticmethod
    def ciphertext(rec: dict) -> str:
        digest = hashlib.sha256(f"{rec['id']}:{rec['updatedAt']}:{rec['value']}".encode()).digest()
        return base64.b64encode(b"\x01sandbox-cipher" + digest + hashlib.sha256(digest).digest()).decode()

    def env_json(self, rec: dict, reveal: bool = False) -> dict:
        out = {k: rec[k] for k in ("id", "key", "type", "target", "gitBranch", "createdAt", "updatedAt", "comment")}
        out["target"] = list(rec["target"])
        out["configurationId"] = None
        out["createdBy"] = out["updatedBy"] = "sandbox-user"
        if rec["type"] == "plain":
            out["value"], out["decrypted"] = rec["value"], False
        elif rec["type"] == "encrypted" and reveal:
            out["value"], out["decrypted"] = rec["value"], True
        elif rec["type"] == "encrypted":
            out["value"], out["decrypted"] = self.ciphertext(rec), False
        else:  # sensitive: the value never comes back
            out["decrypted"] = False
            if not reveal:
                out["value"] = ""
        return out

    def team_json(self) -> dict:
        o = self.sb.options
        return {"id": o.vercel_team_id, "slug": o.vercel_team_slug, "name": "Sandbox Team",
                "membership": {"role": "OWNER", "confirmed": True}, "createdAt": _ms(0)}

    def deployment_json(self, dep: dict, now: float | None = None, legacy: bool = False) -> dict:
        now = time.time() if now is None else now
        state = self._state_at(dep, now)
        o = self.sb.options
        inspector = f"https://vercel.com/{o.vercel_team_id}/{o.vercel_project_name}/{dep['id'][4:]}"
        out = {"id": dep["id"], "name": dep["name"], "url": dep["url"], "projectId": dep["projectId"],
               "readyState": state, "status": state, "target": dep["target"], "createdAt": _ms(dep["created"]),
               "inspectorUrl": inspector,
               "meta": dict(dep["meta"]), "type": "LAMBDAS", "creator": {"uid": "usr_sandbox"},
               "ownerId": o.vercel_team_id, "team": {"id": o.vercel_team_id, "slug": o.vercel_team_slug,
                                                     "name": "Sandbox Team"}}
        if state != "QUEUED":  # as Vercel: when the build started, once it has
            out["buildingAt"] = _ms(building_at(dep))
        if state in ("READY", "ERROR", "CANCELED"):
            out["ready"] = _ms(dep["created"] + dep["duration"])
        if state == "ERROR":
            out["errorCode"], out["errorMessage"] = "BUILD_FAILED", "Command \"npm run build\" exited with 1"
        if state == "CANCELED":
            out["errorMessage"] = "The Deployment has been canceled as a result of running the command defined in the \"Ignored Build Step\" setting."
        if state == "READY" and dep["target"] == "production":
            out["aliasAssigned"] = True
        if legacy:  # list items of /v6/deployments
            out = {"uid": out.pop("id"), "state": state, "created": out["createdAt"], **out}
        return out

    # -- helpers for tests ------------------------------------------------------------
    def env_value(self, key: str, target: str = "production") -> str | None:
        with self._lock:
            for e in self._envs:
                if e["key"] == key and target in e["target"]:
                    return e["value"]
        return None

    def env_vars(self) -> list[dict]:
        with self._lock:
            return [dict(e, target=list(e["target"])) for e in self._envs]

    def production_deployment(self) -> dict | None:
        with self._lock:
            dep = self._production(time.time())
            return None if dep is None else {**self.deployment_json(dep), "env": dict(dep["env"])}

    def production_env(self) -> dict:
        with self._lock:
            dep = self._production(time.time())
            return {} if dep is None else dict(dep["env"])

    def deployments(self) -> list[dict]:
        now = time.time()
        with self._lock:
            return [{**self.deployment_json(d, now), "env": dict(d["env"])} for d in self._deployments]

    def set_env(self, key: str, value: str, type: str = "encrypted",
                target: tuple | list = ("production", "preview")) -> dict:
        """Set a var directly (as a person would in the dashboard): upsert on overlapping targets."""
        with self._lock:
            result = self.create_env([{"key": key, "value": value, "type": type, "target": list(target)}], upsert=True)
        if result["failed"]:
            raise ValueError(result["failed"][0]["error"]["message"])
        return result["created"][0]

    def secret_values(self) -> set[str]:
        """The seeded old session and its cookie values (never issued by the MTN stand-in), for leak checks."""
        return {self.seed_value, *(c["value"] for c in self.seed_session["cookies"])}

    def snapshot(self) -> dict:
        now = time.time()
        with self._lock:
            prod = self._production(now)
            return {
                "envs": [{**self.env_json(e), "fingerprint": fingerprint(e["value"])} for e in self._envs],
                "deployments": [{**self.deployment_json(d, now),
                                 "envFingerprints": {k: fingerprint(v) for k, v in d["env"].items()}}
                                for d in self._deployments],
                "production": prod["id"] if prod else None,
            }

    # -- operations (caller holds the lock) ----------------------------------------------
    def create_env(self, items: list[dict], upsert: bool) -> dict:
        created, failed = [], []
        for item in items:
            target = list(dict.fromkeys(item["target"]))
            overlapping = [e for e in self._envs if e["key"] == item["key"] and set(e["target"]) & set(target)]
            if overlapping and (not upsert or len(overlapping) > 1):
                clash = overlapping[0]
                shared = [t for t in target if t in clash["target"]]
                failed.append({"error": {
                    "code": "ENV_CONFLICT",
                    "message": f"A variable with the name `{item['key']}` already exists for the target "
                               f"{', '.join(shared)} on branch undefined",
                    "key": item["key"], "envVarKey": item["key"], "envVarId": clash["id"],
                    "target": shared, "gitBranch": None}})
                continue
            if overlapping and overlapping[0]["type"] == "sensitive" and item["type"] != "sensitive":
                failed.append({"error": {
                    "code": "bad_request", "key": item["key"], "envVarKey": item["key"],
                    "envVarId": overlapping[0]["id"],
                    "message": "Cannot change the type of a Sensitive Environment Variable."}})
                continue
            if overlapping:  # upsert edits the value (and a non-sensitive type); the targets stay
                rec = overlapping[0]
                rec.update(value=item["value"], type=item["type"], updatedAt=_ms())
                action = "upsert"
            else:
                rec = self._record(item["key"], item["value"], item["type"], target)
                self._envs.append(rec)
                action = "create"
            self._record_change(action, rec)
            created.append(self.env_json(rec))
        return {"created": created, "failed": failed}

"""Vercel REST API stand-in: the env vars and deployments of one team project.

Strict where the real API is (API_NOTES.md): a missing or bad Bearer token gets 403
(`missingToken` / `invalidToken`), the team's project is found only with `?teamId=`, a 201 from the
env create endpoint can still carry `failed[]` (ENV_CONFLICT), `sensitive` vars refuse `key` on
PATCH, a type change and the development target, encrypted values come back from the list only as
ciphertext, and env changes reach the app only through a new deployment (each deployment keeps a
snapshot of its target's env).

    GET    /v2/user                                   the token's user
    GET    /v2/teams/{teamId}                         the team
    GET    /v9/projects/{idOrName}?teamId=            project, with targets.production
    GET    /v10/projects/{idOrName}/env?teamId=       {envs: [...]} (encrypted/sensitive: ciphertext)
    POST   /v10/projects/{idOrName}/env?teamId=[&upsert=true]   201 {created, failed}
    GET    /v1/projects/{idOrName}/env/{envId}?teamId=          one var, decrypted (not sensitive)
    PATCH  /v9/projects/{idOrName}/env/{envId}?teamId=          edit in place
    DELETE /v9/projects/{idOrName}/env/{envId}?teamId=          remove
    POST   /v13/deployments?teamId=[&forceNew=1]      redeploy {name, deploymentId, target, meta}
    GET    /v13/deployments/{id}?teamId=              readyState QUEUED -> BUILDING -> READY|ERROR|CANCELED
    GET    /v6/deployments, /v7/deployments?teamId=&projectId=&target=   {deployments: [{uid, ...}]}

Deployment states are computed from the time elapsed since creation (options.deploy_seconds,
read when the deployment is created); the final state is options.next_deploy_state at creation
("READY", "ERROR" or "CANCELED"; it stays until changed). The newest READY production deployment
is `targets.production`. Upsert on a var whose targets overlap replaces its value, type and
targets in place (same id).

Admin routes (sandbox only; values are sandbox values):
    POST /admin/vercel/env        {key, value, type="encrypted", target=["production","preview"]}
                                  set a var directly (upsert semantics; recorded in history)
    GET  /admin/vercel/env/{key}?target=production   {key, value, fingerprint} (plaintext now stored)
    GET  /admin/vercel/production {deployment, env}  the current production deployment and its env

State helpers for tests: env_value(key, target), env_vars(), production_env(),
production_deployment(), deployments(), set_env(...), secret_values().
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import secrets
import string
import threading
import time
from datetime import datetime, timedelta, timezone
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from ..core.session import fingerprint, iso
from .core import Service

TARGETS = ("production", "preview", "development")
TYPES = ("encrypted", "sensitive", "plain")
KEY_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
WATCHED = "MTN_SESSION"


def _ms(t: float | None = None) -> int:
    return int((time.time() if t is None else t) * 1000)


def _rand(n: int, alphabet: str = string.ascii_letters + string.digits) -> str:
    return "".join(secrets.choice(alphabet) for _ in range(n))


def error(status: int, code: str, message: str, **extra: Any) -> JSONResponse:
    return JSONResponse({"error": {"code": code, "message": message, **extra}}, status)


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
        "expiresAt": iso(created + timedelta(minutes=60)),
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
        self.seed_session = old_session()
        self.seed_value = encode_session(self.seed_session)
        now = time.time()
        self._envs.append(self._record(WATCHED, self.seed_value, "encrypted", ["production", "preview"], now - 86400))
        self._deployments.append(self._deployment("production", {}, now - 3600, 0.0, "READY", "seed"))
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
        elapsed = now - dep["created"]
        if elapsed >= dep["duration"]:
            return dep["final"]
        return "QUEUED" if elapsed < dep["duration"] / 3 else "BUILDING"

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

    def deployment_json(self, dep: dict, now: float | None = None, legacy: bool = False) -> dict:
        now = time.time() if now is None else now
        state = self._state_at(dep, now)
        o = self.sb.options
        inspector = f"https://vercel.com/{o.vercel_team_id}/{o.vercel_project_name}/{dep['id'][4:]}"
        out = {"id": dep["id"], "name": dep["name"], "url": dep["url"], "projectId": dep["projectId"],
               "readyState": state, "status": state, "target": dep["target"], "createdAt": _ms(dep["created"]),
               "buildingAt": _ms(dep["created"] + dep["duration"] / 3), "inspectorUrl": inspector,
               "meta": dict(dep["meta"]), "type": "LAMBDAS", "creator": {"uid": "usr_sandbox"}}
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
            if overlapping:
                rec = overlapping[0]
                rec.update(value=item["value"], type=item["type"], target=target, updatedAt=_ms())
                action = "upsert"
            else:
                rec = self._record(item["key"], item["value"], item["type"], target)
                self._envs.append(rec)
                action = "create"
            self._record_change(action, rec)
            created.append(self.env_json(rec))
        return {"created": created, "failed": failed}


# -- validation ----------------------------------------------------------------------------
def check_item(item: Any) -> str | None:
    """The reason the real API would reject this env var body, or None."""
    if not isinstance(item, dict):
        return "Invalid request: body should be object or array of objects."
    for name in ("key", "value", "type", "target"):
        if name not in item:
            return f"Invalid request: missing required property `{name}`."
    if not isinstance(item["key"], str) or not KEY_RE.match(item["key"]):
        return ("The name of your Environment Variable contains invalid characters. Only letters, digits, "
                "and underscores are allowed. Furthermore, the name should not start with a digit.")
    return check_fields(item)


def check_fields(item: dict) -> str | None:
    if "value" in item:
        if not isinstance(item["value"], str):
            return "Invalid request: `value` should be string."
        if item["value"] == "":
            return "Invalid request: `value` should NOT be shorter than 1 characters."
    if "type" in item and item["type"] not in TYPES:
        return f"Invalid request: `type` should be equal to one of the allowed values \"{', '.join(TYPES)}\"."
    if "target" in item:
        target = item["target"]
        if isinstance(target, str):
            target = [target]
        if not isinstance(target, list) or not target or any(t not in TARGETS for t in target):
            return "Invalid request: `target` should be an array of \"production\", \"preview\", \"development\"."
        if item.get("type") == "sensitive" and "development" in target:
            return "Sensitive Environment Variables cannot be created in the Development environment."
    return None


async def read_json(request: Request) -> Any:
    try:
        return json.loads(await request.body() or b"null")
    except ValueError:
        return ValueError


def build(sb: Any) -> list[Service]:
    state = VercelState(sb)

    def auth_error(request: Request) -> JSONResponse | None:
        header = request.headers.get("authorization", "")
        if not header:
            return error(403, "forbidden", "The request is missing an authentication token", missingToken=True)
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not secrets.compare_digest(token.strip(), sb.options.vercel_token):
            return error(403, "forbidden", "Not authorized", invalidToken=True)
        return None

    def scope_error(request: Request) -> JSONResponse | None:
        """The project lives in a team: without the team's teamId it is not found."""
        team = request.query_params.get("teamId")
        if team is None:
            return error(404, "not_found", "Project not found")
        if team != sb.options.vercel_team_id:
            return error(403, "forbidden", "Not authorized: you are not a member of this team")
        return None

    def project_error(request: Request) -> JSONResponse | None:
        found = auth_error(request) or scope_error(request)
        if found:
            return found
        id_or_name = request.path_params.get("project")
        if id_or_name is not None and id_or_name not in (sb.options.vercel_project_id, sb.options.vercel_project_name):
            return error(404, "not_found", "Project not found")
        return None

    def in_project(handler: Any) -> Any:
        """Every /projects/{idOrName} route: 403 for a bad token, 404 without the team's teamId."""
        async def checked(request: Request) -> JSONResponse:
            return project_error(request) or await handler(request)
        return checked

    def find_env(env_id: str) -> dict | None:
        return next((e for e in state._envs if e["id"] == env_id), None)

    async def user(request: Request) -> JSONResponse:
        if (err := auth_error(request)):
            return err
        return JSONResponse({"user": {"id": "usr_sandbox", "email": "ops@example.test", "name": "Sandbox Ops",
                                      "username": "sandbox-ops", "defaultTeamId": sb.options.vercel_team_id}})

    async def team(request: Request) -> JSONResponse:
        if (err := auth_error(request)):
            return err
        if request.path_params["team"] != sb.options.vercel_team_id:
            return error(404, "not_found", "Team not found")
        return JSONResponse({"id": sb.options.vercel_team_id, "slug": "sandbox-team", "name": "Sandbox Team"})

    async def project(request: Request) -> JSONResponse:
        o = sb.options
        with state._lock:
            now = time.time()
            prod = state._production(now)
            latest = [state.deployment_json(d, now) for d in reversed(state._deployments)][:5]
            targets = {"production": state.deployment_json(prod, now) if prod else None}
        return JSONResponse({"id": o.vercel_project_id, "name": o.vercel_project_name, "accountId": o.vercel_team_id,
                             "framework": "nextjs", "targets": targets, "latestDeployments": latest})

    async def list_env(request: Request) -> JSONResponse:
        with state._lock:
            envs = [state.env_json(e) for e in state._envs]
        return JSONResponse({"envs": envs, "pagination": {"count": len(envs), "next": None, "prev": None}})

    async def create_env(request: Request) -> JSONResponse:
        body = await read_json(request)
        if body is ValueError:
            return error(400, "bad_request", "Invalid JSON.")
        items = body if isinstance(body, list) else [body]
        if not items:
            return error(400, "bad_request", "Invalid request: body should NOT have fewer than 1 items.")
        for item in items:
            if (reason := check_item(item)):
                return error(400, "bad_request", reason)
        items = [dict(i, target=[i["target"]] if isinstance(i["target"], str) else i["target"]) for i in items]
        upsert = request.query_params.get("upsert") == "true"
        with state._lock:
            result = state.create_env(items, upsert)
        created = result["created"]
        if not isinstance(body, list) and len(created) == 1:
            created = created[0]
        return JSONResponse({"created": created, "failed": result["failed"]}, 201)

    async def get_env(request: Request) -> JSONResponse:
        with state._lock:
            rec = find_env(request.path_params["env_id"])
            if rec is None:
                return error(404, "not_found", "Environment Variable not found")
            return JSONResponse(state.env_json(rec, reveal=True))

    async def patch_env(request: Request) -> JSONResponse:
        body = await read_json(request)
        if body is ValueError or not isinstance(body, dict):
            return error(400, "bad_request", "Invalid request: body should be object.")
        with state._lock:
            rec = find_env(request.path_params["env_id"])
            if rec is None:
                return error(404, "not_found", "Environment Variable not found")
            if rec["type"] == "sensitive":
                if "key" in body:
                    return error(400, "bad_request", "Cannot change the key of a Sensitive Environment Variable. "
                                 "Remove `key` from the request body.")
                if "type" in body and body["type"] != "sensitive":
                    return error(400, "bad_request", "Cannot change the type of a Sensitive Environment Variable.")
            if "key" in body and (not isinstance(body["key"], str) or not KEY_RE.match(body["key"])):
                return error(400, "bad_request", "The name of your Environment Variable contains invalid characters.")
            merged = {"type": body.get("type", rec["type"]), "target": body.get("target", rec["target"])}
            if "value" in body:
                merged["value"] = body["value"]
            if (reason := check_fields(merged)):
                return error(400, "bad_request", reason)
            target = [merged["target"]] if isinstance(merged["target"], str) else list(dict.fromkeys(merged["target"]))
            key = body.get("key", rec["key"])
            clash = next((e for e in state._envs if e is not rec and e["key"] == key
                          and set(e["target"]) & set(target)), None)
            if clash:
                return error(400, "ENV_CONFLICT", f"A variable with the name `{key}` already exists for the target "
                             f"{', '.join(t for t in target if t in clash['target'])} on branch undefined",
                             envVarId=clash["id"])
            rec.update(key=key, type=merged["type"], target=target, value=merged.get("value", rec["value"]),
                       updatedAt=_ms())
            if isinstance(body.get("comment"), str):
                rec["comment"] = body["comment"]
            state._record_change("update", rec)
            return JSONResponse(state.env_json(rec))

    async def delete_env(request: Request) -> JSONResponse:
        with state._lock:
            rec = find_env(request.path_params["env_id"])
            if rec is None:
                return error(404, "not_found", "Environment Variable not found")
            state._envs.remove(rec)
            state._record_change("delete", rec)
            return JSONResponse(state.env_json(rec))

    async def create_deployment(request: Request) -> JSONResponse:
        if (err := auth_error(request) or scope_error(request)):
            return err
        body = await read_json(request)
        if body is ValueError or not isinstance(body, dict):
            return error(400, "bad_request", "Invalid request: body should be object.")
        o = sb.options
        if not isinstance(body.get("name"), str) or not body["name"]:
            return error(400, "bad_request", "Invalid request: missing required property `name`.")
        if "deploymentId" not in body:
            return error(400, "missing_files", "Missing files: a new deployment needs `files` or `deploymentId`.")
        target = body.get("target")
        if target not in (None, "production", "preview", "staging"):
            return error(400, "bad_request", "Invalid request: `target` should be \"production\" or \"preview\".")
        final = str(o.next_deploy_state or "READY").upper()
        if final not in ("READY", "ERROR", "CANCELED"):
            final = "READY"
        with state._lock:
            source = next((d for d in state._deployments if d["id"] == body["deploymentId"]), None)
            if source is None:
                return error(404, "not_found", "The deployment was not found.")
            if body["name"] != o.vercel_project_name:
                return error(400, "bad_request", f"The provided name `{body['name']}` does not match the project "
                             f"of deployment `{source['id']}` (`{o.vercel_project_name}`).")
            dep_target = "production" if target == "production" else None
            env = state._env_for("production" if dep_target else "preview")
            meta = body.get("meta") if isinstance(body.get("meta"), dict) else {}
            dep = state._deployment(dep_target, env, time.time(), max(0.0, float(o.deploy_seconds)), final,
                                    str(meta.get("action", "deploy")))
            dep["meta"] = {**{k: str(v) for k, v in meta.items()}, "redeployedFrom": source["id"]}
            state._deployments.append(dep)
            sb.history.add("vercel", "deployment.create", id=dep["id"], target=dep_target, final=final,
                           fingerprint=fingerprint(env[WATCHED]) if WATCHED in env else None)
            return JSONResponse(state.deployment_json(dep))

    async def get_deployment(request: Request) -> JSONResponse:
        if (err := auth_error(request) or scope_error(request)):
            return err
        wanted = request.path_params["dep"]
        with state._lock:
            dep = next((d for d in state._deployments if wanted in (d["id"], d["url"])), None)
            if dep is None:
                return error(404, "not_found", "The deployment was not found.")
            return JSONResponse(state.deployment_json(dep))

    async def list_deployments(request: Request) -> JSONResponse:
        if (err := auth_error(request) or scope_error(request)):
            return err
        q = request.query_params
        project_id = q.get("projectId")
        if project_id is not None and project_id not in (sb.options.vercel_project_id, sb.options.vercel_project_name):
            return error(404, "not_found", "Project not found")
        try:
            limit = int(q.get("limit", "20"))
        except ValueError:
            return error(400, "bad_request", "Invalid request: `limit` should be number.")
        now = time.time()
        with state._lock:
            items = [state.deployment_json(d, now, legacy=True) for d in reversed(state._deployments)]
        if q.get("target"):
            items = [d for d in items if d["target"] == q["target"]]
        if q.get("state"):
            wanted = set(q["state"].upper().split(","))
            items = [d for d in items if d["state"] in wanted]
        items = items[:limit]
        return JSONResponse({"deployments": items, "pagination": {"count": len(items), "next": None, "prev": None}})

    # -- admin ------------------------------------------------------------------------
    async def admin_set_env(request: Request) -> JSONResponse:
        body = await read_json(request)
        if body is ValueError or not isinstance(body, dict):
            return JSONResponse({"error": "body must be a JSON object"}, 400)
        item = {"type": "encrypted", "target": ["production", "preview"], **body}
        if (reason := check_item(item)):
            return JSONResponse({"error": reason}, 400)
        try:
            return JSONResponse(state.set_env(item["key"], item["value"], item["type"], item["target"]), 201)
        except ValueError as e:
            return JSONResponse({"error": str(e)}, 409)

    async def admin_get_env(request: Request) -> JSONResponse:
        key = request.path_params["key"]
        value = state.env_value(key, request.query_params.get("target", "production"))
        if value is None:
            return JSONResponse({"error": f"{key} not set for that target"}, 404)
        return JSONResponse({"key": key, "value": value, "fingerprint": fingerprint(value)})

    async def admin_production(request: Request) -> JSONResponse:
        return JSONResponse({"deployment": state.production_deployment()})

    async def unknown(request: Request, exc: Exception) -> JSONResponse:
        status = getattr(exc, "status_code", 404)
        return error(status, "not_found" if status == 404 else "method_not_allowed",
                     "The requested path was not found." if status == 404 else "Method not allowed.")

    p = "/{project}"
    app = Starlette(exception_handlers={404: unknown, 405: unknown}, routes=[
        Route("/v2/user", user),
        Route("/v2/teams/{team}", team),
        Route(f"/v9/projects{p}", in_project(project)),
        Route(f"/v10/projects{p}/env", in_project(list_env), methods=["GET"]),
        Route(f"/v10/projects{p}/env", in_project(create_env), methods=["POST"]),
        Route(f"/v1/projects{p}/env/{{env_id}}", in_project(get_env), methods=["GET"]),
        Route(f"/v9/projects{p}/env/{{env_id}}", in_project(patch_env), methods=["PATCH"]),
        Route(f"/v9/projects{p}/env/{{env_id}}", in_project(delete_env), methods=["DELETE"]),
        Route("/v13/deployments", create_deployment, methods=["POST"]),
        Route("/v13/deployments/{dep}", get_deployment),
        Route("/v6/deployments", list_deployments),
        Route("/v7/deployments", list_deployments),
    ])
    admin = [
        Route("/admin/vercel/env", admin_set_env, methods=["POST"]),
        Route("/admin/vercel/env/{key}", admin_get_env),
        Route("/admin/vercel/production", admin_production),
    ]
    return [Service("vercel", app, admin_routes=admin, state=state)]

"""GitHub REST API stand-in: one private repository's Actions secrets, issues and one workflow.

Strict where the real API is (API_NOTES.md): a bad token gets 401 "Bad credentials", another
repository (or none token at all) 404; secrets are real libsodium sealed boxes under a real
Curve25519 key (one per repository and one per environment), and a wrong `key_id`, an
undecryptable value, a bad name or more than 48 KB get 422; a PUT answers 201 `{}` when it
created the secret and 204 when it updated it; `updated_at` has second precision. The issues list
returns pull requests too (items with `pull_request`), as the real one does: one open PR labelled
mtn-session is seeded to catch clients that forget to skip them. Every response carries
`x-ratelimit-*` headers. Missing `Accept` / `X-GitHub-Api-Version` headers are tolerated (so is
the real API).

    GET    /user
    GET    /repos/{o}/{r}
    GET    /repos/{o}/{r}/environments[/{env}]
    GET    /repos/{o}/{r}/actions/secrets[/public-key|/{NAME}]    PUT|DELETE .../secrets/{NAME}
    GET    /repos/{o}/{r}/environments/{env}/secrets[/public-key|/{NAME}]   PUT|DELETE likewise
    GET    /repos/{o}/{r}/issues?state=&labels=&per_page=&page=     POST /repos/{o}/{r}/issues
    GET    /repos/{o}/{r}/issues/{n}     PATCH {state, state_reason, title, body, labels}
    GET    /repos/{o}/{r}/issues/{n}/comments                       POST {body}
    DELETE /repos/{o}/{r}/issues/comments/{id}   (bodies over 65,536 characters: 422)
    GET    /repos/{o}/{r}/actions/workflows[/{id or file}]
    PUT    .../actions/workflows/{wf}/enable | /disable   204
    POST   .../actions/workflows/{wf}/dispatches {ref, inputs}   204; records a queued run
    GET    .../actions/workflows/{wf}/runs?per_page=&event=&status=   newest first

Seeds: repo secret MTN_SESSION holding the same old, dead session as the Vercel stand-in;
environment "production" (no secrets); workflow validate-mtn-session.yml, active, with a
successful scheduled run two hours ago; PR #1 (open, label mtn-session) and issue #2 (closed,
label mtn-session). Dispatched runs stay "queued" (nothing runs them) unless a test sets a run.

Admin routes (sandbox only):
    GET  /admin/github/secret/{name}?environment=   {name, value, fingerprint, created_at, updated_at}
    POST /admin/github/workflow  {state?, last_run?: {status, conclusion, event, created_at}}
    GET  /admin/github/issues    every issue and PR with its comments

State helpers for tests: secret_value(name, environment=None), secret_meta(name, environment=None),
put_secret(name, value, environment=None), issues(), comments(number), workflow(), runs(),
set_workflow(state=..., last_run=...).
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import secrets
import threading
import time
from datetime import datetime, timedelta, timezone
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from ..core.session import fingerprint
from .core import Service

DOCS = "https://docs.github.com/rest"
NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
MAX_SECRET_BYTES = 48 * 1024
WORKFLOW_FILE = "validate-mtn-session.yml"
STATE_REASONS = ("completed", "not_planned", "reopened", None)
MAX_BODY = 65536   # issue and comment bodies: longer is 422 "body is too long (maximum is 65536 characters)"


def stamp(moment: datetime | None = None) -> str:
    """GitHub's timestamps: ISO 8601, UTC, second precision."""
    moment = moment or datetime.now(timezone.utc)
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def gh_error(status: int, message: str, **extra: Any) -> JSONResponse:
    return JSONResponse({"message": message, "documentation_url": DOCS, "status": str(status), **extra}, status)


def too_long(resource: str, body: Any) -> JSONResponse | None:
    if isinstance(body, str) and len(body) > MAX_BODY:
        return gh_error(422, "Validation Failed", errors=[{"resource": resource, "code": "custom", "field": "body",
                                                          "message": f"body is too long (maximum is {MAX_BODY} characters)"}])
    return None


class KeyBox:
    """A repository's or environment's secrets public key (the private half decrypts the PUTs)."""

    def __init__(self) -> None:
        from nacl.public import PrivateKey

        self.private = PrivateKey.generate()
        self.key_id = str(secrets.randbelow(9 * 10**17) + 10**17)
        self.key = base64.b64encode(bytes(self.private.public_key)).decode()

    def open(self, encrypted_value: str) -> bytes | None:
        from nacl.exceptions import CryptoError
        from nacl.public import SealedBox

        try:
            return SealedBox(self.private).decrypt(base64.b64decode(encrypted_value, validate=True))
        except (CryptoError, binascii.Error, ValueError):
            return None

    def seal(self, value: str) -> str:
        from nacl.public import SealedBox

        return base64.b64encode(SealedBox(self.private.public_key).encrypt(value.encode())).decode()


class GitHubState:
    def __init__(self, sb: Any, seed_value: str):
        self.sb = sb
        self._lock = threading.Lock()
        self.boxes: dict[str | None, KeyBox] = {None: KeyBox(), "production": KeyBox()}
        self.environments: list[str] = ["production"]
        self._secrets: dict[tuple[str | None, str], dict] = {}   # (environment, NAME) -> record
        self._issues: list[dict] = []
        self._comments: dict[int, list[dict]] = {}
        self._next_id = 1000
        now = datetime.now(timezone.utc)
        self._secrets[(None, "MTN_SESSION")] = {"value": seed_value, "created_at": stamp(now - timedelta(days=30)),
                                                "updated_at": stamp(now - timedelta(days=3))}
        self._workflow = {"id": 61234567, "name": "Validate MTN session", "state": "active",
                          "path": f".github/workflows/{WORKFLOW_FILE}",
                          "created_at": stamp(now - timedelta(days=90)), "updated_at": stamp(now - timedelta(days=9))}
        self._runs: list[dict] = []   # oldest first
        self._add_run("schedule", "completed", "success", now - timedelta(hours=2))
        pr = self._new_issue("Bump httpx in the session validator", "Dependency update.", ["mtn-session"],
                             now - timedelta(days=2))
        pr["pull_request"] = {"url": f"{self._repo_api()}/pulls/{pr['number']}",
                              "html_url": f"https://github.com/{sb.options.github_repository}/pull/{pr['number']}",
                              "merged_at": None}
        old = self._new_issue("MTN session expired", "The scheduled check found the session expired.",
                              ["mtn-session"], now - timedelta(days=20))
        old.update(state="closed", state_reason="completed", closed_at=stamp(now - timedelta(days=19)))

    # -- records (caller holds the lock, or is __init__) ------------------------------------
    def _repo_api(self) -> str:
        return f"https://api.github.com/repos/{self.sb.options.github_repository}"

    def _id(self) -> int:
        self._next_id += 1
        return self._next_id

    def _new_issue(self, title: str, body: str | None, labels: list[str], at: datetime | None = None) -> dict:
        number = len(self._issues) + 1
        at_s = stamp(at)
        issue = {"id": self._id(), "number": number, "title": title, "body": body, "state": "open",
                 "state_reason": None, "locked": False, "labels": labels, "user": {"login": "sandbox-ops"},
                 "created_at": at_s, "updated_at": at_s, "closed_at": None}
        self._issues.append(issue)
        self._comments[number] = []
        return issue

    def _add_run(self, event: str, status: str, conclusion: str | None, at: datetime | None = None,
                 branch: str = "main") -> dict:
        at_s = stamp(at)
        run = {"id": self._id() * 1000, "name": self._workflow["name"], "workflow_id": self._workflow["id"],
               "event": event, "status": status, "conclusion": conclusion, "head_branch": branch,
               "created_at": at_s, "updated_at": at_s, "run_started_at": at_s,
               "run_number": len(self._runs) + 1, "path": self._workflow["path"]}
        run["html_url"] = f"https://github.com/{self.sb.options.github_repository}/actions/runs/{run['id']}"
        self._runs.append(run)
        return run

    def issue_json(self, issue: dict) -> dict:
        out = {k: v for k, v in issue.items() if k != "labels"}
        out["labels"] = [{"id": abs(hash(name)) % 10**9, "name": name, "color": "d73a4a", "default": False}
                         for name in issue["labels"]]
        out["comments"] = len(self._comments.get(issue["number"], []))
        kind = "pull" if "pull_request" in issue else "issues"
        out["url"] = f"{self._repo_api()}/issues/{issue['number']}"
        out["html_url"] = f"https://github.com/{self.sb.options.github_repository}/{kind}/{issue['number']}"
        return out

    def workflow_json(self) -> dict:
        wf = dict(self._workflow)
        wf["url"] = f"{self._repo_api()}/actions/workflows/{wf['id']}"
        wf["html_url"] = f"https://github.com/{self.sb.options.github_repository}/blob/main/{wf['path']}"
        return wf

    def put(self, name: str, value: str, environment: str | None) -> bool:
        """Store a secret; True when it was created, False when updated."""
        key = (environment, name.upper())
        now = stamp()
        created = key not in self._secrets
        rec = self._secrets.setdefault(key, {"created_at": now})
        rec.update(value=value, updated_at=now)
        self.sb.history.add("github", "secret.put", name=name.upper(), environment=environment,
                            fingerprint=fingerprint(value), created=created)
        return created

    # -- helpers for tests ------------------------------------------------------------
    def secret_value(self, name: str, environment: str | None = None) -> str | None:
        with self._lock:
            rec = self._secrets.get((environment, name.upper()))
            return None if rec is None else rec["value"]

    def secret_meta(self, name: str, environment: str | None = None) -> dict | None:
        with self._lock:
            rec = self._secrets.get((environment, name.upper()))
            return None if rec is None else {"name": name.upper(), "created_at": rec["created_at"],
                                             "updated_at": rec["updated_at"]}

    def put_secret(self, name: str, value: str, environment: str | None = None) -> bool:
        with self._lock:
            return self.put(name, value, environment)

    def issues(self) -> list[dict]:
        with self._lock:
            return [self.issue_json(i) for i in self._issues]

    def comments(self, number: int) -> list[dict]:
        with self._lock:
            return [dict(c) for c in self._comments.get(number, [])]

    def workflow(self) -> dict:
        with self._lock:
            return self.workflow_json()

    def runs(self) -> list[dict]:
        """Newest first, as the API lists them."""
        with self._lock:
            return [dict(r) for r in reversed(self._runs)]

    def set_workflow(self, state: str | None = None, last_run: dict | None = None) -> None:
        """Set the workflow's state (active, disabled_manually, disabled_inactivity) and/or add a
        newest run: {status, conclusion, event, created_at (ISO or datetime)}."""
        with self._lock:
            if state is not None:
                self._workflow["state"] = state
            if last_run is not None:
                at = last_run.get("created_at")
                if isinstance(at, str):
                    at = datetime.fromisoformat(at.replace("Z", "+00:00"))
                self._add_run(last_run.get("event", "schedule"), last_run.get("status", "completed"),
                              last_run.get("conclusion", "success"), at)

    def snapshot(self) -> dict:
        with self._lock:
            return {
                "secrets": [{"environment": env, "name": name, "created_at": r["created_at"],
                             "updated_at": r["updated_at"], "fingerprint": fingerprint(r["value"])}
                            for (env, name), r in self._secrets.items()],
                "environments": list(self.environments),
                "issues": [{**self.issue_json(i), "comment_bodies": [c["body"] for c in self._comments[i["number"]]]}
                           for i in self._issues],
                "workflow": self.workflow_json(),
                "runs": [dict(r) for r in reversed(self._runs)],
            }


class RateLimitHeaders:
    """Adds x-ratelimit-* to every response, counting down like the core limit."""

    def __init__(self, app: Any, limit: int = 5000):
        self.app, self.limit, self.used = app, limit, 0
        self.reset = int(time.time()) + 3600
        self._lock = threading.Lock()

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        with self._lock:
            if time.time() >= self.reset:
                self.used, self.reset = 0, int(time.time()) + 3600
            self.used += 1
            used, reset = self.used, self.reset

        async def send_with_headers(message: dict) -> None:
            if message["type"] == "http.response.start":
                message = dict(message, headers=[*message.get("headers", []),
                    (b"x-ratelimit-limit", str(self.limit).encode()),
                    (b"x-ratelimit-remaining", str(max(0, self.limit - used)).encode()),
                    (b"x-ratelimit-used", str(used).encode()),
                    (b"x-ratelimit-reset", str(reset).encode()),
                    (b"x-ratelimit-resource", b"core"),
                    (b"x-github-api-version-selected", b"2022-11-28")])
            await send(message)

        await self.app(scope, receive, send_with_headers)


class BadJson(Exception):
    """A request body that is not JSON: GitHub answers 400 "Problems parsing JSON"."""


async def read_json(request: Request) -> Any:
    raw = await request.body()
    if not raw:
        return {}
    try:
        return json.loads(raw)
    except ValueError:
        raise BadJson from None


def build(sb: Any) -> list[Service]:
    vercel = sb.services.get("vercel")
    if vercel is not None:
        seed = vercel.state.seed_value
    else:
        from .vercel import encode_session, old_session

        seed = encode_session(old_session())
    state = GitHubState(sb, seed)

    def token_state(request: Request) -> str:
        header = request.headers.get("authorization", "")
        if not header:
            return "missing"
        scheme, _, token = header.partition(" ")
        if scheme.lower() not in ("bearer", "token") or not secrets.compare_digest(token.strip(), sb.options.github_token):
            return "bad"
        return "ok"

    def repo_error(request: Request) -> JSONResponse | None:
        auth = token_state(request)
        if auth == "bad":
            return gh_error(401, "Bad credentials")
        owner, repo = request.path_params["owner"], request.path_params["repo"]
        if auth == "missing" or f"{owner}/{repo}".lower() != sb.options.github_repository.lower():
            return gh_error(404, "Not Found")   # a private repo is invisible without access
        return None

    def in_repo(handler: Any) -> Any:
        """Every /repos/{owner}/{repo} route: 401 for a bad token, 404 for a repo it cannot see."""
        async def checked(request: Request) -> Response:
            return repo_error(request) or await handler(request)
        return checked

    def env_name(request: Request) -> tuple[str | None, JSONResponse | None]:
        """(environment, error): None for repository secrets; 404 for an unknown environment."""
        wanted = request.path_params.get("env")
        if wanted is None:
            return None, None
        for name in state.environments:
            if name.lower() == wanted.lower():
                return name, None
        return None, gh_error(404, "Not Found")

    def find_workflow(ref: str) -> bool:
        return ref in (WORKFLOW_FILE, str(state._workflow["id"]), state._workflow["path"])

    # -- user and repo ----------------------------------------------------------------
    async def user(request: Request) -> JSONResponse:
        auth = token_state(request)
        if auth == "missing":
            return gh_error(401, "Requires authentication")
        if auth == "bad":
            return gh_error(401, "Bad credentials")
        return JSONResponse({"login": "sandbox-ops", "id": 4242, "type": "User", "name": "Sandbox Ops"})

    async def repo(request: Request) -> JSONResponse:
        owner, name = sb.options.github_repository.split("/", 1)
        return JSONResponse({"id": 777, "name": name, "full_name": sb.options.github_repository, "private": True,
                             "owner": {"login": owner}, "default_branch": "main",
                             "permissions": {"admin": True, "push": True, "pull": True}})

    async def environments(request: Request) -> JSONResponse:
        envs = [{"id": 900 + i, "name": n} for i, n in enumerate(state.environments)]
        return JSONResponse({"total_count": len(envs), "environments": envs})

    async def environment(request: Request) -> JSONResponse:
        env, err = env_name(request)
        if err:
            return err
        return JSONResponse({"id": 900 + state.environments.index(env), "name": env})

    # -- secrets ----------------------------------------------------------------------
    async def public_key(request: Request) -> JSONResponse:
        env, err = env_name(request)
        if err:
            return err
        box = state.boxes[env]
        return JSONResponse({"key_id": box.key_id, "key": box.key})

    async def list_secrets(request: Request) -> JSONResponse:
        env, err = env_name(request)
        if err:
            return err
        with state._lock:
            items = [{"name": n, "created_at": r["created_at"], "updated_at": r["updated_at"]}
                     for (e, n), r in sorted(state._secrets.items(), key=lambda kv: kv[0][1]) if e == env]
        return JSONResponse({"total_count": len(items), "secrets": items})

    async def get_secret(request: Request) -> JSONResponse:
        env, err = env_name(request)
        if err:
            return err
        meta = state.secret_meta(request.path_params["name"], env)
        return JSONResponse(meta) if meta else gh_error(404, "Not Found")

    async def put_secret(request: Request) -> Response:
        env, err = env_name(request)
        if err:
            return err
        name = request.path_params["name"]
        body = await read_json(request)
        if not isinstance(body, dict):
            return gh_error(422, "Invalid request.\n\nFor 'links/0/schema', is not an object.")
        for field in ("encrypted_value", "key_id"):
            if not isinstance(body.get(field), str) or not body[field]:
                return gh_error(422, f"Invalid request.\n\n\"{field}\" wasn't supplied.")
        if not NAME_RE.match(name):
            return gh_error(422, "Secret names can only contain alphanumeric characters ([a-z], [A-Z], [0-9]) "
                                 "or underscores (_). Spaces are not allowed. Must start with a letter ([a-z], [A-Z]) "
                                 "or underscores (_).")
        if name.upper().startswith("GITHUB_"):
            return gh_error(422, "Secret names must not start with GITHUB_.")
        box = state.boxes[env]
        if body["key_id"] != box.key_id:
            return gh_error(422, "Bad request: key_id is not the current public key's id.")
        plain = box.open(body["encrypted_value"])
        if plain is None:
            return gh_error(422, "Bad request: encrypted_value could not be decrypted with the public key.")
        if len(plain) > MAX_SECRET_BYTES:
            return gh_error(422, "Secret value is too large: secrets are limited to 48 KB.")
        try:
            value = plain.decode("utf-8")
        except UnicodeDecodeError:
            return gh_error(422, "Bad request: the decrypted secret is not UTF-8.")
        with state._lock:
            created = state.put(name, value, env)
        return JSONResponse({}, 201) if created else Response(status_code=204)

    async def delete_secret(request: Request) -> Response:
        env, err = env_name(request)
        if err:
            return err
        with state._lock:
            rec = state._secrets.pop((env, request.path_params["name"].upper()), None)
        if rec is None:
            return gh_error(404, "Not Found")
        sb.history.add("github", "secret.delete", name=request.path_params["name"].upper(), environment=env)
        return Response(status_code=204)

    # -- issues -----------------------------------------------------------------------
    def paging(request: Request) -> tuple[int, int] | JSONResponse:
        try:
            per_page = int(request.query_params.get("per_page", "30"))
            page = int(request.query_params.get("page", "1"))
        except ValueError:
            return gh_error(422, "Invalid request: per_page and page must be integers.")
        return max(1, min(per_page, 100)), max(1, page)

    async def list_issues(request: Request) -> JSONResponse:
        q = request.query_params
        wanted = q.get("state", "open")
        if wanted not in ("open", "closed", "all"):
            return gh_error(422, "Validation Failed", errors=[{"resource": "Issue", "field": "state",
                                                              "code": "invalid"}])
        pages = paging(request)
        if isinstance(pages, JSONResponse):
            return pages
        per_page, page = pages
        labels = [x.strip().lower() for x in q.get("labels", "").split(",") if x.strip()]
        with state._lock:
            items = [i for i in state._issues if wanted == "all" or i["state"] == wanted]
            items = [i for i in items if all(lab in [n.lower() for n in i["labels"]] for lab in labels)]
            items.sort(key=lambda i: (i["updated_at" if q.get("sort") == "updated" else "created_at"], i["number"]),
                       reverse=q.get("direction", "desc") != "asc")
            out = [state.issue_json(i) for i in items[(page - 1) * per_page: page * per_page]]
        return JSONResponse(out)

    def find_issue(request: Request) -> dict | None:
        try:
            number = int(request.path_params["number"])
        except ValueError:
            return None
        return next((i for i in state._issues if i["number"] == number), None)

    def label_names(labels: Any) -> list[str] | None:
        if not isinstance(labels, list):
            return None
        names = []
        for label in labels:
            name = label.get("name") if isinstance(label, dict) else label
            if not isinstance(name, str) or not name.strip():
                return None
            names.append(name)
        return list(dict.fromkeys(names))

    async def create_issue(request: Request) -> JSONResponse:
        body = await read_json(request)
        if not isinstance(body, dict) or not isinstance(body.get("title"), str) or not body["title"].strip():
            return gh_error(422, "Validation Failed", errors=[{"resource": "Issue", "field": "title",
                                                              "code": "missing_field"}])
        labels = label_names(body.get("labels", []))
        if labels is None:
            return gh_error(422, "Invalid request.\n\nFor 'labels', is not an array of strings.")
        if body.get("body") is not None and not isinstance(body["body"], str):
            return gh_error(422, "Invalid request.\n\nFor 'body', is not a string.")
        if too_long("Issue", body.get("body")):
            return too_long("Issue", body.get("body"))
        with state._lock:
            issue = state._new_issue(body["title"], body.get("body"), labels)
            out = state.issue_json(issue)
        sb.history.add("github", "issue.create", number=issue["number"], title=issue["title"], labels=labels)
        return JSONResponse(out, 201)

    async def get_issue(request: Request) -> JSONResponse:
        with state._lock:
            issue = find_issue(request)
            return JSONResponse(state.issue_json(issue)) if issue else gh_error(404, "Not Found")

    async def update_issue(request: Request) -> JSONResponse:
        body = await read_json(request)
        if not isinstance(body, dict):
            return gh_error(422, "Invalid request.")
        if "state" in body and body["state"] not in ("open", "closed"):
            return gh_error(422, "Validation Failed", errors=[{"resource": "Issue", "field": "state", "code": "invalid"}])
        if "state_reason" in body and body["state_reason"] not in STATE_REASONS:
            return gh_error(422, "Validation Failed", errors=[{"resource": "Issue", "field": "state_reason",
                                                              "code": "invalid"}])
        labels = label_names(body["labels"]) if "labels" in body else None
        if "labels" in body and labels is None:
            return gh_error(422, "Invalid request.\n\nFor 'labels', is not an array of strings.")
        if too_long("Issue", body.get("body")):
            return too_long("Issue", body.get("body"))
        with state._lock:
            issue = find_issue(request)
            if issue is None:
                return gh_error(404, "Not Found")
            now = stamp()
            for field in ("title", "body"):
                if field in body:
                    issue[field] = body[field]
            if labels is not None:
                issue["labels"] = labels
            new_state = body.get("state", issue["state"])
            if new_state == "closed":
                if issue["state"] != "closed":
                    issue["closed_at"] = now
                issue["state_reason"] = body.get("state_reason") or "completed"
            elif issue["state"] == "closed":
                issue["closed_at"], issue["state_reason"] = None, "reopened"
            issue["state"] = new_state
            issue["updated_at"] = now
            out = state.issue_json(issue)
        sb.history.add("github", "issue.update", number=out["number"], state=out["state"],
                       state_reason=out["state_reason"])
        return JSONResponse(out)

    async def list_comments(request: Request) -> JSONResponse:
        pages = paging(request)
        if isinstance(pages, JSONResponse):
            return pages
        per_page, page = pages
        with state._lock:
            issue = find_issue(request)
            if issue is None:
                return gh_error(404, "Not Found")
            items = state._comments[issue["number"]][(page - 1) * per_page: page * per_page]
            return JSONResponse([dict(c) for c in items])

    async def create_comment(request: Request) -> JSONResponse:
        body = await read_json(request)
        if not isinstance(body, dict) or not isinstance(body.get("body"), str) or not body["body"].strip():
            return gh_error(422, "Validation Failed", errors=[{"resource": "IssueComment", "field": "body",
                                                              "code": "missing_field"}])
        if too_long("IssueComment", body["body"]):
            return too_long("IssueComment", body["body"])
        with state._lock:
            issue = find_issue(request)
            if issue is None:
                return gh_error(404, "Not Found")
            now = stamp()
            comment = {"id": state._id(), "body": body["body"], "user": {"login": "sandbox-ops"},
                       "created_at": now, "updated_at": now,
                       "issue_url": f"{state._repo_api()}/issues/{issue['number']}",
                       "html_url": f"https://github.com/{sb.options.github_repository}/issues/{issue['number']}"}
            state._comments[issue["number"]].append(comment)
            issue["updated_at"] = now
        sb.history.add("github", "issue.comment", number=issue["number"])
        return JSONResponse(comment, 201)

    async def delete_comment(request: Request) -> Response:
        """DELETE /repos/{o}/{r}/issues/comments/{id}: 204, or 404 once it is gone (a second delete)."""
        try:
            wanted = int(request.path_params["comment_id"])
        except ValueError:
            return gh_error(404, "Not Found")
        with state._lock:
            for number, comments in state._comments.items():
                found = next((c for c in comments if c["id"] == wanted), None)
                if found is not None:
                    comments.remove(found)
                    break
            else:
                return gh_error(404, "Not Found")
        sb.history.add("github", "issue.comment.delete", number=number, id=wanted)
        return Response(status_code=204)

    # -- workflows --------------------------------------------------------------------
    async def list_workflows(request: Request) -> JSONResponse:
        return JSONResponse({"total_count": 1, "workflows": [state.workflow()]})

    async def get_workflow(request: Request) -> JSONResponse:
        if not find_workflow(request.path_params["wf"]):
            return gh_error(404, "Not Found")
        return JSONResponse(state.workflow())

    async def toggle_workflow(request: Request) -> Response:
        if not find_workflow(request.path_params["wf"]):
            return gh_error(404, "Not Found")
        action = request.path_params["action"]
        if action not in ("enable", "disable"):
            return gh_error(404, "Not Found")
        with state._lock:
            state._workflow["state"] = "active" if action == "enable" else "disabled_manually"
            state._workflow["updated_at"] = stamp()
        sb.history.add("github", f"workflow.{action}", workflow=WORKFLOW_FILE)
        return Response(status_code=204)

    async def dispatch(request: Request) -> Response:
        if not find_workflow(request.path_params["wf"]):
            return gh_error(404, "Not Found")
        body = await read_json(request)
        if not isinstance(body, dict) or not isinstance(body.get("ref"), str) or not body["ref"]:
            return gh_error(422, "Invalid request.\n\n\"ref\" wasn't supplied.")
        if body["ref"] not in ("main", "refs/heads/main"):
            return gh_error(422, f"No ref found for: {body['ref']}")
        if "inputs" in body and not isinstance(body["inputs"], dict):
            return gh_error(422, "Invalid request.\n\nFor 'inputs', is not an object.")
        with state._lock:
            if state._workflow["state"] != "active":
                return gh_error(422, "Cannot trigger a 'workflow_dispatch' on a disabled workflow")
            run = state._add_run("workflow_dispatch", "queued", None)
        sb.history.add("github", "workflow.dispatch", workflow=WORKFLOW_FILE, run_id=run["id"])
        return Response(status_code=204)

    async def list_runs(request: Request) -> JSONResponse:
        if not find_workflow(request.path_params["wf"]):
            return gh_error(404, "Not Found")
        pages = paging(request)
        if isinstance(pages, JSONResponse):
            return pages
        per_page, page = pages
        q = request.query_params
        with state._lock:
            runs = [dict(r) for r in reversed(state._runs)]
        if q.get("event"):
            runs = [r for r in runs if r["event"] == q["event"]]
        if q.get("status"):
            runs = [r for r in runs if q["status"] in (r["status"], r["conclusion"])]
        return JSONResponse({"total_count": len(runs), "workflow_runs": runs[(page - 1) * per_page: page * per_page]})

    # -- admin ------------------------------------------------------------------------
    async def admin_secret(request: Request) -> JSONResponse:
        name, env = request.path_params["name"], request.query_params.get("environment") or None
        value, meta = state.secret_value(name, env), state.secret_meta(name, env)
        if value is None or meta is None:
            return JSONResponse({"error": f"secret {name} not set"}, 404)
        return JSONResponse({**meta, "environment": env, "value": value, "fingerprint": fingerprint(value)})

    async def admin_workflow(request: Request) -> JSONResponse:
        try:
            body = await read_json(request)
        except BadJson:
            body = None
        if not isinstance(body, dict) or set(body) - {"state", "last_run"}:
            return JSONResponse({"error": "body: {state?, last_run?}"}, 400)
        state.set_workflow(state=body.get("state"), last_run=body.get("last_run"))
        return JSONResponse({"workflow": state.workflow(), "runs": state.runs()})

    async def admin_issues(request: Request) -> JSONResponse:
        return JSONResponse([{**i, "comment_bodies": [c["body"] for c in state.comments(i["number"])]}
                             for i in state.issues()])

    async def unknown(request: Request, exc: Exception) -> JSONResponse:
        return gh_error(getattr(exc, "status_code", 404), "Not Found")

    r = "/repos/{owner}/{repo}"
    wf = f"{r}/actions/workflows/{{wf}}"
    routes = [
        Route("/user", user),
        Route(r, in_repo(repo)),
        Route(f"{r}/environments", in_repo(environments)),
        Route(f"{r}/environments/{{env}}", in_repo(environment)),
        Route(f"{r}/issues", in_repo(list_issues), methods=["GET"]),
        Route(f"{r}/issues", in_repo(create_issue), methods=["POST"]),
        Route(f"{r}/issues/{{number}}", in_repo(get_issue), methods=["GET"]),
        Route(f"{r}/issues/{{number}}", in_repo(update_issue), methods=["PATCH"]),
        Route(f"{r}/issues/{{number}}/comments", in_repo(list_comments), methods=["GET"]),
        Route(f"{r}/issues/{{number}}/comments", in_repo(create_comment), methods=["POST"]),
        Route(f"{r}/issues/comments/{{comment_id}}", in_repo(delete_comment), methods=["DELETE"]),
        Route(f"{r}/actions/workflows", in_repo(list_workflows)),
        Route(wf, in_repo(get_workflow)),
        Route(f"{wf}/{{action:str}}", in_repo(toggle_workflow), methods=["PUT"]),
        Route(f"{wf}/dispatches", in_repo(dispatch), methods=["POST"]),
        Route(f"{wf}/runs", in_repo(list_runs), methods=["GET"]),
    ]
    for base in (f"{r}/actions/secrets", f"{r}/environments/{{env}}/secrets"):
        routes += [
            Route(base, in_repo(list_secrets)),
            Route(f"{base}/public-key", in_repo(public_key)),
            Route(f"{base}/{{name}}", in_repo(get_secret), methods=["GET"]),
            Route(f"{base}/{{name}}", in_repo(put_secret), methods=["PUT"]),
            Route(f"{base}/{{name}}", in_repo(delete_secret), methods=["DELETE"]),
        ]

    async def bad_json(request: Request, exc: Exception) -> JSONResponse:
        return gh_error(400, "Problems parsing JSON")

    app = RateLimitHeaders(Starlette(routes=routes, exception_handlers={404: unknown, 405: unknown,
                                                                        BadJson: bad_json}))
    admin = [
        Route("/admin/github/secret/{name}", admin_secret),
        Route("/admin/github/workflow", admin_workflow, methods=["POST"]),
        Route("/admin/github/issues", admin_issues),
    ]
    return [Service("github", app, admin_routes=admin, state=state)]

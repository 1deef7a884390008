"""GitHub REST API stand-in: one private repository's Actions secrets, issues and one workflow.

Strict where the real API is (API_NOTES.md): no token gets 401 "Requires authentication", a bad
one 401 "Bad credentials", another repository 404; secrets are real libsodium sealed boxes under
a real Curve25519 key (one per repository and one per environment), and a wrong `key_id`, an
undecryptable value, a bad name or more than 48 KB get 422; a PUT answers 201 `{}` when it
created the secret and 204 when it updated it; names keep their case and match whatever the case;
`updated_at` has second precision. The issues list returns pull requests too (items with
`pull_request`), as the real one does. A dispatch with inputs the workflow does not declare is
422; dispatched runs move on to completed; the runs lists honour `branch`, `event`, `status`.
Every response carries `x-ratelimit-*` headers. Missing `Accept` / `X-GitHub-Api-Version`
headers are tolerated (so is the real API).

Two listeners share one state: "github" (plain HTTP, the tool's GITHUB_API_URL) and "github_tls"
(HTTPS with the sandbox's own CA, tls.py), for the real `gh` as a GitHub Enterprise host: REST
under /api/v3, GraphQL at /api/graphql (github_graphql.py). Both record as "github".

    GET    /user
    GET    /repos/{o}/{r}
    GET    /repos/{o}/{r}/environments[/{env}]
    GET    /repos/{o}/{r}/actions/secrets[/public-key|/{NAME}]    PUT|DELETE .../secrets/{NAME}
    GET    /repos/{o}/{r}/environments/{env}/secrets[/public-key|/{NAME}]   PUT|DELETE likewise
    issues and comments: github_issues.py
    GET    /repos/{o}/{r}/actions/workflows[/{id or file}]
    PUT    .../actions/workflows/{wf}/enable | /disable   204
    POST   .../actions/workflows/{wf}/dispatches {ref, inputs}   204; records a queued run
    GET    .../actions/workflows/{wf}/runs, /repos/{o}/{r}/actions/runs ?per_page=&event=&status=&branch=

State and seeds: github_state.py.

Admin routes (sandbox only):
    GET  /admin/github/secret/{name}?environment=   {name, value, fingerprint, created_at, updated_at}
    POST /admin/github/workflow  {state?, last_run?: {status, conclusion, event, created_at}}
    GET  /admin/github/issues    every issue and PR with its comments

State helpers for tests: secret_value(name, environment=None), secret_meta(name, environment=None),
put_secret(name, value, environment=None), issues(), comments(number), workflow(), runs(),
set_workflow(state=..., last_run=...), add_user(login) -> a token that may read issues and comment
(its comments carry `user.login`, as GitHub's do; `GET /user` answers its login).
"""

from __future__ import annotations

import json
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from ..core.session import fingerprint
from .core import Service
from .github_http import BadJson, EnterpriseHost, RateLimitHeaders, gh_error, paging, read_json
from .github_issues import issue_routes
from .github_state import MAX_SECRET_BYTES, NAME_RE, OWNER, WORKFLOW_FILE, GitHubState, stamp


def build(sb: Any) -> list[Service]:
    vercel = sb.services.get("vercel")
    if vercel is not None:
        seed = vercel.state.seed_value
    else:
        from .vercel import encode_session, old_session

        seed = encode_session(old_session())
    state = GitHubState(sb, seed)

    def login_of(request: Request) -> str | None:
        """The user whose token the request carries (the owner's, or one added by add_user)."""
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        return state.login_for(token.strip()) if scheme.lower() in ("bearer", "token") else None

    def token_state(request: Request, anyone: bool = False) -> str:
        """"ok" for the owner's token (`anyone`: any known user's), else "missing" or "bad"."""
        if not request.headers.get("authorization", ""):
            return "missing"
        login = login_of(request)
        return "ok" if login == OWNER or (anyone and login) else "bad"

    def repo_error(request: Request, anyone: bool = False) -> JSONResponse | None:
        auth = token_state(request, anyone)
        if auth == "bad":
            if login_of(request):   # another user's token: the owner's secrets and workflows are not theirs
                return gh_error(404, "Not Found")
            return gh_error(401, "Bad credentials")
        if auth == "missing":
            return gh_error(401, "Requires authentication")
        owner, repo = request.path_params["owner"], request.path_params["repo"]
        if f"{owner}/{repo}".lower() != sb.options.github_repository.lower():
            return gh_error(404, "Not Found")   # a private repo is invisible without access
        return None

    def in_repo(handler: Any, anyone: bool = False) -> Any:
        """Every /repos/{owner}/{repo} route: 401 for a bad token, 404 for a repo it cannot see
        (`anyone`: the issue routes a collaborator with read access may use too)."""
        async def checked(request: Request) -> Response:
            return repo_error(request, anyone) or await handler(request)
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
        auth = token_state(request, anyone=True)
        if auth == "missing":
            return gh_error(401, "Requires authentication")
        if auth == "bad":
            return gh_error(401, "Bad credentials")
        login = login_of(request)
        return JSONResponse({"login": login, "id": 4242 if login == OWNER else 5000 + len(login), "type": "User",
                             "name": "Sandbox Ops" if login == OWNER else login})

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
            items = [{"name": r["name"], "created_at": r["created_at"], "updated_at": r["updated_at"]}
                     for (e, _), r in sorted(state._secrets.items(), key=lambda kv: kv[0][1]) if e == env]
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
        sb.history.add("github", "secret.delete", name=rec["name"], environment=env)
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
        if body.get("inputs"):  # the workflow's workflow_dispatch declares no inputs
            return gh_error(422, f"Unexpected inputs provided: {json.dumps(sorted(body['inputs']))}")
        with state._lock:
            if state._workflow["state"] != "active":
                return gh_error(422, "Cannot trigger a 'workflow_dispatch' on a disabled workflow")
            run = state._add_run("workflow_dispatch", "queued", None)
        sb.history.add("github", "workflow.dispatch", workflow=WORKFLOW_FILE, run_id=run["id"])
        return Response(status_code=204)

    async def list_runs(request: Request) -> JSONResponse:
        """The workflow's runs, or the repository's (one workflow here), filtered as GitHub does."""
        if "wf" in request.path_params and not find_workflow(request.path_params["wf"]):
            return gh_error(404, "Not Found")
        pages = paging(request)
        if isinstance(pages, JSONResponse):
            return pages
        per_page, page = pages
        q = request.query_params
        runs = state.runs()
        for field, key in (("event", "event"), ("branch", "head_branch")):
            if q.get(field):
                runs = [r for r in runs if r[key] == q[field]]
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
        Route(f"{r}/actions/workflows", in_repo(list_workflows)),
        Route(wf, in_repo(get_workflow)),
        Route(f"{wf}/{{action:str}}", in_repo(toggle_workflow), methods=["PUT"]),
        Route(f"{wf}/dispatches", in_repo(dispatch), methods=["POST"]),
        Route(f"{wf}/runs", in_repo(list_runs), methods=["GET"]),
        Route(f"{r}/actions/runs", in_repo(list_runs), methods=["GET"]),
    ]
    routes += issue_routes(sb, state, r, in_repo, login_of)
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

    from .github_graphql import build_graphql

    routes.append(Route("/api/graphql", build_graphql(sb, state, token_state), methods=["POST"]))
    app = EnterpriseHost(RateLimitHeaders(Starlette(routes=routes, exception_handlers={404: unknown, 405: unknown,
                                                                        BadJson: bad_json})))
    admin = [
        Route("/admin/github/secret/{name}", admin_secret),
        Route("/admin/github/workflow", admin_workflow, methods=["POST"]),
        Route("/admin/github/issues", admin_issues),
    ]
    return [Service("github", app, admin_routes=admin, state=state),
            Service("github_tls", app, state=state, tls=True)]

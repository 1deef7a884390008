"""GitHub REST API stand-in: one private repository's Actions secrets, issues and one workflow.

Strict where the real API is (its public REST documentation): no token gets 401 "Requires
authentication", a bad one 401 "Bad credentials", another repository 404 (another user's token
too, outside the issue routes). Secrets: github_secrets.py (real sealed boxes, 422s as GitHub's);
issues and comments: github_issues.py (pull requests listed too); the workflow and its runs:
github_workflows.py. Every response carries `x-ratelimit-*` headers. Missing `Accept` /
`X-GitHub-Api-Version` headers are tolerated (so is the real API).

Two listeners share one state: "github" (plain HTTP, the tool's GITHUB_API_URL) and "github_tls"
(HTTPS with the sandbox's own CA, tls.py), for the real `gh` as a GitHub Enterprise host: REST
under /api/v3, GraphQL at /api/graphql (github_graphql.py). Both record as "github".

    GET    /user
    GET    /repos/{o}/{r}
    GET    /repos/{o}/{r}/environments[/{env}]
    secrets: github_secrets.py;  issues and comments: github_issues.py;  workflows: github_workflows.py

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

from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from ..core.session import fingerprint
from .core import Service
from .github_http import BadJson, EnterpriseHost, RateLimitHeaders, gh_error, read_json
from .github_issues import issue_routes
from .github_secrets import secret_routes
from .github_state import OWNER, GitHubState
from .github_workflows import workflow_routes


def build(sb: Any) -> list[Service]:
    vercel = sb.services.get("vercel")
    if vercel is not None:
        seed = vercel.state.seed_value
    else:
        from .vercel_state import encode_session, old_session

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
    routes = [
        Route("/user", user),
        Route(r, in_repo(repo)),
        Route(f"{r}/environments", in_repo(environments)),
        Route(f"{r}/environments/{{env}}", in_repo(environment)),
        *workflow_routes(sb, state, r, in_repo),
    ]
    routes += issue_routes(sb, state, r, in_repo, login_of)
    routes += secret_routes(sb, state, r, in_repo, env_name)

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

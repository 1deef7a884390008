"""The GitHub stand-in's Actions secrets routes, for the repository and for each environment.

    GET    /repos/{o}/{r}/actions/secrets[/public-key|/{NAME}]    PUT|DELETE .../secrets/{NAME}
    GET    /repos/{o}/{r}/environments/{env}/secrets[/public-key|/{NAME}]   PUT|DELETE likewise

Secrets are real libsodium sealed boxes under a real Curve25519 key (one per repository and one
per environment, github_state.py): a wrong `key_id`, an undecryptable value, a bad name, a name
starting with GITHUB_ or more than 48 KB get 422; a PUT answers 201 `{}` when it created the
secret and 204 when it updated it; names keep their case and match whatever the case.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from .github_http import gh_error, read_json
from .github_state import MAX_SECRET_BYTES, NAME_RE, GitHubState


def secret_routes(sb: Any, state: GitHubState, repo_path: str, in_repo: Any, env_name: Any) -> list[Route]:
    """`env_name(request)`: (the environment named in the path or None, else a 404 to answer)."""
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

    routes: list[Route] = []
    for base in (f"{repo_path}/actions/secrets", f"{repo_path}/environments/{{env}}/secrets"):
        routes += [
            Route(base, in_repo(list_secrets)),
            Route(f"{base}/public-key", in_repo(public_key)),
            Route(f"{base}/{{name}}", in_repo(get_secret), methods=["GET"]),
            Route(f"{base}/{{name}}", in_repo(put_secret), methods=["PUT"]),
            Route(f"{base}/{{name}}", in_repo(delete_secret), methods=["DELETE"]),
        ]
    return routes

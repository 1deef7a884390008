"""The GitHub stand-in's Actions workflow routes: the one workflow and its runs.

    GET    /repos/{o}/{r}/actions/workflows[/{id or file}]
    PUT    .../actions/workflows/{wf}/enable | /disable   204
    POST   .../actions/workflows/{wf}/dispatches {ref, inputs}   204; records a queued run
    GET    .../actions/workflows/{wf}/runs, /repos/{o}/{r}/actions/runs ?per_page=&event=&status=&branch=

A dispatch with inputs the workflow does not declare is 422, and so is one on a disabled workflow
or another ref than main; dispatched runs move on to completed (github_state.py); the runs lists
honour `branch`, `event`, `status`.
"""

from __future__ import annotations

import json
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from .github_http import gh_error, paging, read_json
from .github_state import WORKFLOW_FILE, GitHubState, stamp


def workflow_routes(sb: Any, state: GitHubState, repo_path: str, in_repo: Any) -> list[Route]:
    """The workflow routes, each behind `in_repo` (the owner's token, the sandbox's repository)."""
    def find_workflow(ref: str) -> bool:
        return ref in (WORKFLOW_FILE, str(state._workflow["id"]), state._workflow["path"])

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

    r = repo_path
    wf = f"{r}/actions/workflows/{{wf}}"
    return [
        Route(f"{r}/actions/workflows", in_repo(list_workflows)),
        Route(wf, in_repo(get_workflow)),
        Route(f"{wf}/{{action:str}}", in_repo(toggle_workflow), methods=["PUT"]),
        Route(f"{wf}/dispatches", in_repo(dispatch), methods=["POST"]),
        Route(f"{wf}/runs", in_repo(list_runs), methods=["GET"]),
        Route(f"{r}/actions/runs", in_repo(list_runs), methods=["GET"]),
    ]

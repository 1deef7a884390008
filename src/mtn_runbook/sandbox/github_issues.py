"""The GitHub stand-in's issue routes: list (pull requests included, as the REST API does),
create, read, edit and close, and comments (bodies over 65,536 characters: 422)."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from .github_http import gh_error, paging, read_json, too_long
from .github_state import OWNER, STATE_REASONS, stamp


def issue_routes(sb: Any, state: Any, repo_path: str, in_repo: Any, login_of: Any) -> list[Route]:
    """`login_of(request)`: whose token it is. The owner does everything; another user (a
    collaborator with read access) reads issues and comments, and deletes only their own comments."""
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
            comment = {"id": state._id(), "body": body["body"], "user": {"login": login_of(request)},
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
                    if login_of(request) not in (OWNER, found["user"]["login"]):
                        return gh_error(403, "Must have admin rights to Repository.")
                    comments.remove(found)
                    break
            else:
                return gh_error(404, "Not Found")
        sb.history.add("github", "issue.comment.delete", number=number, id=wanted)
        return Response(status_code=204)

    r = repo_path
    return [
        Route(f"{r}/issues", in_repo(list_issues, anyone=True), methods=["GET"]),
        Route(f"{r}/issues", in_repo(create_issue), methods=["POST"]),
        Route(f"{r}/issues/{{number}}", in_repo(get_issue, anyone=True), methods=["GET"]),
        Route(f"{r}/issues/{{number}}", in_repo(update_issue), methods=["PATCH"]),
        Route(f"{r}/issues/{{number}}/comments", in_repo(list_comments, anyone=True), methods=["GET"]),
        Route(f"{r}/issues/{{number}}/comments", in_repo(create_comment, anyone=True), methods=["POST"]),
        Route(f"{r}/issues/comments/{{comment_id}}", in_repo(delete_comment, anyone=True), methods=["DELETE"]),
    ]

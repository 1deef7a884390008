"""The small GraphQL subset the real `gh` 2.23 uses for `issue list/create` and for the default
branch in `workflow run` without `--ref` (POST /api/graphql on the GitHub stand-in).

Operations are recognised by the names gh gives them; anything else gets a GraphQL error, not a
guess. Like the real API, GraphQL lists issues only (never pull requests) and a label that does
not exist resolves to null.

    query Issue_fields                    which Issue fields exist (gh asks before listing)
    query RepositoryInfo                  id, owner, hasIssuesEnabled, defaultBranchRef
    query RepositoryResolveMetadataIDs    label(name:) -> {id, name} or null
    query IssueList                       repository.issues(states:, first:), newest first
    query IssueSearch                     search(query: "label:x repo:o/r state:open type:issue")
    mutation IssueCreate                  createIssue(input: {repositoryId, title, body, labelIds})
"""

from __future__ import annotations

import json
import re
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse

ISSUE_FIELDS = ("assignees", "author", "body", "closed", "closedAt", "comments", "createdAt", "id", "labels",
                "milestone", "number", "projectCards", "projectItems", "reactionGroups", "state", "stateReason",
                "title", "updatedAt", "url")
REPO_ID = "R_kgDOSandbox"
OPERATION = re.compile(r"\b(query|mutation)\s+(\w+)")
LABEL_ALIAS = re.compile(r'(\w+):\s*label\(name:\s*"((?:[^"\\]|\\.)*)"\)')


def failure(message: str, kind: str = "NOT_SUPPORTED") -> JSONResponse:
    return JSONResponse({"data": None, "errors": [{"type": kind, "message": message}]})


def build_graphql(sb: Any, state: Any, token_state: Any) -> Any:
    owner, name = sb.options.github_repository.split("/", 1)

    def repository() -> dict:
        return {"id": REPO_ID, "name": name, "owner": {"login": owner}, "hasIssuesEnabled": True,
                "description": "", "hasWikiEnabled": False, "viewerPermission": "ADMIN",
                "defaultBranchRef": {"name": "main"}, "parent": None, "mergeCommitAllowed": True,
                "rebaseMergeAllowed": True, "squashMergeAllowed": True}

    def known_labels() -> set[str]:
        return {"mtn-session"} | {label for i in state._issues for label in i["labels"]}

    def node(issue: dict) -> dict:
        labels = [{"id": f"LA_{n}", "name": n, "description": "", "color": "d73a4a"} for n in issue["labels"]]
        reason = issue.get("state_reason")
        return {"id": f"I_{issue['id']}", "number": issue["number"], "title": issue["title"],
                "body": issue.get("body") or "", "state": issue["state"].upper(),
                "stateReason": reason.upper() if reason else None, "updatedAt": issue["updated_at"],
                "createdAt": issue["created_at"], "closedAt": issue.get("closed_at"),
                "url": f"https://github.com/{sb.options.github_repository}/issues/{issue['number']}",
                "labels": {"nodes": labels, "totalCount": len(labels)}}

    def issues(states: list[str], labels: list[str], limit: int) -> list[dict]:
        with state._lock:
            found = [i for i in state._issues if "pull_request" not in i and i["state"].upper() in states
                     and all(lab.lower() in [n.lower() for n in i["labels"]] for lab in labels)]
            found.sort(key=lambda i: (i["created_at"], i["number"]), reverse=True)
            return [node(i) for i in found[:max(0, limit)]]

    def page(nodes: list[dict], total: int) -> dict:
        return {"totalCount": total, "issueCount": total, "nodes": nodes,
                "pageInfo": {"hasNextPage": False, "endCursor": None}}

    def issue_list(variables: dict) -> dict:
        states = [s.upper() for s in (variables.get("states") or ["OPEN"])]
        found = issues(states, [], int(variables.get("limit") or 30))
        return {"repository": {"hasIssuesEnabled": True, "issues": page(found, len(found))}}

    def issue_search(variables: dict) -> dict | JSONResponse:
        terms = dict(t.split(":", 1) for t in str(variables.get("query", "")).split() if ":" in t)
        labels = [t.split(":", 1)[1].strip('"') for t in str(variables.get("query", "")).split() if t.startswith("label:")]
        if terms.get("repo", "").lower() != sb.options.github_repository.lower():
            return failure("The listed users and repositories cannot be searched.", "INVALID_SEARCH")
        if terms.get("type", terms.get("is")) not in ("issue", None):
            return {"repository": {"hasIssuesEnabled": True}, "search": page([], 0)}
        states = {"open": ["OPEN"], "closed": ["CLOSED"]}.get(terms.get("state", ""), ["OPEN", "CLOSED"])
        found = issues(states, labels, int(variables.get("limit") or 30))
        return {"repository": {"hasIssuesEnabled": True}, "search": page(found, len(found))}

    def issue_create(variables: dict) -> dict | JSONResponse:
        given = variables.get("input") or {}
        if given.get("repositoryId") != REPO_ID:
            return failure(f"Could not resolve to a node with the global id of '{given.get('repositoryId')}'",
                           "NOT_FOUND")
        title = given.get("title")
        if not isinstance(title, str) or not title.strip():
            return failure("Title can't be blank", "UNPROCESSABLE")
        labels = []
        for label_id in given.get("labelIds") or []:
            if not str(label_id).startswith("LA_") or label_id[3:] not in known_labels():
                return failure(f"Could not resolve to a node with the global id of '{label_id}'", "NOT_FOUND")
            labels.append(label_id[3:])
        with state._lock:
            issue = state._new_issue(title, given.get("body"), labels)
            out = node(issue)
        sb.history.add("github", "issue.create", number=issue["number"], title=title, labels=labels, via="graphql")
        return {"createIssue": {"issue": {"id": out["id"], "url": out["url"], "number": out["number"]}}}

    def resolve_labels(query: str) -> dict:
        known = known_labels()
        return {"repository": {alias: ({"id": f"LA_{label}", "name": label} if label in known else None)
                               for alias, label in LABEL_ALIAS.findall(query)}}

    async def graphql(request: Request) -> JSONResponse:
        auth = token_state(request)
        if auth != "ok":
            message = "Requires authentication" if auth == "missing" else "Bad credentials"
            return JSONResponse({"message": message, "documentation_url": "https://docs.github.com/graphql"}, 401)
        try:
            body = json.loads(await request.body())
        except ValueError:
            return JSONResponse({"message": "Problems parsing JSON"}, 400)
        query = body.get("query", "") if isinstance(body, dict) else ""
        variables = (body.get("variables") if isinstance(body, dict) else None) or {}
        match = OPERATION.search(query)
        operation = match.group(2) if match else ""
        if operation == "Issue_fields":
            data: Any = {"Issue": {"fields": [{"name": n} for n in ISSUE_FIELDS]}}
        elif operation == "RepositoryInfo":
            data = {"repository": repository()}
        elif operation == "RepositoryResolveMetadataIDs":
            data = resolve_labels(query)
        elif operation == "IssueList":
            data = issue_list(variables)
        elif operation == "IssueSearch":
            data = issue_search(variables)
        elif operation == "IssueCreate":
            data = issue_create(variables)
        else:
            return failure(f"sandbox: GraphQL operation {operation or '(anonymous)'} is not served by the stand-in")
        return data if isinstance(data, JSONResponse) else JSONResponse({"data": data})

    return graphql

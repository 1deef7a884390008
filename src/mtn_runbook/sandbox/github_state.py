"""The GitHub stand-in's state: one private repository's secrets (under real Curve25519 keys),
issues, comments, one workflow and its runs (github.py and its route modules serve them over HTTP).

Seeds: repo secret MTN_SESSION holding the same old, dead session as the Vercel stand-in;
environment "production" (no secrets); workflow validate-mtn-session.yml, active, with a
successful scheduled run two hours ago; PR #1 (open, label mtn-session) and issue #2 (closed,
label mtn-session). A dispatched run is queued, in_progress after a third of
options.run_seconds, and completed (success) after all of it.
"""

from __future__ import annotations

import base64
import binascii
import re
import secrets
import threading
import time
from datetime import datetime, timedelta, timezone
from typing import Any

from ..core.session import fingerprint

DOCS = "https://docs.github.com/rest"
NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
MAX_SECRET_BYTES = 48 * 1024
WORKFLOW_FILE = "validate-mtn-session.yml"
STATE_REASONS = ("completed", "not_planned", "reopened", None)
MAX_BODY = 65536   # issue and comment bodies: longer is 422 "body is too long (maximum is 65536 characters)"
OWNER = "sandbox-ops"   # the login of options.github_token: the repository's owner


def stamp(moment: datetime | None = None) -> str:
    """GitHub's timestamps: ISO 8601, UTC, second precision."""
    moment = moment or datetime.now(timezone.utc)
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


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
        self._users: dict[str, str] = {sb.options.github_token: OWNER}   # token -> login
        self._next_id = 1000
        now = datetime.now(timezone.utc)
        self._secrets[(None, "MTN_SESSION")] = {"name": "MTN_SESSION", "value": seed_value, "created_at": stamp(now - timedelta(days=30)),
                                                "updated_at": stamp(now - timedelta(days=3))}
        self._workflow = {"id": 61234567, "name": "Validate MTN session", "state": "active",
                          "path": f".github/workflows/{WORKFLOW_FILE}",
                          "created_at": stamp(now - timedelta(days=90)), "updated_at": stamp(now - timedelta(days=9))}
        self._runs: list[dict] = []   # oldest first
        self._running: dict[int, tuple[float, float]] = {}   # dispatched run id -> (created, seconds)
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
                 "state_reason": None, "locked": False, "labels": labels, "user": {"login": OWNER},
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
        if status == "queued":  # a runner picks it up: in_progress after a third, completed at the end
            self._running[run["id"]] = (time.time(), max(0.0, float(self.sb.options.run_seconds)))
        return run

    def _advance(self) -> None:
        """Move dispatched runs on: queued -> in_progress -> completed (success)."""
        now = time.time()
        for run in self._runs:
            started, seconds = self._running.get(run["id"], (None, 0.0))
            if started is None:
                continue
            elapsed = now - started
            if elapsed >= seconds:
                run.update(status="completed", conclusion="success", updated_at=stamp())
                del self._running[run["id"]]
            elif elapsed >= seconds / 3 and run["status"] == "queued":
                run.update(status="in_progress", updated_at=stamp())

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
        key = (environment, name.upper())   # one secret per name whatever its case; it keeps the case it was made with
        now = stamp()
        created = key not in self._secrets
        rec = self._secrets.setdefault(key, {"created_at": now, "name": name})
        rec.update(value=value, updated_at=now)
        self.sb.history.add("github", "secret.put", name=rec["name"], environment=environment,
                            fingerprint=fingerprint(value), created=created)
        return created

    def login_for(self, token: str) -> str | None:
        """Whose token this is (GitHub records it as `user.login` on what the token writes)."""
        for known, login in self._users.items():
            if secrets.compare_digest(token, known):
                return login
        return None

    # -- helpers for tests ------------------------------------------------------------
    def add_user(self, login: str) -> str:
        """Another GitHub user who can read this repository's issues and comment on them (a
        collaborator with read access): returns their token. Secrets and workflows stay the owner's."""
        token = f"ghp_{secrets.token_hex(18)}"
        with self._lock:
            self._users[token] = login
        return token

    def secret_value(self, name: str, environment: str | None = None) -> str | None:
        with self._lock:
            rec = self._secrets.get((environment, name.upper()))
            return None if rec is None else rec["value"]

    def secret_meta(self, name: str, environment: str | None = None) -> dict | None:
        with self._lock:
            rec = self._secrets.get((environment, name.upper()))
            return None if rec is None else {"name": rec["name"], "created_at": rec["created_at"],
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
            self._advance()
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
                "secrets": [{"environment": env, "name": r["name"], "created_at": r["created_at"],
                             "updated_at": r["updated_at"], "fingerprint": fingerprint(r["value"])}
                            for (env, _), r in self._secrets.items()],
                "environments": list(self.environments),
                "issues": [{**self.issue_json(i), "comment_bodies": [c["body"] for c in self._comments[i["number"]]]}
                           for i in self._issues],
                "workflow": self.workflow_json(),
                "runs": [dict(r) for r in reversed(self._runs)],
            }

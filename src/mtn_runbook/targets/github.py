"""MTN_SESSION as a GitHub Actions secret: the repository's, and environments' when configured.

The value is sealed (libsodium sealed box, PyNaCl) against the public key GitHub hands out,
then PUT. GitHub never returns a secret's value, so every push puts again, and the read-back is
the secret's `updated_at`, which has whole-second precision (see `verify`).

Requests per run: the first look (`holding`) GETs the secret's metadata and the public key at
once; the push's read GETs the metadata again (the two-operator guard: has `updated_at` moved
since the look?), seals with the key the look fetched (one key per run), PUTs, and GETs the
metadata once to read it back.
"""

from __future__ import annotations

import re
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from typing import Any

import httpx

from ..core import apis
from ..core.config import Settings
from ..core.errors import ConfigError, ServiceError
from ..core.http import Api, api_message
from .entry import Entry
from .http_target import HttpTarget
from .target import Current

NAME = re.compile(r"(?!GITHUB_)[A-Z_][A-Z0-9_]*")


def github_targets(settings: Settings, entry: Entry) -> list["GithubTarget"]:
    """One target per secret location of a `kind: github` entry."""
    raw = entry.raw
    repository = entry.field_or("repository", settings, "GITHUB_REPOSITORY")
    if repository.count("/") != 1 or not all(repository.split("/")):
        raise entry.error(f"repository {repository!r} is not owner/repo")
    secret = str(raw.get("secret") or "MTN_SESSION")
    if not NAME.fullmatch(secret):
        raise entry.error(f"secret name {secret!r}: use A-Z, 0-9 and _, not starting with a digit or GITHUB_")
    scopes: list[str | None] = [None] if raw.get("repository_secret", True) else []
    scopes += list(raw.get("environments") or [])
    if not scopes:
        raise entry.error("nothing to push: repository_secret is false and no environments are listed")
    label = str(raw.get("name") or "")
    return [GithubTarget(settings, repository=repository, environment=env, secret=secret,
                         name=f"{label} ({env})" if label and env else label) for env in scopes]


def _when(text: Any) -> datetime | None:
    if not isinstance(text, str) or not text:
        return None
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def _server_time(response: httpx.Response) -> datetime | None:
    try:
        return parsedate_to_datetime(response.headers["date"])
    except (KeyError, TypeError, ValueError):
        return None


class GithubTarget(HttpTarget):
    kind = "github"
    look_in_check = True

    def __init__(self, settings: Settings, *, repository: str, environment: str | None = None,
                 secret: str = "MTN_SESSION", name: str = ""):
        self.settings, self.repository, self.environment, self.secret = settings, repository, environment, secret
        scope = f"environment {environment}" if environment else "repository secret"
        self.name = name or f"github {repository} ({scope})"
        base = f"/repos/{repository}"
        self.base = f"{base}/environments/{environment}/secrets" if environment else f"{base}/actions/secrets"
        self._key: dict | None = None   # the public key: fetched once a run (it changes only on rotation)

    def _what(self) -> str:
        where = f"environment {self.environment} of {self.repository}" if self.environment else self.repository
        return f"secret {self.secret} of {where}"

    def describe(self) -> str:
        return f"set {self._what()}"

    def preflight(self) -> str:
        try:
            current = self.read("")
        finally:
            self.close()
        return f"secrets readable; {self.secret} {'exists' if current.holds is None else 'not set yet'}"

    def open_api(self) -> Api:
        return apis.github(self.settings, name=self.name)

    def _meta(self) -> tuple[dict | None, httpx.Response]:
        response = self.api.get(f"{self.base}/{self.secret}", expect=(200, 404))
        return (response.json() if response.status_code == 200 else None), response

    def holding(self) -> "Holding":
        """The secret's updated_at (GitHub never gives a value back): targets/holding.py. The public
        key comes alongside (both at once): the push seals with it without asking again."""
        meta, _ = self._meta_and_key()
        return self._holding(meta)

    def _meta_and_key(self) -> tuple[dict | None, httpx.Response]:
        """The secret's metadata, with the public key fetched alongside unless this run has it."""
        if self._key is not None:
            return self._meta()
        from concurrent.futures import ThreadPoolExecutor

        self.api  # one client for both threads
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="github-key") as pool:
            key = pool.submit(self._public_key)
            found = self._meta()
            key.result()
        return found

    @staticmethod
    def _holding(meta: dict | None) -> "Holding":
        from .holding import Holding

        if meta is None:
            return Holding(stamp="absent")
        return Holding(stamp=str(meta.get("updated_at")), updated=meta.get("updated_at"))

    def _public_key(self) -> dict:
        if self._key is not None:
            return self._key
        key = self.api.get(f"{self.base}/public-key", expect=(200, 404))
        if key.status_code == 404:
            env = f", that environment {self.environment} exists" if self.environment else ""
            raise ConfigError(f"{self.name}: GET public-key answered 404 {api_message(key)}".rstrip(),
                              f"check GITHUB_REPOSITORY (owner/repo){env} and that GITHUB_TOKEN can see it")
        self._key = key.json()
        return self._key

    def read(self, value: str) -> Current:
        # the guard's read, and the plan's; the key only when the run's first look did not fetch it
        meta, response = self._meta_and_key()
        state = {"key": self._public_key(), "before": _when(meta and meta.get("updated_at")),
                 "read_at": _server_time(response)}
        if meta is None:
            return Current(False, f"create {self._what()}", state, before=self._holding(meta))
        # GitHub never gives a secret's value back: whether it already holds it cannot be known
        return Current(None, f"update {self._what()} (last updated {meta.get('updated_at')})", state,
                       before=self._holding(meta))

    def put(self, value: str, current: Current) -> None:
        from nacl.encoding import Base64Encoder
        from nacl.public import PublicKey, SealedBox

        key = current.state["key"]
        try:
            box = SealedBox(PublicKey(key["key"].encode("ascii"), Base64Encoder))
        except Exception:
            raise ServiceError(f"{self.name}: the public key GitHub returned is not a Curve25519 key",
                               "retry; if it persists, check GITHUB_API_URL") from None
        sealed = Base64Encoder.encode(box.encrypt(value.encode("utf-8"))).decode("ascii")
        self.api.put(f"{self.base}/{self.secret}", json={"encrypted_value": sealed, "key_id": key["key_id"]},
                     expect=(201, 204), idempotent=True)

    def verify(self, value: str, current: Current) -> str:
        meta, _ = self._meta()  # the read-back, also what the recap reports
        current.after = self._holding(meta)
        after = _when(meta and meta.get("updated_at"))
        if after is None:
            raise ServiceError(f"{self.name}: secret {self.secret} is not there after the PUT",
                               "retry; if it persists, check the token's rights on Actions secrets")
        before, read_at = current.state["before"], current.state["read_at"]
        if before is None or after > before:
            return "stored (updated_at moved)"
        # updated_at has whole seconds. Our PUT came after the read, so a real update is stamped
        # at or after the server's clock at the read (`read_at`, also whole seconds). If the old
        # stamp is older than that, an unmoved updated_at means the PUT did not land. If it is
        # from that same second (a push a moment ago), equal stamps cannot tell the two apart;
        # the PUT's 201/204 is the evidence then, so >= is accepted.
        if after == before and (read_at is None or before >= read_at.replace(microsecond=0)):
            return "stored (updated_at in the same second as before; the PUT was accepted)"
        raise ServiceError(f"{self.name}: secret {self.secret}'s updated_at did not move after the PUT",
                           "retry; if it persists, check GitHub's status page")

    def activate(self) -> str:
        return ""  # workflows read secrets when a run starts; a run already queued keeps the old value

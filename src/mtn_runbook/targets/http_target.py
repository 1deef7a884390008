"""What the Vercel, GitHub and Coolify targets share: one API client each, opened at the first
call (a `--check` of another kind never opens it) and closed with the target; and `read_found`,
a GET whose 404 means a wrong project or application id."""

from __future__ import annotations

from typing import Any

from ..core.config import Settings
from ..core.errors import ConfigError
from ..core.http import Api, api_message


class HttpTarget:
    settings: Settings
    name: str
    _api: Api | None = None

    def open_api(self) -> Api:
        """This kind's client (core/apis.py), named after the target in its error lines."""
        raise NotImplementedError

    @property
    def api(self) -> Api:
        if self._api is None:
            self._api = self.open_api()
        return self._api

    def close(self) -> None:
        if self._api is not None:
            self._api.close()
            self._api = None


def read_found(api: Any, name: str, path: str, hint: str) -> Any:
    """GET `path` on a platform's API; a 404 means a wrong project or application id (configuration)."""
    response = api.get(path, expect=(200, 404))
    if response.status_code == 404:
        raise ConfigError(f"{name}: GET {path} answered 404 {api_message(response)}".rstrip(), hint)
    return response.json()

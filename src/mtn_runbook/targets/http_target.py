"""What the Vercel, GitHub and Coolify targets share: one API client each, opened at the first
call (a `--check` of another kind never opens it) and closed with the target."""

from __future__ import annotations

from ..core.config import Settings
from ..core.http import Api


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

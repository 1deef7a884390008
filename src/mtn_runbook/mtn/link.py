"""`--link`: the login runs in a headless browser and the person drives it through a one-time page.

sso.login takes a `Link` and, instead of a browser window, opens a headless one (VIEWPORT),
confines it to the MTN origins, and wraps its wait in `serve()`: the page and the relay run for
as long as the wait does and stop when it ends, whether it succeeded, timed out or was
interrupted. How the link reaches the person (printed, the webhook) is the caller's `announce`.
"""

from __future__ import annotations

import contextlib
import socket
import time
from typing import Any, Callable, Iterator

from ..core.config import Settings
from ..core.errors import ConfigError
from .link_page import LinkPage, bind
from .relay import VIEWPORT, Relay, confine, mtn_origins

WAITING = "Solve the reCAPTCHA in the picture below; the tool fills in and submits the form."
SUCCEEDED = "Logged in: the tool carries on. You can close this page."
FAILED = "The login ended without success (see the terminal). This link no longer works."


class Link:
    context_options = {"viewport": VIEWPORT}

    def __init__(self, settings: Settings, announce: Callable[[str, float], None]):
        try:
            port = int(str(settings.link_port).strip())
            if not 0 <= port <= 65535:
                raise ValueError
        except ValueError:
            raise ConfigError(f"MTN_LINK_PORT {settings.link_port!r} is not a port number",
                              "set it to 1-65535, or 0 for any free port") from None
        self.host, self.port, self.announce = settings.link_bind.strip() or "127.0.0.1", port, announce
        self._origins = mtn_origins(settings.mtn_sso_login_url, settings.mtn_api_base_url)
        self._sock: socket.socket | None = bind(self.host, port)  # a busy port fails before any browser

    def public_host(self) -> str:
        """The host to print: the bind address, or this machine's name when bound to every address."""
        if self.host in ("0.0.0.0", "::", ""):
            return socket.gethostname()
        return f"[{self.host}]" if ":" in self.host else self.host

    def confine(self, page: Any) -> None:
        confine(page, self._origins)

    def close(self) -> None:
        if self._sock is not None:
            self._sock.close()
            self._sock = None

    def __enter__(self) -> "Link":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    @contextlib.contextmanager
    def serve(self, page: Any, timeout: float) -> Iterator[LinkPage]:
        sock, self._sock = self._sock or bind(self.host, self.port), None
        relay: Relay | None = None
        server = LinkPage(sock, deadline=time.monotonic() + timeout, waiting_for=WAITING,
                          on_input=lambda message: relay.push(message) if relay else None)
        ended = FAILED
        try:
            server.start()
            relay = Relay(page, on_frame=server.frame, on_notice=server.notice)
            relay.start()
            self.announce(server.url(self.public_host()), timeout)
            yield server
            ended = SUCCEEDED
        finally:
            if relay is not None:
                relay.stop()
            server.stop(ended)

"""`--link`: the login runs in a headless browser and the person drives it through a one-time page.

sso.login takes a `Link` and, instead of a browser window, opens a headless one (VIEWPORT),
confines it to the MTN origins (confine.py), and wraps its wait in `serve()`: the page and the
relay run for as long as the wait does and stop when it ends, whether it succeeded, timed out or
was interrupted; the page then says which, and what the person at the terminal sees next. How
the link reaches the person (printed, the webhook) is the caller's `announce`.

Where it listens (`link_address`; `check_address` for `--check`): MTN_LINK_BIND (default
127.0.0.1) and MTN_LINK_PORT (default 0: a free port chosen at random, so the address is not
predictable). The page answers only requests whose Host is a name the link was made for (see
`host_names`), which keeps a DNS-rebinding page from reaching it.
"""

from __future__ import annotations

import contextlib
import ipaddress
import re
import socket
import time
from typing import Any, Callable, Iterator

from ..core.config import Settings
from ..core.errors import ConfigError, Interrupted, LoginTimeout, RunbookError
from .confine import Confinement, mtn_origins
from .link_page import LinkPage, bind
from .relay import VIEWPORT, Relay

WAITING = "Solve the reCAPTCHA in the picture below; the tool fills in and submits the form."
SUCCEEDED = ("Logged in. Nothing more to do here: you can close this page. At the terminal, the tool "
             "now checks the new session and carries on with its run.")
TIMED_OUT = ("Time is up: the login was not finished within the {left} this link allowed, and nothing "
             "was saved. This link no longer works. The terminal says the login was not finished in time; "
             "whoever runs the tool there can start it again for a new link.")
STOPPED = ("The login was stopped at the terminal (Ctrl-C), and nothing was saved. This link no longer "
           "works; a new one comes when the tool is run again.")
FAILED = ("The login ended without success: {why} Nothing was saved and this link no longer works. "
          "The terminal shows the same reason and what to do next.")
WILDCARDS = ("0.0.0.0", "::", "")
NAME = re.compile(r"^(?=.{1,253}$)[A-Za-z0-9]([A-Za-z0-9-]{0,62}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,62}[A-Za-z0-9])?)*$")


def link_address(settings: Settings) -> tuple[str, int]:
    """MTN_LINK_BIND and MTN_LINK_PORT, checked (ConfigError, exit 2) without binding anything."""
    try:
        port = int(str(settings.link_port).strip())
        if not 0 <= port <= 65535:
            raise ValueError
    except ValueError:
        raise ConfigError(f"MTN_LINK_PORT {settings.link_port!r} is not a port number",
                          "set it to 1-65535, or 0 (the default) for a free port chosen at random") from None
    host = settings.link_bind.strip() or "127.0.0.1"
    if not _is_ip(host) and not NAME.match(host):
        raise ConfigError(f"MTN_LINK_BIND {settings.link_bind!r} is not an address or host name",
                          "set it to 127.0.0.1 (the default), or to an address of this machine")
    public = settings.link_public_host.strip()
    if public and not (NAME.match(public) or _is_ip(public.strip("[]"))):
        raise ConfigError(f"MTN_LINK_PUBLIC_HOST {settings.link_public_host!r} is not a host name",
                          "set it to the name (or address) the person opens, without scheme or port, or unset it")
    return host, port


def check_address(settings: Settings) -> tuple[str, int]:
    """For `--check`: `link_address`, and the bind address tried on a throwaway port (the real
    port is left alone: it may be taken now and free later). The same ConfigError as the run."""
    host, port = link_address(settings)
    bind(host, 0).close()
    return host, port


def _is_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


class Link:
    context_options = {"viewport": VIEWPORT}

    def __init__(self, settings: Settings, announce: Callable[[str, float], None]):
        self.host, self.port = link_address(settings)
        self.public = settings.link_public_host.strip()
        self.announce = announce
        self._origins = mtn_origins(settings.mtn_sso_login_url, settings.mtn_api_base_url)
        self._confinement: Confinement | None = None
        self._sock: socket.socket | None = bind(self.host, self.port)  # a busy port fails before any browser

    def public_host(self) -> str:
        """The host to print: MTN_LINK_PUBLIC_HOST, else the bind address, or this machine's name
        when bound to every address."""
        host = self.public or (socket.gethostname() if self.host in WILDCARDS else self.host)
        return f"[{host}]" if ":" in host and not host.startswith("[") else host

    def host_names(self) -> tuple[set[str], bool]:
        """The Host names the page answers (lower case, no port), and whether any IP address is
        one (bound to every address: each of the machine's addresses is one it was made for;
        a rebinding page sends its own name, never an address)."""
        names = {"localhost", self.public_host().strip("[]").lower()}
        if self.host not in WILDCARDS:
            names.add(self.host.lower())
        else:
            names.add(socket.gethostname().lower())
        if self.public:
            names.add(self.public.strip("[]").lower())
        return names, self.host in WILDCARDS

    def confine(self, page: Any) -> None:
        self._confinement = Confinement(page, self._origins)

    def refused(self, url: str) -> bool:
        """A request the confinement refused on purpose (not a failure of the login)."""
        return self._confinement is not None and self._confinement.refused(url)

    def close(self) -> None:
        if self._confinement is not None:
            self._confinement.stop()
            self._confinement = None
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
        names, any_ip = self.host_names()
        server = LinkPage(sock, deadline=time.monotonic() + timeout, waiting_for=WAITING,
                          on_input=lambda message: relay.push(message) if relay else None,
                          host_names=names, any_ip=any_ip)
        ended = FAILED.format(why="the tool stopped.")
        try:
            server.start()
            if self._confinement is not None:
                self._confinement.on_blocked = lambda host: server.notice(
                    f"The page tried to reach {host}: blocked. The login stays on MTN.")
            relay = Relay(page, on_frame=server.frame, on_notice=server.notice)
            relay.start()
            self.announce(server.url(self.public_host()), timeout)
            yield server
            ended = SUCCEEDED
        except LoginTimeout:
            ended = TIMED_OUT.format(left=for_how_long(timeout))
            raise
        except (KeyboardInterrupt, Interrupted):
            ended = STOPPED
            raise
        except RunbookError as e:
            from ..core.console import scrub

            ended = FAILED.format(why=scrub(e.message).rstrip(".") + ".")
            raise
        finally:
            if self._confinement is not None:
                self._confinement.on_blocked = None
            if relay is not None:
                relay.stop()
            server.stop(ended)


def for_how_long(seconds: float) -> str:
    """A login's time as the person reads it: "20 s" under two minutes, else "5 min", "1 h"."""
    from ..core.times import duration

    return duration(seconds / 60, seconds_below=2)

"""How the login link reaches the person: printed, and posted to ALERT_WEBHOOK_URL when it is set.

The link carries its one-time token (that is what it is for); no cookie or session value is in it.
A webhook that fails is a warning: the printed link still works.
"""

from __future__ import annotations

import socket

from ..core.config import Settings
from ..core.console import Console
from ..core.errors import RunbookError
from ..mtn.link import Link, for_how_long

LOOPBACK = ("127.0.0.1", "localhost", "::1")


def login_link(settings: Settings, console: Console) -> Link:
    """A Link whose announcement prints the URL and, when configured, sends it to the webhook."""
    link: Link

    def announce(url: str, timeout: float) -> None:
        left = for_how_long(timeout)
        tunnel = (f"ssh -L {_port(url)}:127.0.0.1:{_port(url)} {socket.gethostname()}"
                  if link.host in LOOPBACK else "")
        console.line(f"Open this one-time login link (one browser, for {left}) and solve the reCAPTCHA there:")
        console.line(f"  {url}")
        if tunnel:
            console.line(f"  from another machine, first: {tunnel}  (runbooks/session-refresh.md)")
        if settings.alert_webhook_url:
            text = (f"MTN login needed: open {url} within {left} and solve the reCAPTCHA "
                    f"(one browser, one use).{f' Reach it with `{tunnel}`.' if tunnel else ''}")
            try:
                from ..services.alerts import post_webhook

                post_webhook(settings, text)
                console.line("  the link was also sent to ALERT_WEBHOOK_URL")
            except RunbookError as e:
                console.warn(f"the link could not be sent to the webhook: {e.message}")

    link = Link(settings, announce)
    return link


def _port(url: str) -> int:
    from urllib.parse import urlsplit

    return urlsplit(url).port or 80

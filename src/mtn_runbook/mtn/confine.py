"""The login link's headless browser stays on MTN: every request is checked before it leaves.

A browser-level CDP session enables `Fetch` at the request stage for every target of the browser,
so it sees each hop of a redirect chain (a same-origin URL that 302s elsewhere is stopped at the
hop that leaves), every subresource, and the first request of a popup before it is sent. Allowed:

- the MTN origins (the SSO login page's, the API's, the CAS service's: `mtn_origins`);
- reCAPTCHA's own paths (RECAPTCHA), which the real login page loads in its frames.

Anything else is refused: a document (a navigation, a popup) gets an empty 204 answer made here,
so the page the person sees stays where it was; any other request fails as blocked by the client.
Popups are closed as soon as they open. WebSockets and data: URLs do not pass through Fetch.
"""

from __future__ import annotations

import time
from typing import Any, Callable, Iterable
from urllib.parse import parse_qs, urlsplit

REMEMBERED = 1000      # refused URLs kept for `refused()`; a page that tries more is not helped further
NOTICE_EVERY = 3.0     # seconds between two notices for the same host
RECAPTCHA = ("https://www.google.com/recaptcha/", "https://www.gstatic.com/recaptcha/",
             "https://www.recaptcha.net/recaptcha/")


def origin(url: str) -> str:
    parts = urlsplit(url)
    port = parts.port or {"http": 80, "https": 443}.get(parts.scheme, 0)
    return f"{parts.scheme}://{(parts.hostname or '').lower()}:{port}"


def mtn_origins(login_url: str, api_base_url: str) -> set[str]:
    """The origins the login may visit: the SSO page's, the API's, and the CAS service's."""
    found = {origin(login_url), origin(api_base_url)}
    for service in parse_qs(urlsplit(login_url).query).get("service", []):
        found.add(origin(service))
    return found


def allowed(url: str, origins: set[str]) -> bool:
    if origin(url) in origins:
        return True
    parts = urlsplit(url)
    if parts.scheme != "https" or parts.port not in (None, 443) or parts.username or parts.password:
        return False
    return f"https://{(parts.hostname or '').lower()}{parts.path}".startswith(RECAPTCHA)


class Confinement:
    """Started on the login's page before its first request; `stop()` when the login is over.
    `on_blocked(host)` is told of each refused request (the link tells the viewer)."""

    def __init__(self, page: Any, origins: Iterable[str]):
        self.origins = set(origins)
        self.page = page
        self.blocked: list[str] = []          # the hosts refused, in order (no paths: they may hold tokens)
        self._refused: set[str] = set()       # the URLs refused (kept here, never shown)
        self._told: tuple[str, float] = ("", 0.0)
        self.on_blocked: Callable[[str], None] | None = None
        self._cdp = page.context.browser.new_browser_cdp_session()
        self._cdp.on("Fetch.requestPaused", self._paused)
        self._cdp.send("Fetch.enable", {"patterns": [{"urlPattern": "*", "requestStage": "Request"}]})
        page.context.on("page", self._popup)

    def _paused(self, params: dict) -> None:
        request_id, url = params["requestId"], params["request"]["url"]
        try:
            ok = allowed(url, self.origins)
        except ValueError:  # a URL Python cannot read (a bad port): not one of ours
            ok = False
        host = "" if ok else self._note(url)  # noted before the answer: the page's events may come first
        try:
            if ok:
                self._cdp.send("Fetch.continueRequest", {"requestId": request_id})
            elif params.get("resourceType") == "Document":  # the page stays where it was
                self._cdp.send("Fetch.fulfillRequest", {"requestId": request_id, "responseCode": 204,
                                                        "responseHeaders": [{"name": "cache-control", "value": "no-store"}]})
            else:
                self._cdp.send("Fetch.failRequest", {"requestId": request_id, "errorReason": "BlockedByClient"})
        except Exception:  # the browser is closing: its requests go nowhere anyway
            return
        now = time.monotonic()
        if host and self.on_blocked is not None and (host != self._told[0] or now - self._told[1] > NOTICE_EVERY):
            self._told = (host, now)
            self.on_blocked(host)

    def _note(self, url: str) -> str:
        """Remember a refused URL; its host, to name it."""
        try:
            host = urlsplit(url).hostname or "another host"
        except ValueError:
            host = "another host"
        if len(self._refused) < REMEMBERED:
            self.blocked.append(host)
            self._refused.add(url)
        return host

    def refused(self, url: str) -> bool:
        """Was this request refused here? (Playwright then reports the navigation as aborted;
        that is no network failure: the page stayed where it was.)"""
        return url in self._refused

    def _popup(self, other: Any) -> None:
        if other != self.page:
            try:
                other.close()
            except Exception:
                pass

    def stop(self) -> None:
        try:
            self._cdp.detach()  # Fetch ends with the session
        except Exception:  # the browser is gone already
            pass

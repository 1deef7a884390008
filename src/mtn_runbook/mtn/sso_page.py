"""What the SSO login page is doing, learned without ever blocking on it.

`page.evaluate` has no timeout: a login page stuck in a JavaScript loop once kept
`inv auth --timeout 10` waiting for minutes. So the tool never evaluates in the page while it
waits. The page reports its own state (MTN's error text, whether the captcha is solved, whether
the button is usable) through a binding, several times a second; Playwright's events tell which
documents the browser loaded, with which status, and which navigations failed. A page that stops
reporting simply stops updating `state`, and the login's deadline ends the wait.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from ..core.errors import RunbookError, ServiceError

BINDING = "__mtnRunbookLoginState"
# Runs in the top frame of every document, before the page's own scripts.
REPORTER_JS = """(() => {
  if (window.top !== window) return;
  const report = () => {
    let error = "";
    for (const el of document.querySelectorAll(".error, .alert-danger, .login-error")) {
      const text = (el.innerText || "").trim();
      if (text && el.getClientRects().length) { error = text; break; }
    }
    const token = document.querySelector("#g-recaptcha-response");
    const button = document.querySelector("#submit-button");
    const state = {error, solved: !!(token && token.value), canSubmit: !!(button && !button.disabled),
                   form: !!document.querySelector("#dummyUser")};
    try { window.%s(state); } catch (e) {}
  };
  document.addEventListener("DOMContentLoaded", report);
  setInterval(report, 200);
})();""" % BINDING


@dataclass
class Document:
    """One main-frame document request: where it went, and how it ended."""
    method: str
    url: str
    status: int | None = None
    retry_after: str | None = None
    failure: str | None = None

    @property
    def where(self) -> str:
        parts = urlsplit(self.url)
        return f"{self.method} {parts.hostname}{parts.path}"


@dataclass
class PageWatch:
    """Attach before the first navigation; read `state`, `last` and `problem()` at any time."""
    page: Any
    state: dict = field(default_factory=dict)     # the page's last report (for page.url == state_url)
    state_url: str = ""
    last: Document | None = None                  # the last main-frame document
    refused: Any = None                           # url -> bool: refused on purpose (the login link's confinement)

    @classmethod
    def attach(cls, context: Any, page: Any) -> "PageWatch":
        watch = cls(page)
        context.expose_binding(BINDING, watch._report)
        context.add_init_script(REPORTER_JS)
        page.on("response", watch._response)
        page.on("requestfailed", watch._failed)
        return watch

    # -- events (they run while Playwright waits, on the thread that waits) ------------
    def _report(self, source: dict, state: Any) -> None:
        if isinstance(state, dict):
            frame = source.get("frame")
            self.state, self.state_url = state, getattr(frame, "url", "")

    def _is_document(self, request: Any) -> bool:
        try:
            return request.is_navigation_request() and request.frame == self.page.main_frame
        except Exception:  # a request of a frame already gone
            return False

    def _response(self, response: Any) -> None:
        if self._is_document(response.request):
            self.last = Document(response.request.method, response.url, response.status,
                                 response.headers.get("retry-after"))

    def _failed(self, request: Any) -> None:
        if self.refused is not None and self.refused(request.url):
            return  # kept on MTN by the login link: the page stayed where it was
        if self._is_document(request):
            failure = request.failure or "failed"
            self.last = Document(request.method, request.url, failure=failure)

    # -- questions ------------------------------------------------------------------------
    def current_state(self) -> dict:
        """The page's last report, if it is about the document now shown; else {}."""
        return self.state if self.state_url == self.page.url else {}

    def problem(self, api_host: str) -> RunbookError | None:
        """A failure the person cannot fix by waiting: a dropped connection, the SSO or the
        API answering 5xx or 429, or the API host refusing the login ticket."""
        doc = self.last
        if self.page.url.startswith("chrome-error://") and (doc is None or doc.failure is None):
            doc = Document("GET", self.page.url, failure="the browser shows its network error page")
        if doc is None:
            return None
        retry = f", Retry-After {doc.retry_after} s" if doc.retry_after else ""
        if doc.failure is not None:
            return ServiceError(f"the login's {doc.where} failed ({doc.failure.strip()[:120]}): the connection "
                                "dropped before MTN answered; nothing was saved",
                                "check the network, then run the login again")
        host = (urlsplit(doc.url).hostname or "").lower()
        status = doc.status or 0
        if status == 429 or status >= 500:
            who = "the MTN API" if host == api_host else "MTN SSO"
            return ServiceError(f"{who} answered {status} to {doc.where}{retry}: "
                                f"{'it is rate-limiting' if status == 429 else 'it is failing'}; nothing was saved",
                                "wait a little (MTN's side), then run the login again")
        if host == api_host and status >= 400:
            return ServiceError(f"the MTN API refused the login ticket: {status} on {doc.where}; nothing was saved",
                                "run the login again; if it repeats, check MTN_SSO_LOGIN_URL's service= and "
                                "MTN_API_BASE_URL")
        return None

"""The CDP side of the login link: the headless page's screencast out, the viewer's input in.

The relay runs on Playwright's own event loop (the sync API drives it in a greenlet of the main
thread, which spends the login waiting inside Playwright calls), so frames and input move while
sso.py's wait loop polls, without a second CDP connection and without touching that loop. The
link server (another thread) hands input over with `push`; one worker dispatches it in order.

Rules kept here, whatever the viewer sends:
- the password field takes no input. `start` marks every password element of the page (and of
  each later document) as locked: a data attribute the page's scripts get back if they drop it,
  `readonly`, and masked with `-webkit-text-security`, so a "show password" button that makes it
  `type=text` leaves it locked and unreadable in the screencast. A press on a locked element is
  dropped; a key is dropped when the focused element *or* the selection's owner (where the caret
  is: a field blurred by script keeps it) is locked, checked just before it is dispatched;
- only mouse, wheel, a short list of keys and typed text go through; nothing else of CDP.
Where the page may go is confine.py's.
"""

from __future__ import annotations

import asyncio
import base64
from typing import Any, Callable

# A viewport that reads on a phone and still holds reCAPTCHA's image challenge (about 400 px).
VIEWPORT = {"width": 480, "height": 800}
SCREENCAST = {"format": "jpeg", "quality": 70, "maxWidth": 960, "maxHeight": 1600, "everyNthFrame": 1}
LOCKED = "[data-mtn-runbook-locked], input[type=password]"
# Run in every document (and once in the current one): mark, keep marked, mask.
LOCK_JS = """(() => {
  const held = new Set();
  const lock = (e) => {
    held.add(e);
    if (!e.hasAttribute("data-mtn-runbook-locked")) e.setAttribute("data-mtn-runbook-locked", "");
    if (!e.readOnly) e.readOnly = true;
    if (e.style.getPropertyValue("-webkit-text-security") !== "disc" || e.style.getPropertyPriority("-webkit-text-security") !== "important")
      e.style.setProperty("-webkit-text-security", "disc", "important");
  };
  const sweep = () => { document.querySelectorAll("input[type=password]").forEach(lock); held.forEach(lock); };
  sweep();
  new MutationObserver(sweep).observe(document, {subtree: true, childList: true, attributes: true,
    attributeFilter: ["type", "style", "readonly", "data-mtn-runbook-locked"]});
})()"""
# Blur the pre-filled field and take the caret out of it (blur alone leaves the selection there).
RELEASE_JS = "(() => { if (document.activeElement) document.activeElement.blur(); const s = getSelection(); if (s) s.removeAllRanges(); })()"
PASSWORD_AT_JS = ("(() => { const e = document.elementFromPoint(%f, %f);"
                  " return !!(e && e.closest('" + LOCKED + "')); })()")
KEY_LANDS_LOCKED_JS = """(() => {
  const locked = (n) => { const e = n && (n.nodeType === 1 ? n : n.parentElement); return !!(e && e.closest('%s')); };
  if (locked(document.activeElement)) return true;
  const s = getSelection();
  if (!s) return false;
  for (const [node, offset] of [[s.anchorNode, s.anchorOffset], [s.focusNode, s.focusOffset]]) {
    if (!node) continue;
    if (locked(node) || (node.childNodes && locked(node.childNodes[offset]))) return true;
  }
  return false;
})()""" % LOCKED
PASSWORD_BLOCKED = "The password is filled in for you: that field takes no input from here."
# key -> (code, Windows virtual key code, text it types)
KEYS = {
    "Backspace": ("Backspace", 8, ""), "Tab": ("Tab", 9, ""), "Enter": ("Enter", 13, "\r"),
    "Escape": ("Escape", 27, ""), "Delete": ("Delete", 46, ""), "ArrowLeft": ("ArrowLeft", 37, ""),
    "ArrowUp": ("ArrowUp", 38, ""), "ArrowRight": ("ArrowRight", 39, ""), "ArrowDown": ("ArrowDown", 40, ""),
}
MOUSE = {"down": "mousePressed", "up": "mouseReleased", "move": "mouseMoved"}


class Relay:
    def __init__(self, page: Any, on_frame: Callable[[bytes], None], on_notice: Callable[[str], None]):
        self._cdp = page.context.new_cdp_session(page)
        # Playwright's async object and loop under the sync wrapper (pinned in pyproject.toml;
        # tests/test_login_link.py fails first if a new version moves them).
        self._async = self._cdp._impl_obj
        self._loop: asyncio.AbstractEventLoop = self._async._loop
        self._on_frame, self._on_notice = on_frame, on_notice
        self._queue: asyncio.Queue = asyncio.Queue()
        self._worker: Any = None
        self._dropping_press = False
        self.metadata: dict = {}

    def start(self) -> None:
        """On the main thread: lock the password (now and in every later document), take the
        focus and caret out of it, start the screencast and the worker."""
        self._cdp.send("Page.addScriptToEvaluateOnNewDocument", {"source": LOCK_JS})
        self._cdp.send("Runtime.evaluate", {"expression": LOCK_JS})
        self._cdp.send("Runtime.evaluate", {"expression": RELEASE_JS})
        self._async.on("Page.screencastFrame", self._frame)
        self._cdp.send("Page.startScreencast", SCREENCAST)
        self._worker = asyncio.run_coroutine_threadsafe(self._work(), self._loop)

    def stop(self) -> None:
        """On the main thread, after the login ended (or failed): no more frames, no more input."""
        if self._worker is not None:
            self._worker.cancel()
        for stop in (lambda: self._cdp.send("Page.stopScreencast"), self._cdp.detach):
            try:
                stop()
            except Exception:  # the page or browser is gone already
                pass

    def push(self, message: dict) -> None:
        """From any thread: queue one input message from the viewer."""
        self._loop.call_soon_threadsafe(self._queue.put_nowait, message)

    # -- on Playwright's loop ---------------------------------------------------------------
    async def _frame(self, params: dict) -> None:
        self.metadata = params.get("metadata") or {}
        asyncio.ensure_future(self._send("Page.screencastFrameAck", {"sessionId": params["sessionId"]}))
        self._on_frame(base64.b64decode(params["data"]))

    async def _send(self, method: str, params: dict | None = None) -> Any:
        try:
            return await self._async.send(method, params, None)
        except Exception:  # the page is navigating or closing: this input is lost, not the login
            return None

    async def _work(self) -> None:
        while True:
            message = await self._queue.get()
            try:
                await self._dispatch(message)
            except (KeyError, TypeError, ValueError):
                pass  # a malformed message from the viewer: ignored

    async def _password(self, expression: str) -> bool:
        reply = await self._send("Runtime.evaluate", {"expression": expression, "returnByValue": True})
        return bool(reply and reply.get("result", {}).get("value"))

    def _point(self, message: dict) -> tuple[float, float]:
        """The viewer sends where it was touched as a fraction of the frame; CSS pixels here."""
        fx, fy = float(message["x"]), float(message["y"])
        if not (0.0 <= fx <= 1.0 and 0.0 <= fy <= 1.0):
            raise ValueError("outside the frame")
        width = float(self.metadata.get("deviceWidth") or VIEWPORT["width"])
        height = float(self.metadata.get("deviceHeight") or VIEWPORT["height"])
        return fx * width, fy * height

    async def _dispatch(self, message: dict) -> None:
        kind = message.get("type")
        if kind == "mouse":
            action = message["action"]
            x, y = self._point(message)
            if action == "down" and await self._password(PASSWORD_AT_JS % (x, y)):
                self._dropping_press = True
                self._on_notice(PASSWORD_BLOCKED)
                return
            if action in ("up", "move") and self._dropping_press:
                self._dropping_press = action != "up"
                return
            pressed = action != "move"
            await self._send("Input.dispatchMouseEvent", {
                "type": MOUSE[action], "x": x, "y": y, "button": "left" if pressed else "none",
                "buttons": 1 if action == "down" else 0, "clickCount": 1 if pressed else 0})
        elif kind == "wheel":
            x, y = self._point(message)
            clamp = lambda v: max(-2000.0, min(2000.0, float(v)))  # noqa: E731
            await self._send("Input.dispatchMouseEvent", {"type": "mouseWheel", "x": x, "y": y,
                                                          "deltaX": clamp(message.get("dx", 0)),
                                                          "deltaY": clamp(message.get("dy", 0))})
        elif kind in ("key", "text"):
            if await self._password(KEY_LANDS_LOCKED_JS):
                self._on_notice(PASSWORD_BLOCKED)
                return
            if kind == "text":
                await self._send("Input.insertText", {"text": str(message["text"])[:64]})
                return
            code, vk, text = KEYS[message["key"]]
            await self._send("Input.dispatchKeyEvent", {"type": "keyDown" if text else "rawKeyDown",
                                                        "key": message["key"], "code": code,
                                                        "windowsVirtualKeyCode": vk, "text": text})
            await self._send("Input.dispatchKeyEvent", {"type": "keyUp", "key": message["key"], "code": code,
                                                        "windowsVirtualKeyCode": vk})

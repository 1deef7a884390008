"""The login link's extra latency: from a click in the viewer (a second Chromium) to the headless
page receiving the mousedown, median of 50 clicks; against the same click dispatched straight
through CDP from Python (the floor any relay starts from), measured in the same run."""

from __future__ import annotations

import statistics
import time

CLICKS = 50
RECORD_JS = ("() => { window.__got = []; document.addEventListener('mousedown',"
             " () => window.__got.push(performance.timeOrigin + performance.now()), true); }")


def received_after(page, before: int, began_ms: float) -> float:
    """Milliseconds from `began_ms` (epoch) to the page's mousedown number `before + 1`."""
    while page.evaluate("window.__got.length") <= before:
        page.wait_for_timeout(1)
    return page.evaluate(f"window.__got[{before}]") - began_ms


def main() -> None:
    from playwright.sync_api import sync_playwright

    from mtn_runbook.core.config import Settings
    from mtn_runbook.mtn.browser import find_chromium, launch_args
    from mtn_runbook.mtn.link_page import LinkPage, bind
    from mtn_runbook.mtn.relay import VIEWPORT, Relay
    from mtn_runbook.sandbox import Sandbox

    spot = (0.9, 0.95)  # blank page, far from the form
    with Sandbox(captcha_delay=None) as sb, sync_playwright() as pw:
        executable = find_chromium(Settings.load({}, use_dotenv=False), headless=True)
        tool = pw.chromium.launch(executable_path=executable, headless=True, args=launch_args())
        person = pw.chromium.launch(executable_path=executable, headless=True, args=launch_args())
        page = tool.new_context(viewport=VIEWPORT).new_page()
        page.goto(sb.login_url)
        page.evaluate(RECORD_JS)

        direct = []
        cdp = page.context.new_cdp_session(page)
        x, y = spot[0] * VIEWPORT["width"], spot[1] * VIEWPORT["height"]
        for i in range(CLICKS):
            began = time.time() * 1000
            for kind in ("mousePressed", "mouseReleased"):
                cdp.send("Input.dispatchMouseEvent", {"type": kind, "x": x, "y": y, "button": "left", "clickCount": 1})
            direct.append(received_after(page, i, began))
        cdp.detach()

        relay = None
        server = LinkPage(bind("127.0.0.1", 0), deadline=time.monotonic() + 600, waiting_for="bench",
                          on_input=lambda message: relay.push(message))
        server.start()
        relay = Relay(page, on_frame=server.frame, on_notice=server.notice)
        relay.start()
        viewer = person.new_page(viewport={"width": 390, "height": 844})
        viewer.goto(server.url("127.0.0.1"))
        viewer.locator("#screen[src^='blob:']").wait_for(timeout=20_000)
        box = viewer.locator("#screen").bounding_box()
        relayed = []
        for i in range(CLICKS):
            began = time.time() * 1000
            viewer.mouse.click(box["x"] + spot[0] * box["width"], box["y"] + spot[1] * box["height"])
            relayed.append(received_after(page, CLICKS + i, began))
        relay.stop()
        server.stop()
        tool.close()
        person.close()

    d, r = statistics.median(direct), statistics.median(relayed)
    print(f"click -> headless page mousedown, median of {CLICKS}:")
    print(f"  straight through CDP from Python:     {d:6.1f} ms")
    print(f"  through the login link (viewer, WS):  {r:6.1f} ms  ({r / d:.1f}x; the relay adds {r - d:.1f} ms)")
    print(f"  relayed p90: {sorted(relayed)[int(CLICKS * 0.9)]:.1f} ms")


if __name__ == "__main__":
    main()

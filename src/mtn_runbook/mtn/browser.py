"""Which Chromium to launch, with which flags, and starting it for a login.

Order: PLAYWRIGHT_CHROMIUM_EXECUTABLE_PATH; else Playwright's own browser when it is installed
(`playwright install chromium`); else `chromium` / `chromium-browser` / `google-chrome` on PATH.

`start()` returns a `Browser`: Playwright's driver and Chromium, started and ready for
`sso.login` (which may get it already started: recover starts it while the first validation runs).
The driver runs in its own process group, so the Ctrl-C a terminal sends to the whole group
reaches only this process, which then closes the browser itself: one line, exit 130.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from ..core.config import Settings
from ..core.errors import ConfigError

PATH_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
# Debian's /usr/bin/chromium is a shell wrapper; the real binary beside it starts faster and
# does not read the wrapper's flag files.
REAL_BINARIES = {"chromium": "/usr/lib/chromium/chromium", "chromium-browser": "/usr/lib/chromium-browser/chromium-browser"}
FLAGS = ("--disable-gpu", "--disable-background-networking", "--disable-component-update",
         "--disable-sync", "--no-first-run", "--disable-quic")
HOW_TO = "run `.venv/bin/playwright install chromium`, install the OS package (apt install chromium), " \
         "or set PLAYWRIGHT_CHROMIUM_EXECUTABLE_PATH"


def find_chromium(settings: Settings, *, headless: bool = False) -> str | None:
    """The executable to launch, or None for Playwright's own installed browser.
    Raises ConfigError (one line, with how to get one) when there is none."""
    if settings.chromium_path:
        path = Path(settings.chromium_path).expanduser()
        if not (path.is_file() and os.access(path, os.X_OK)):
            raise ConfigError(f"PLAYWRIGHT_CHROMIUM_EXECUTABLE_PATH {path} is not an executable file", HOW_TO)
        return str(path)
    if playwright_chromium_installed(headless=headless):
        return None
    for name in PATH_NAMES:
        found = shutil.which(name)
        if found:
            real = REAL_BINARIES.get(name)
            if real and os.path.realpath(found) != real and os.access(real, os.X_OK):
                return real
            return found
    raise ConfigError("no Chromium found", HOW_TO)


def playwright_registry() -> Path:
    """Where `playwright install` puts browsers (PLAYWRIGHT_BROWSERS_PATH, else the OS cache)."""
    custom = os.environ.get("PLAYWRIGHT_BROWSERS_PATH")
    if custom and custom != "0":
        return Path(custom).expanduser()
    if custom == "0":
        import playwright

        return Path(playwright.__file__).parent / "driver" / "package" / ".local-browsers"
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Caches" / "ms-playwright"
    if sys.platform == "win32":
        return Path(os.environ.get("LOCALAPPDATA", Path.home())) / "ms-playwright"
    return user_cache() / "ms-playwright"


def user_cache() -> Path:
    """The user's cache folder: XDG_CACHE_HOME, else ~/.cache."""
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")


def did_not_start(error: Exception) -> ConfigError:
    """Playwright's launch error as one line, with how to get a browser."""
    first = (str(error).strip().splitlines() or [type(error).__name__])[0][:200]
    return ConfigError(f"Chromium did not start: {first}", HOW_TO)


def playwright_chromium_installed(*, headless: bool = False) -> bool:
    """True when the Chromium build this Playwright version expects is installed."""
    import importlib.util

    spec = importlib.util.find_spec("playwright")
    if spec is None or not spec.origin:
        return False
    browsers_json = Path(spec.origin).parent / "driver" / "package" / "browsers.json"
    try:
        browsers = {b["name"]: b["revision"] for b in json.loads(browsers_json.read_text())["browsers"]}
    except (OSError, ValueError, KeyError, TypeError):
        return False
    registry = playwright_registry()
    # headless launches use the separate headless shell build
    name = "chromium-headless-shell" if headless else "chromium"
    revision = browsers.get(name)
    folder = registry / f"{name.replace('-', '_')}-{revision}"
    return bool(revision) and (folder / "INSTALLATION_COMPLETE").exists()


def launch_args() -> list[str]:
    """Flags for a quiet browser that also starts as root inside a container."""
    args = list(FLAGS)
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        args.insert(0, "--no-sandbox")  # Chromium refuses to run its sandbox as root
    return args


def launch_check(settings: Settings) -> str:
    """Find the browser and start it once, headless: the detail line of `inv doctor`.
    Raises ConfigError (with how to get one) when there is none or it does not start."""
    executable = find_chromium(settings)  # what `inv auth` will use
    from playwright.sync_api import Error as PlaywrightError
    from playwright.sync_api import sync_playwright

    # Playwright's own full build runs headless only through the "chromium" channel
    channel = None if executable else "chromium"
    _node_compile_cache()
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=executable, channel=channel, headless=True,
                                        args=launch_args(), timeout=30_000)
            version = browser.version
            browser.close()
    except PlaywrightError as e:
        raise did_not_start(e) from None
    return f"Chromium {version} starts ({executable or 'Playwright’s own'})"


@dataclass
class Browser:
    """A started Playwright driver and Chromium. Use it on the thread that started it."""
    playwright: Any
    chromium: Any
    headless: bool
    closed: bool = False
    ahead: tuple[dict, Any] | None = None  # (context options, page) opened before it was needed

    def open_ahead(self, options: dict | None = None) -> None:
        """Open the login's context and page now (Chromium's first page starts a renderer, a
        quarter of a second), while other work goes on; `open_page` with the same options takes it."""
        options = dict(options or {})
        self.ahead = (options, self.chromium.new_context(**options).new_page())

    def open_page(self, options: dict | None = None) -> Any:
        """A page in a fresh context with `options`: the one opened ahead when the options match."""
        options = dict(options or {})
        if self.ahead is not None:
            ready, page = self.ahead
            self.ahead = None
            if ready == options and not page.is_closed():
                return page
            page.context.close()
        return self.chromium.new_context(**options).new_page()

    def close(self) -> None:
        """Close Chromium and stop the driver; safe to call twice, or after either died."""
        if self.closed:
            return
        self.closed = True
        from playwright.sync_api import Error as PlaywrightError

        for stop in (self.chromium.close, self.playwright.stop):
            try:
                stop()
            except PlaywrightError:
                pass  # already gone (the person closed the window, or the driver exited)


def start(settings: Settings, *, headless: bool = False, timeout: float = 60.0,
          wanted: Callable[[], bool] | None = None) -> Browser | None:
    """Start Playwright's driver and Chromium (no window opens until a page does).
    Raises ConfigError (one line, with how to fix it) when there is no browser or no display.
    `wanted()`, asked once the driver is up: False stops it and returns None, no Chromium launched."""
    executable = find_chromium(settings, headless=headless)
    if not headless and sys.platform.startswith("linux") and not (
            os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        from ..core.errors import NoDisplay

        raise NoDisplay("no display for the browser window (DISPLAY is not set)",
                          "add --link to log in from another device through a one-time link (`inv recover --link`), "
                          "or run it on a machine with a desktop (or ssh -X); in a sandbox, add -H")
    from playwright.sync_api import Error as PlaywrightError
    from playwright.sync_api import sync_playwright

    from .playwright_private import driver_in_own_process_group

    driver_in_own_process_group()
    _node_compile_cache()
    playwright = sync_playwright().start()
    if wanted is not None and not wanted():
        playwright.stop()  # no longer needed (the session turned out live): Chromium never starts
        return None
    try:
        # handle_sigint=False: Ctrl-C is ours to handle (close the browser, one line, exit 130)
        chromium = playwright.chromium.launch(executable_path=executable, headless=headless, args=launch_args(),
                                              handle_sigint=False, timeout=max(1.0, timeout) * 1000)
    except PlaywrightError as e:
        playwright.stop()
        raise did_not_start(e) from None
    except BaseException:
        playwright.stop()
        raise
    return Browser(playwright, chromium, headless)


def _node_compile_cache() -> None:
    """Let Playwright's Node.js driver keep its compiled JavaScript between runs.

    Two fifths of a browser's start is the driver compiling Playwright's bundle; Node (22.1 and
    later) caches that in the folder NODE_COMPILE_CACHE names, which cut the driver's start from
    0.54 s to 0.38 s here. The folder sits beside Playwright's own browsers, in the user's cache.
    A NODE_COMPILE_CACHE already set (or NODE_DISABLE_COMPILE_CACHE) is left as it is; an older
    Node ignores the variable."""
    if os.environ.get("NODE_COMPILE_CACHE") or os.environ.get("NODE_DISABLE_COMPILE_CACHE"):
        return
    folder = user_cache() / "mtn-runbook" / "node-compile-cache"
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError:
        return  # a read-only home: start without the cache
    os.environ["NODE_COMPILE_CACHE"] = str(folder)

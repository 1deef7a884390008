"""Which Chromium to launch, and with which flags.

Order: PLAYWRIGHT_CHROMIUM_EXECUTABLE_PATH; else Playwright's own browser when it is installed
(`playwright install chromium`); else `chromium` / `chromium-browser` / `google-chrome` on PATH.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from pathlib import Path

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
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "ms-playwright"


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
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=executable, channel=channel, headless=True,
                                        args=launch_args(), timeout=30_000)
            version = browser.version
            browser.close()
    except PlaywrightError as e:
        first = (str(e).strip().splitlines() or [type(e).__name__])[0][:200]
        raise ConfigError(f"Chromium did not start: {first}", HOW_TO) from None
    return f"Chromium {version} starts ({executable or 'Playwright’s own'})"

"""Wall time of the whole sandbox recover (captcha solves at once), and the share of it that is
browser start-up (launching and closing Chromium, measured in the same process)."""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path


def browser_startup(settings) -> float:
    from playwright.sync_api import sync_playwright

    from mtn_runbook.mtn.browser import find_chromium, launch_args

    executable = find_chromium(settings, headless=True)
    samples = []
    with sync_playwright() as pw:
        for _ in range(3):
            began = time.perf_counter()
            browser = pw.chromium.launch(executable_path=executable, headless=True, args=launch_args())
            browser.new_context().new_page()
            browser.close()
            samples.append(time.perf_counter() - began)
    return statistics.median(samples)


def main() -> None:
    from mtn_runbook.core.config import Settings
    from mtn_runbook.core.console import Console
    from mtn_runbook.runner.recovery import RECOVER
    from mtn_runbook.runner.rehearsal import sandbox_settings
    from mtn_runbook.runner.engine import Run, execute

    with tempfile.TemporaryDirectory() as tmp:
        base = Settings.load({}, use_dotenv=False, session_file=Path(tmp) / "mtn-session.json")
        with sandbox_settings(base, captcha_delay=0.0, deploy_seconds=0.0) as settings:
            began = time.perf_counter()
            run = Run("recover", settings, Console(stderr=True))
            run.facts.update(headless=True, timeout=60.0)
            run = execute(run, RECOVER)
            wall = time.perf_counter() - began
            assert run.succeeded, run.error
            login = next(r.seconds for r in run.records if r.name == "renew")
            startup = browser_startup(settings)
    print(f"recover --sandbox wall time:   {wall:.2f} s (captcha 0 s, deploy 0 s)")
    print(f"  of which the login step:     {login:.2f} s ({login / wall:.0%})")
    print(f"  browser start-up (median 3): {startup:.2f} s ({startup / wall:.0%} of the wall time)")


if __name__ == "__main__":
    main()

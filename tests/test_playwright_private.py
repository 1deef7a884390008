"""The one reach under Playwright's public API (mtn/playwright_private.py): these fail first when an
upgrade moves what the login link's relay uses, before a person on a phone finds out."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import pytest

from mtn_runbook.core.errors import ConfigError
from mtn_runbook.mtn import playwright_private

from conftest import chromium_path

ROOT = Path(__file__).resolve().parents[1]


def test_the_pinned_version_is_the_one_installed_and_the_one_in_pyproject():
    pin = re.search(r'"playwright==([^"]+)"', (ROOT / "pyproject.toml").read_text()).group(1)
    assert playwright_private.PINNED == pin == playwright_private.installed_version()


def test_another_version_is_refused_in_one_line(monkeypatch):
    monkeypatch.setattr(playwright_private, "installed_version", lambda: "9.9.9")
    with pytest.raises(ConfigError) as refused:
        playwright_private.async_session(object())
    assert "playwright==" in refused.value.line() and "9.9.9" in refused.value.line()
    assert refused.value.exit_code == 2


@pytest.mark.e2e
def test_the_async_session_sends_and_hears_on_playwrights_own_loop():
    """What relay.py does: coroutines on the returned loop, `send(method, params, None)` and `on(event)`,
    running while the main thread sits in a sync Playwright call."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium_path() or None, headless=True, args=["--no-sandbox"])
        page = browser.new_page()
        cdp = page.context.new_cdp_session(page)
        inner, loop = playwright_private.async_session(cdp)
        assert isinstance(loop, asyncio.AbstractEventLoop)
        heard: list[dict] = []

        async def on_console(params: dict) -> None:
            heard.append(params)

        inner.on("Runtime.consoleAPICalled", on_console)
        cdp.send("Runtime.enable")
        sent = asyncio.run_coroutine_threadsafe(
            inner.send("Runtime.evaluate", {"expression": "console.log('relay'); 6 * 7", "returnByValue": True}, None),
            loop)
        for _ in range(50):
            if sent.done() and heard:
                break
            page.wait_for_timeout(100)   # the loop runs while the main thread waits in Playwright
        assert sent.result(timeout=1)["result"]["value"] == 42
        assert heard and heard[0]["args"][0]["value"] == "relay"
        browser.close()


def test_the_driver_starts_in_a_session_of_its_own_on_the_pinned_version(monkeypatch):
    from playwright._impl import transport   # the private module the wrapper replaces an attribute of

    monkeypatch.setattr(transport, "asyncio", asyncio)   # undone after the test
    playwright_private.driver_in_own_process_group()
    wrapped = transport.asyncio
    assert wrapped is not asyncio and wrapped.create_subprocess_exec is not asyncio.create_subprocess_exec
    assert wrapped.get_running_loop is asyncio.get_running_loop   # everything else is asyncio's own
    playwright_private.driver_in_own_process_group()
    assert transport.asyncio is wrapped   # once, not a wrapper around a wrapper


def test_another_version_keeps_the_drivers_default(monkeypatch):
    from playwright._impl import transport

    monkeypatch.setattr(transport, "asyncio", asyncio)
    monkeypatch.setattr(playwright_private, "installed_version", lambda: "9.9.9")
    playwright_private.driver_in_own_process_group()
    assert transport.asyncio is asyncio

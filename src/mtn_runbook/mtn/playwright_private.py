"""The one place the project reaches under Playwright's public API.

The login link's relay (relay.py) runs its input on Playwright's own event loop, so frames and
input move while sso.py's wait loop sits in sync Playwright calls, and no second CDP connection
is opened. The sync API offers no public way to a CDP session's async object or its loop: they
are `_impl_obj` and its `_loop`, attributes of the pinned version below. Any other version is
refused here, in one line, before the browser is asked anything; tests/test_playwright_private.py
fails first when an upgrade moves them.
"""

from __future__ import annotations

import asyncio
from typing import Any

from ..core.errors import ConfigError

PINNED = "1.65.2"   # pyproject.toml's pin: change both together, after tests/test_playwright_private.py passes


def installed_version() -> str:
    from importlib.metadata import version

    return version("playwright")


def check_version() -> None:
    found = installed_version()
    if found != PINNED:
        raise ConfigError(f"the login link (--link) needs playwright=={PINNED}, found {found}",
                          "reinstall with scripts/setup (pyproject.toml pins it)")


def async_session(cdp: Any) -> tuple[Any, asyncio.AbstractEventLoop]:
    """A sync CDPSession's async object (send/on as coroutines) and the event loop it runs on."""
    check_version()
    inner = cdp._impl_obj
    return inner, inner._loop

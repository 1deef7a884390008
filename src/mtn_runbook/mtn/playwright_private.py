"""The one place the project reaches under Playwright's public API.

It does so for two things, each an attribute of the pinned version below. First, the login link's relay (relay.py) runs its input on Playwright's own event loop, so frames and
input move while sso.py's wait loop sits in sync Playwright calls, and no second CDP connection
is opened. The sync API offers no public way to a CDP session's async object or its loop: they
are `_impl_obj` and its `_loop`. Any other version is refused here, in one line, before the
browser is asked anything.

Second, Playwright's Node.js driver starts in the terminal's process group, so Ctrl-C killed it before our
own handling and Playwright printed "Connection closed while reading from the driver" after our
line. Playwright has no option for this; its transport module's `asyncio` is given one whose
create_subprocess_exec starts a session of its own. With any other version this is skipped (the
default is only noisier). tests/test_playwright_private.py fails first when an upgrade moves either.
"""

from __future__ import annotations

import asyncio
import os
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


def driver_in_own_process_group() -> None:
    """Start Playwright's Node.js driver in a session of its own (the module docstring says why).
    The driver still exits when our end of its pipe closes, so it cannot outlive us."""
    if installed_version() != PINNED:
        return
    try:
        from playwright._impl import transport
    except ImportError:  # a Playwright that moved its transport: keep its default
        return
    if isinstance(getattr(transport, "asyncio", None), _OwnSessionAsyncio):
        return
    transport.asyncio = _OwnSessionAsyncio(transport.asyncio)


class _OwnSessionAsyncio:
    """The asyncio module, except that subprocesses start in a new session (POSIX)."""

    def __init__(self, module: Any):
        self._module = module

    def __getattr__(self, name: str) -> Any:
        return getattr(self._module, name)

    async def create_subprocess_exec(self, *args: Any, **kwargs: Any) -> Any:
        if os.name == "posix":
            kwargs.setdefault("start_new_session", True)
        return await self._module.create_subprocess_exec(*args, **kwargs)

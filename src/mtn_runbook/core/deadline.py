"""Total deadlines and Ctrl-C cancellation for every outside call.

httpx's timeouts are per operation: a server that drips one byte every 5 s never trips a 20 s
read timeout, and a call could run for ever. `DeadlineBackend` wraps httpcore's network backend
so that every connect, read and write waits at most until the deadline of the call in progress on
its thread (`within(seconds)`), and wakes at least every SLICE seconds to see whether `cancel()`
was called (Ctrl-C), so worker threads stop too, not only the main one.

    with within(30):            # everything on this thread, retries and waits included
        client.get(...)         # raises DeadlinePassed at 30 s, Cancelled soon after cancel()
"""

from __future__ import annotations

import contextlib
import threading
import time
from typing import Any, Callable, Iterator

import httpcore

SLICE = 0.25                # seconds: how soon a blocked read notices a cancellation

_cancelled = threading.Event()
_local = threading.local()


class Cancelled(Exception):
    """All outside work was cancelled (Ctrl-C): stop, leave things as they are."""


class DeadlinePassed(Exception):
    """The call did not complete within its total deadline."""

    def __init__(self, seconds: float):
        super().__init__(f"no complete answer within {seconds:.0f} s")
        self.seconds = seconds


def cancel() -> None:
    """Stop every outside call in every thread as soon as it next wakes (Ctrl-C)."""
    _cancelled.set()


def cancelled() -> bool:
    return _cancelled.is_set()


def reset() -> None:
    """Allow outside calls again (tests in one process)."""
    _cancelled.clear()


def check() -> None:
    if _cancelled.is_set():
        raise Cancelled("cancelled")


def sleep(seconds: float) -> None:
    """time.sleep that a cancellation interrupts (raises Cancelled)."""
    if _cancelled.wait(max(0.0, seconds)):
        raise Cancelled("cancelled")


@contextlib.contextmanager
def within(seconds: float) -> Iterator[float]:
    """Until the block ends, every network wait on this thread ends `seconds` from now (or at an
    enclosing block's deadline, if that is sooner)."""
    previous = getattr(_local, "state", None)
    at = time.monotonic() + seconds
    if previous is not None and previous[0] < at:
        at, seconds = previous
    _local.state = (at, seconds)
    try:
        yield at
    finally:
        _local.state = previous


def remaining() -> float | None:
    """Seconds left before this thread's deadline; None when there is none."""
    state = getattr(_local, "state", None)
    return None if state is None else state[0] - time.monotonic()


def _bounded(timeout: float | None) -> float | None:
    """`timeout` shortened to the deadline; raises when the deadline has passed or work was cancelled."""
    check()
    state = getattr(_local, "state", None)
    if state is None:
        return timeout
    left: float = state[0] - time.monotonic()
    if left <= 0:
        raise DeadlinePassed(state[1])
    return left if timeout is None else min(timeout, left)


def _sliced_read(read: Callable[[float | None], bytes], timeout: float | None) -> bytes:
    """One read, waiting in slices so a cancellation or the deadline ends it early."""
    end = None if timeout is None else time.monotonic() + timeout
    while True:
        bounded = _bounded(timeout)
        if end is not None and time.monotonic() >= end:
            raise httpcore.ReadTimeout("timed out")
        wait = SLICE if bounded is None else min(SLICE, bounded)
        if end is not None:
            wait = min(wait, max(0.0, end - time.monotonic()))
        try:
            return read(wait)
        except httpcore.ReadTimeout:
            continue  # a slice ended: look at the clock and the cancel flag again


class _Stream(httpcore.NetworkStream):
    def __init__(self, inner: httpcore.NetworkStream):
        self._inner = inner

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return _sliced_read(lambda wait: self._inner.read(max_bytes, wait), timeout)

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        # not sliced: a write cut by a timeout may have sent part of the buffer
        self._inner.write(buffer, _bounded(timeout))

    def close(self) -> None:
        self._inner.close()

    def start_tls(self, ssl_context: Any, server_hostname: str | None = None,
                  timeout: float | None = None) -> httpcore.NetworkStream:
        return _Stream(self._inner.start_tls(ssl_context, server_hostname, _bounded(timeout)))

    def get_extra_info(self, info: str) -> Any:
        return self._inner.get_extra_info(info)


class DeadlineBackend(httpcore.NetworkBackend):
    """httpcore's network backend, with every wait bounded by the thread's deadline."""

    def __init__(self, inner: httpcore.NetworkBackend):
        self._inner = inner

    def connect_tcp(self, host: str, port: int, timeout: float | None = None, local_address: str | None = None,
                    socket_options: Any = None) -> httpcore.NetworkStream:
        return _Stream(self._inner.connect_tcp(host, port, _bounded(timeout), local_address, socket_options))

    def connect_unix_socket(self, path: str, timeout: float | None = None,
                            socket_options: Any = None) -> httpcore.NetworkStream:
        return _Stream(self._inner.connect_unix_socket(path, _bounded(timeout), socket_options))

    def sleep(self, seconds: float) -> None:
        sleep(seconds)


def cancel_on_interrupt() -> None:
    """Make Ctrl-C (SIGINT) also cancel the outside calls of every thread, then raise
    KeyboardInterrupt in the main thread as usual. Only the main thread can set this."""
    import signal

    if threading.current_thread() is not threading.main_thread():
        return
    previous = signal.getsignal(signal.SIGINT)
    if getattr(previous, "_cancels_calls", False):
        return

    def on_interrupt(signum: int, frame: Any) -> None:
        cancel()
        if callable(previous):
            previous(signum, frame)
        raise KeyboardInterrupt

    on_interrupt._cancels_calls = True  # type: ignore[attr-defined]
    signal.signal(signal.SIGINT, on_interrupt)

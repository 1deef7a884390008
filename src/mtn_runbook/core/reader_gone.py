"""stdout or stderr, surviving a reader that left: the file the console writes to.

`inv status | head -1` closes the pipe after one line; the next write raises BrokenPipeError.
Here the rest of the output goes to /dev/null instead and the task goes on to its own exit code.
"""

from __future__ import annotations

from typing import Any


class ReaderGone:
    """stdout or stderr, surviving a reader that left (`inv status | head -1`): the rest of the
    output goes to /dev/null and the task goes on. It used to end in "internal error:
    BrokenPipeError" with exit 1, and would have cut a recover halfway through its steps."""

    def __init__(self, file: Any):
        self._file = file

    def write(self, text: str) -> int:
        try:
            written: int = self._file.write(text)
            return written
        except BrokenPipeError:
            self._to_devnull()
            return len(text)

    def flush(self) -> None:
        try:
            self._file.flush()
        except BrokenPipeError:
            self._to_devnull()

    def _to_devnull(self) -> None:
        import os

        try:  # the descriptor itself, so the interpreter's last flush finds nothing broken either
            null = os.open(os.devnull, os.O_WRONLY)
            os.dup2(null, self._file.fileno())
            os.close(null)
        except (OSError, ValueError):
            pass

    def __getattr__(self, name: str) -> Any:
        return getattr(self._file, name)

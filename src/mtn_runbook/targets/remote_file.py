"""A file on a host replaced over SFTP, whole or not at all: the SSH target's env file and the
watcher's `.env` are written this one way.

The new content goes to a new file beside the old one (O_CREAT|O_EXCL: never an existing file or
link; 0600 before it holds anything), then is posix-renamed over it: readers see the old file or
the new one, never half of one, and a rename replaces a link itself, never its target. On any
failure the new file is removed and the old one is untouched.
"""

from __future__ import annotations

import contextlib
import posixpath
import secrets
from typing import Any, Callable

WRITING_MODE = 0o600   # the new file's mode while it is written


def replace_file(sftp: Any, path: str, data: bytes | str, *,
                 finish: Callable[[str], None] | None = None) -> None:
    """Replace `path` with `data`; `finish(temp)` runs before the rename (to give the new file
    the old one's owner and mode) and may raise to leave `path` as it was."""
    directory, base = posixpath.split(path)
    temp = posixpath.join(directory, f".{base}.mtn-runbook-{secrets.token_hex(4)}")
    try:
        with sftp.open(temp, "wx") as f:
            f.chmod(WRITING_MODE)
            f.write(data)
            f.flush()
        if finish is not None:
            finish(temp)
        sftp.posix_rename(temp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            sftp.remove(temp)
        raise

"""What `inv watch.install` sends to the watcher's host: this runbook's source, as pip installs it,
and the local `--env-file` (checked before any connection), copied to the folder's `.env` whole or
not at all and never through a symbolic link (SFTP lstat), which would put the secrets in whatever
file it points at.
"""

from __future__ import annotations

import io
import stat
import tarfile
from pathlib import Path
from typing import Any

from ..core.errors import ConfigError
from ..targets.remote_file import replace_file


def check_env_file(env_file: str | None) -> Path | None:
    """The local file `--env-file` names, or a ConfigError (exit 2) before any connection."""
    if not env_file:
        return None
    local = Path(env_file).expanduser()
    if not local.is_file():
        raise ConfigError(f"--env-file {env_file} is not a file", "give the path of the .env to copy to the watcher")
    return local


def source_tar() -> bytes:
    """This runbook's source, as pip installs it: pyproject.toml, README.md and src/."""
    root = Path(__file__).resolve().parents[3]          # src/mtn_runbook/watch/watcher_upload.py
    if not (root / "pyproject.toml").is_file():
        raise ConfigError(f"cannot find this runbook's source (no pyproject.toml in {root})",
                          "run watch.install from a checkout of mtn-runbook")
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w:gz") as tar:
        skip = ("__pycache__", ".egg-info")
        for name in ("pyproject.toml", "README.md", "src"):
            tar.add(root / name, arcname=f"mtn-runbook/{name}",
                    filter=lambda t: None if any(s in t.name for s in skip) else t)
    return out.getvalue()


def refuse_link(sftp: Any, path: str, name: str, host: str) -> None:
    """Refuse a remote path that is a symbolic link: writing through it would put the secrets
    in whatever file it points at (another app's settings), with that file's mode changed.
    `name`: the watcher as lines name it; `host`: where the link is."""
    try:
        mode = sftp.lstat(path).st_mode
    except FileNotFoundError:
        return
    if stat.S_ISLNK(mode):
        try:
            target = sftp.readlink(path)
        except OSError:
            target = "?"
        raise ConfigError(f"{name}: {path} is a symbolic link (to {target}): refusing to write secrets "
                          "through it", f"remove the link on {host}, or give another --folder")
    if not stat.S_ISREG(mode):
        raise ConfigError(f"{name}: {path} is not a regular file", f"remove it on {host}")


def upload_env(sftp: Any, local: Path, path: str, name: str, host: str) -> None:
    """Written whole or not at all (targets/remote_file.py): a rename replaces a link itself,
    never its target; checked again just before."""
    refuse_link(sftp, path, name, host)
    replace_file(sftp, path, local.read_bytes())

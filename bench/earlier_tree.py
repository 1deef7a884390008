"""The runbook as it was at an earlier commit (`src/` and `tasks.py`, from `git archive`), for the
benches that compare this tree with one before it (`--before REV`)."""

from __future__ import annotations

import io
import subprocess
import tarfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def earlier_tree(rev: str, into: Path) -> Path:
    """Extract `src/` and `tasks.py` as they were at `rev` into `into`; returns `into`."""
    archive = subprocess.run(["git", "archive", rev, "src", "tasks.py"], cwd=ROOT, check=True,
                             capture_output=True).stdout
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(into)
    return into

"""`inv --list` against bare `invoke --version`: the runbook should add little to Invoke's start-up."""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def timed(cmd: list[str], runs: int = 7) -> float:
    samples = []
    for _ in range(runs):
        began = time.perf_counter()
        subprocess.run(cmd, cwd=ROOT, check=True, capture_output=True)
        samples.append(time.perf_counter() - began)
    return statistics.median(samples)


def main() -> None:
    bare = timed([str(BIN / "invoke"), "--version"])
    listing = timed([str(BIN / "inv"), "--list"])
    print(f"invoke --version: {bare * 1000:.0f} ms (median of 7)")
    print(f"inv --list:       {listing * 1000:.0f} ms (median of 7)")
    print(f"ratio:            {listing / bare:.2f}x bare Invoke")


if __name__ == "__main__":
    main()

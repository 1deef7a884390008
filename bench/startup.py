"""Start-up: `inv --list` against bare `invoke --version`, and `inv validate` end to end, for an
earlier commit and this tree, in one run.

Each tree runs with PYTHONPATH at its own `src/` and `--search-root` at its own tasks.py. Its
`__pycache__` folders are removed first and one untimed run goes before the timed ones, so each
shows its steady state: the earlier tree compiled the project's modules again on every run
(Invoke turns bytecode writing off); this one caches them. `inv validate` runs against a local
sandbox, so it includes importing httpx (which used to pull in click and pygments).

    .venv/bin/python bench/startup.py [--before f8d354b] [--runs 9]
"""

from __future__ import annotations

import argparse
import io
import os
import shutil
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
BEFORE = "f8d354b"  # main before issue 11 item 17


def tree_at(rev: str, into: Path) -> Path:
    archive = subprocess.run(["git", "archive", rev, "src", "tasks.py"], cwd=ROOT, check=True,
                             capture_output=True).stdout
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(into)
    return into


def timed(cmd: list[str], env: dict, cwd: Path, runs: int) -> float:
    subprocess.run(cmd, cwd=cwd, env=env, check=True, capture_output=True)  # untimed: writes caches if it can
    samples = []
    for _ in range(runs):
        began = time.perf_counter()
        subprocess.run(cmd, cwd=cwd, env=env, check=True, capture_output=True)
        samples.append(time.perf_counter() - began)
    return statistics.median(samples)


def measure(tree: Path, base_env: dict, work: Path, runs: int) -> dict[str, float]:
    for cache in (tree / "src").rglob("__pycache__"):
        shutil.rmtree(cache, ignore_errors=True)
    env = {**base_env, "PYTHONPATH": str(tree / "src")}
    inv = [str(BIN / "inv"), "--search-root", str(tree)]
    return {"list": timed([*inv, "--list"], env, work, runs),
            "validate": timed([*inv, "validate"], env, work, runs)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", default=BEFORE, help="the earlier commit to compare with")
    parser.add_argument("--runs", type=int, default=9)
    args = parser.parse_args()

    from mtn_runbook.core.session import Session, save
    from mtn_runbook.sandbox import Sandbox

    with Sandbox() as sb, tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp) / "work"
        work.mkdir()
        save(work / ".cache" / "mtn-session.json", Session.from_dict(sb.mtn.mint_session(), "bench"))
        env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONDONTWRITEBYTECODE")}
        env.update(sb.env())
        env["MTN_SESSION_FILE"] = str(work / ".cache" / "mtn-session.json")
        bare = timed([str(BIN / "invoke"), "--version"], env, work, args.runs)
        before = measure(tree_at(args.before, Path(tmp) / "before"), env, work, args.runs)
        after = measure(ROOT, env, work, args.runs)
        bare_again = timed([str(BIN / "invoke"), "--version"], env, work, args.runs)
    bare = min(bare, bare_again)  # the machine's quieter moment: the stricter baseline
    print(f"median of {args.runs} runs each, in one run of this script")
    print(f"invoke --version:            {bare * 1000:6.0f} ms")
    for label, r in ((f"before ({args.before})", before), ("this tree", after)):
        print(f"{label:18} inv --list:   {r['list'] * 1000:6.0f} ms ({r['list'] / bare:.2f}x bare Invoke)   "
              f"inv validate: {r['validate'] * 1000:6.0f} ms")
    print(f"inv validate, before / this tree = {before['validate'] / after['validate']:.2f}x; "
          f"inv --list, before / this tree = {before['list'] / after['list']:.2f}x")


if __name__ == "__main__":
    main()

"""Start-up: `inv --list` against bare `invoke --version`, and `inv validate` end to end, for an
earlier commit and this tree, in one run.

Each tree runs with PYTHONPATH at its own `src/` and `--search-root` at its own tasks.py. Its
`__pycache__` folders are removed, then compiled as scripts/setup compiles them (Invoke writes no
bytecode itself), and one untimed run goes before the timed ones, so each shows its steady
state. `inv validate` runs against a local sandbox, so it includes importing httpx (which
imports its command line's click, pygments and rich when they are installed).

    .venv/bin/python bench/startup.py [--before f8d354b] [--runs 9]
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from earlier_tree import earlier_tree

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
BEFORE = "f8d354b"  # main before issue 11 item 17


def timed(commands: dict[str, tuple[list[str], dict]], cwd: Path, runs: int) -> dict[str, float]:
    """Median seconds of each command, its runs interleaved with the others' (a round of each, `runs`
    times), so a busy moment of the machine weighs on every command alike."""
    for cmd, env in commands.values():
        subprocess.run(cmd, cwd=cwd, env=env, check=True, capture_output=True)  # untimed: warms the caches
    samples: dict[str, list[float]] = {key: [] for name in commands for key in (name, f"{name} cpu")}
    for _ in range(runs):
        for name, (cmd, env) in commands.items():
            began, cpu = time.perf_counter(), _children_cpu()
            subprocess.run(cmd, cwd=cwd, env=env, check=True, capture_output=True)
            samples[name].append(time.perf_counter() - began)
            samples[f"{name} cpu"].append(_children_cpu() - cpu)
    return {name: statistics.median(times) for name, times in samples.items()}


def _children_cpu() -> float:
    """CPU seconds (user + system) of finished children: what a run costs, whatever else the machine does."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def commands_of(label: str, tree: Path, base_env: dict) -> dict[str, tuple[list[str], dict]]:
    for cache in (tree / "src").rglob("__pycache__"):
        shutil.rmtree(cache, ignore_errors=True)
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(tree / "src")], check=True, capture_output=True)
    env = {**base_env, "PYTHONPATH": str(tree / "src")}
    inv = [str(BIN / "inv"), "--search-root", str(tree)]
    return {f"{label} list": ([*inv, "--list"], env), f"{label} validate": ([*inv, "validate"], env)}


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
        median = timed({"bare": ([str(BIN / "invoke"), "--version"], env),
                        **commands_of("before", earlier_tree(args.before, Path(tmp) / "before"), env),
                        **commands_of("after", ROOT, env)}, work, args.runs)
    print(f"median of {args.runs} runs each, interleaved, in one run of this script: wall clock, then CPU (user+system)")
    for kind, suffix in (("wall", ""), ("cpu ", " cpu")):
        bare = median["bare" + suffix]
        print(f"{kind} invoke --version:            {bare * 1000:6.0f} ms")
        for label, key in ((f"before ({args.before})", "before"), ("this tree", "after")):
            listing, validate = median[f"{key} list{suffix}"], median[f"{key} validate{suffix}"]
            print(f"{kind} {label:18} inv --list: {listing * 1000:6.0f} ms ({listing / bare:.2f}x bare Invoke)   "
                  f"inv validate: {validate * 1000:6.0f} ms")

if __name__ == "__main__":
    main()

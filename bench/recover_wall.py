"""`inv recover` as a person runs it: a new process each time, against fresh sandbox stand-ins,
this tree alternated with an earlier one (`--before`), at +0, +0.1 and +0.3 s per answer.

Each run is `inv recover --headless` in its own process (cold: the interpreter, Invoke, every
import and, when a login is needed, Playwright's driver and Chromium start in it), timed from the
spawn to the exit. Per run:
  wall     spawn to exit
  server   the time at least one stand-in was answering a request (union of request spans),
           the login page's requests left out
  page     the login page: its first to its last request (the SSO stand-in, and the API host's
           pages it lands on: the browser driving it)
  build    the redeploy's build (created to READY, from the Vercel stand-in)
  own      wall minus the union of server, page and build: what recover itself adds
  rt       critical-path round trips outside the login page: server / (seconds per answer)
  rss      the peak resident memory of the process and all its children together (sampled)
  browser  whether Chromium ran at all
`--session dead` (default): the saved session expired (captcha solves at once); `--session live`:
it is live (no login). `--build S`: the redeploy takes S s. Every figure is over n runs per
column (median, min and max), with the load average when the measurement began.

    .venv/bin/python bench/recover_wall.py [--n 5] [--rtt 0,0.1,0.3] [--before d04ae12] [--session dead|live]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from earlier_tree import earlier_tree

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
SERVICES = ("mtn_api", "vercel", "github", "app")   # the APIs the per-answer delay applies to
TRACE = False


def union(spans: list[tuple[float, float]]) -> float:
    total, end = 0.0, float("-inf")
    for a, b in sorted(spans):
        if b > end:
            total += b - max(a, end)
            end = b
    return total


def communicate_sampled(proc: subprocess.Popen) -> tuple[str, str, float, int, bool]:
    """Wait for `proc`, sampling its process tree every 20 ms: its output, the time it ended, the
    peak resident bytes of the tree, and whether Chromium ran in it."""
    peak, chromium, done = [0], [False], threading.Event()

    def sample() -> None:
        while not done.is_set():
            rss, chrome = tree_rss(proc.pid)
            peak[0], chromium[0] = max(peak[0], rss), chromium[0] or chrome
            done.wait(0.02)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    out, err = proc.communicate(timeout=300)
    ended = time.time()
    done.set()
    sampler.join()
    return out, err, ended, peak[0], chromium[0]


def tree_rss(root: int) -> tuple[int, bool]:
    """Resident bytes of `root` and every descendant; whether one of them is Chromium."""
    children: dict[int, list[int]] = {}
    names: dict[int, str] = {}
    rss: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        pid = int(entry)
        name, rest = stat[stat.index("(") + 1:stat.rindex(")")], stat[stat.rindex(")") + 2:].split()
        children.setdefault(int(rest[1]), []).append(pid)
        names[pid], rss[pid] = name, int(rest[21]) * os.sysconf("SC_PAGE_SIZE")
    total, chromium, todo = 0, False, [root]
    while todo:
        pid = todo.pop()
        total += rss.get(pid, 0)
        chromium = chromium or "chrom" in names.get(pid, "")
        todo += children.get(pid, [])
    return total, chromium


def from_page(request: dict) -> bool:
    """A request of the login page: to the SSO stand-in, or its landing on the API host (not /api/)."""
    return request["service"] == "mtn_sso" or (request["service"] == "mtn_api"
                                                and not request["path"].startswith("/api/"))


def one(tree: Path, rtt: float, session: str, build: float) -> dict:
    from mtn_runbook.core import session as sessions
    from mtn_runbook.core.pushed import for_push
    from mtn_runbook.sandbox import Sandbox

    with tempfile.TemporaryDirectory() as tmp, Sandbox(captcha_delay=0.0, deploy_seconds=build) as sb:
        work = Path(tmp)
        minted = sessions.Session.from_dict(sb.mtn.mint_session(), "minted")
        if session == "dead":
            sb.mtn.expire(minted.session_id)
        else:  # live, as a push leaves it: its gate noted
            minted = for_push(minted.extended(24), sb.urls["mtn_api"], 48, renew=True).session
        sessions.save(work / ".cache" / "mtn-session.json", minted)
        for service in SERVICES if rtt else ():
            sb.faults.add(service=service, delay=rtt, count=-1)
        clean = {k: v for k, v in os.environ.items() if not k.startswith(("GH_", "GITHUB_", "VERCEL_", "MTN_"))}
        env = {**clean, "HOME": str(work), "PATH": f"{BIN}:{clean.get('PATH', '/usr/bin:/bin')}", **sb.env()}
        if tree != ROOT:
            env["PYTHONPATH"] = str(tree / "src")
        sb.history.clear()
        began = time.time()
        proc = subprocess.Popen([str(BIN / "inv"), "--search-root", str(tree), "recover", "--headless",
                                 "--timeout", "60"], cwd=work, env=env, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)
        out, err, ended, peak, chromium = communicate_sampled(proc)
        if proc.returncode != 0:
            raise SystemExit(f"recover exited {proc.returncode}: {err.strip().splitlines()[-1:]}")
        requests = [e for e in sb.history.requests() if e.get("seconds") is not None]
        sso = [(e["t"], e["t"] + e["seconds"]) for e in requests if from_page(e)]
        page = (min(a for a, _ in sso), max(b for _, b in sso)) if sso else None
        server = [(e["t"], e["t"] + e["seconds"]) for e in requests if not from_page(e)
                  and not (page and page[0] <= e["t"] <= page[1])]
        builds = [(d["createdAt"] / 1000, d["ready"] / 1000) for d in sb.vercel.deployments()
                  if d.get("ready") and d["createdAt"] / 1000 >= began]
    busy = union(server + ([page] if page else []) + builds)
    if TRACE:
        for e in sorted(requests, key=lambda e: e["t"]):
            print(f"{e['t'] - began:7.2f} {e['seconds']:5.2f} {e['service']:8} {e['method']:6} {e['path'][:70]}")
    return {"wall": ended - began, "server": union(server), "page": page[1] - page[0] if page else 0.0,
            "build": union(builds), "own": ended - began - busy,
            "rt": union(server) / rtt if rtt else float("nan"), "rss": peak / 2**20,
            "chromium": chromium}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=5, help="runs per column (alternated)")
    parser.add_argument("--rtt", default="0,0.1,0.3", help="seconds added to every API answer, comma-separated")
    parser.add_argument("--before", default="d04ae12", help="the earlier commit to alternate with ('' for none)")
    parser.add_argument("--session", choices=("dead", "live"), default="dead")
    parser.add_argument("--build", type=float, default=0.0, help="seconds the redeploy's build takes")
    parser.add_argument("--trace", action="store_true", help="print one run of this tree's requests, then stop")
    args = parser.parse_args()
    if args.trace:
        global TRACE
        TRACE = True
        print(one(ROOT, float(args.rtt.split(",")[-1]), args.session, args.build))
        return
    with tempfile.TemporaryDirectory() as tmp:
        trees = {"this tree": ROOT}
        if args.before:
            trees = {args.before: earlier_tree(args.before, Path(tmp)), **trees}
        for tree in trees.values():   # compile each tree's bytecode once: every measured run is alike
            one(tree, 0.0, args.session, args.build)
        for rtt in [float(r) for r in args.rtt.split(",")]:
            load = os.getloadavg()[0]
            runs: dict[str, list[dict]] = {k: [] for k in trees}
            for _ in range(args.n):
                for name, tree in trees.items():
                    runs[name].append(one(tree, rtt, args.session, args.build))
            report(rtt, runs, args, load)


def report(rtt: float, runs: dict[str, list[dict]], args: argparse.Namespace, load: float) -> None:
    print(f"\n{args.session} session, every API answer +{rtt:g} s, build {args.build:g} s, "
          f"n={args.n} per column, alternated; load average {load:.2f} at the start")
    print(f"{'':12}" + "".join(f"{k:>30}" for k in runs))
    for key, unit in (("wall", "s"), ("own", "s"), ("server", "s"), ("page", "s"), ("build", "s"),
                      ("rt", ""), ("rss", "MiB")):
        cells = []
        for samples in runs.values():
            xs = [s[key] for s in samples]
            if any(x != x for x in xs):
                cells.append(f"{'–':>30}")
                continue
            cells.append(f"{statistics.median(xs):>10.2f} {unit:<3} [{min(xs):.2f}–{max(xs):.2f}]".rjust(30))
        print(f"{key:12}" + "".join(cells))
    print(f"{'own / wall':12}" + "".join(
        f"{statistics.median(s['own'] / s['wall'] for s in samples):>21.0%}"
        f" [{min(s['own'] / s['wall'] for s in samples):.0%}–{max(s['own'] / s['wall'] for s in samples):.0%}]"
        for samples in runs.values()))
    print(f"{'chromium':12}" + "".join(f"{sum(s['chromium'] for s in samples):>22} of {len(samples)} runs"
                                       for samples in runs.values()))


if __name__ == "__main__":
    main()

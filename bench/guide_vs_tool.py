"""The old way and the new way, rehearsed on the same stand-ins in one run, alternating.

The old way is the guide's manual procedure (seed/mtn-session-refresh-guide.md) typed by nobody:
the real `vercel` CLI (`env rm MTN_SESSION production --yes`, `env add MTN_SESSION production`
from stdin, `redeploy <url> --target production`), the real `gh secret set MTN_SESSION`, then the
guide's checks (`curl .../api/mtn-wholesale/auth` and `.../products`). The new ways are
`inv push` + `inv deploy` (which also validate the session first and check production after) and
`inv recover` from a live session file (no login). With `--before REV` the new ways also run on
an earlier tree. The ways take turns, each round in a different order. Each run gets a freshly
minted session. Printed: each run's wall time; per way the median [min–max] and its ratio to the
guide's median; how long production's MTN_SESSION variable was missing (from the Vercel
stand-in's recorded env changes); for recover, the peak RSS of its process tree and whether
Chromium ran. Needs gh, curl and the vercel CLI (scripts/setup NEED_CLIENTS=1).

    .venv/bin/python bench/guide_vs_tool.py [--rounds 5] [--deploy-seconds 1.5] [--before d04ae12]

`--platform coolify`: the same on the Coolify stand-in, production on Coolify. The old way is the
anchor workflow's: `curl -X PATCH …/api/v1/applications/{uuid}/envs` with
`{"key":"MTN_SESSION","value":…,"is_preview":false}`, the container recreated on the host, `sleep
90`, `curl …/api/mtn-wholesale/auth`. The new way: `inv push` + `inv deploy`. The waits are scaled
by `--scale` (default 10: the 90 s sleep lasts 9 s, a deployment of `--coolify-deploy-seconds` real
seconds lasts a tenth of it); the rest (process start, HTTP, validation) runs at its own speed. Both
the measured bench seconds and a real-time estimate are printed: measured + (scale - 1) x the scaled
waits inside the interval (the sleep; the deployment). "Without a working session" is measured by
polling production's /auth from the start of each round until it reports the new session. The recreate is modelled at its best by default (the new container gets the
variables as they are now); `--recreate stale` models it as a real host runs it: compose reads the
.env that Coolify's last deployment wrote, so the PATCHed value is not picked up. Needs only curl.

    .venv/bin/python bench/guide_vs_tool.py --platform coolify [--rounds 3] [--scale 10] [--coolify-deploy-seconds 45] [--recreate best|stale]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
VERCEL_CLI = Path(os.environ.get("VERCEL_CLI") or ROOT / ".cache/tools/vercel/node_modules/.bin/vercel")
BIN = Path(sys.executable).parent


def run(cmd: list[str], env: dict[str, str], cwd: Path, stdin: str = "") -> None:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("GH_", "GITHUB_", "VERCEL_", "MTN_"))}
    done = subprocess.run(cmd, env={**clean, "HOME": str(cwd), **env}, cwd=cwd, input=stdin,
                          capture_output=True, text=True, timeout=300)
    if done.returncode != 0:   # print the command's own last line: sandbox values only, never real ones
        last = (done.stderr.strip() or done.stdout.strip()).splitlines()[-1:]
        raise SystemExit(f"{Path(cmd[0]).name} {cmd[1]} failed ({done.returncode}): {' '.join(last)}")


def old_way(sb, value: str, home: Path) -> None:
    """The guide's commands with the real clients."""
    vercel = [str(VERCEL_CLI)]
    tail = [*sb.vercel_cli_args(), "--global-config", str(home / "vercel")]
    venv = sb.vercel_cli_env()
    run([*vercel, "env", "rm", "MTN_SESSION", "production", "--yes", *tail], venv, home)
    run([*vercel, "env", "add", "MTN_SESSION", "production", *tail], venv, home, stdin=value)
    run(["gh", "secret", "set", "MTN_SESSION"], sb.gh_env(str(home / "gh")), home, stdin=value)
    url = sb.vercel.production_deployment()["url"]
    run([*vercel, "redeploy", url, "--target", "production", *tail], venv, home)


    for path in ("auth", "products"):   # the guide's checks, once the deploy is done
        run(["curl", "-fsS", "-o", "/dev/null", f"{sb.urls['app']}/api/mtn-wholesale/{path}"], {}, home)


def tool_env(sb, home: Path, tree: Path) -> dict[str, str]:
    env = {**sb.env(), "PATH": f"{BIN}:{os.environ.get('PATH', '/usr/bin:/bin')}", "LANG": "C.UTF-8",
           "MTN_SESSION_FILE": str(home / "mtn-session.json")}
    if os.environ.get("PLAYWRIGHT_CHROMIUM_EXECUTABLE_PATH"):
        env["PLAYWRIGHT_CHROMIUM_EXECUTABLE_PATH"] = os.environ["PLAYWRIGHT_CHROMIUM_EXECUTABLE_PATH"]
    if tree != ROOT:
        env["PYTHONPATH"] = str(tree / "src")
    return env


def new_way(sb, home: Path, tree: Path) -> None:
    for task in ("push", "deploy"):
        run([str(BIN / "inv"), "--search-root", str(tree), task], tool_env(sb, home, tree), home)


def recover_way(sb, home: Path, tree: Path) -> tuple[float, bool]:
    """`inv recover` from a live session file; the peak RSS (MiB) of its process tree, whether Chromium ran."""
    from recover_wall import communicate_sampled

    clean = {k: v for k, v in os.environ.items() if not k.startswith(("GH_", "GITHUB_", "VERCEL_", "MTN_"))}
    proc = subprocess.Popen([str(BIN / "inv"), "--search-root", str(tree), "recover", "--headless"],
                            env={**clean, "HOME": str(home), **tool_env(sb, home, tree)}, cwd=home,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    _, err, _, peak, chromium = communicate_sampled(proc)
    if proc.returncode != 0:
        raise SystemExit(f"inv recover failed ({proc.returncode}): {err.strip().splitlines()[-1:]}")
    return peak / 2**20, chromium


def live(sb, session):
    """A live session as a push leaves it in the session file: its gate noted (core/pushed.py)."""
    from mtn_runbook.core.pushed import for_push

    return for_push(session.extended(24), sb.urls["mtn_api"], 48, renew=True).session


def expected(sb, way: str, session, home: Path) -> str:
    """What production must hold: the guide pushes the whole session; `inv push` pushes the MTN API
    host's cookies with the app's gate as expiresAt (core/pushed.py), the gate noted in the file."""
    from mtn_runbook.core.pushed import app_value
    from mtn_runbook.core.session import load

    if way == "guide":
        return session.encode()
    return app_value(load(home / "mtn-session.json")[0], sb.urls["mtn_api"])[0].encode()


def gap_without_var(sb, since: float, until: float) -> float:
    """Seconds production's MTN_SESSION variable was missing between two moments."""
    missing_from, total = None, 0.0
    for change in sb.history.events("vercel", "env.change"):
        if not since <= change["t"] <= until:
            continue
        if not change["production_has"] and missing_from is None:
            missing_from = change["t"]
        elif change["production_has"] and missing_from is not None:
            total, missing_from = total + change["t"] - missing_from, None
    return total + (until - missing_from if missing_from is not None else 0.0)


def old_way_coolify(sb, value: str, home: Path, scale: float, fresh: bool) -> float:
    """The anchor workflow: curl PATCH (no flags: Coolify resets them), recreate, sleep 90, curl.
    Returns when the sleep began (perf_counter)."""
    o, env = sb.options, {"PATH": os.environ.get("PATH", "/usr/bin:/bin")}
    body = json.dumps({"key": "MTN_SESSION", "value": value, "is_preview": False})
    run(["curl", "-sf", "-X", "PATCH", f"{sb.urls['coolify']}/api/v1/applications/{o.coolify_app_uuid}/envs",
         "-H", f"Authorization: Bearer {o.coolify_token}", "-H", "Content-Type: application/json",
         "--data-binary", "@-"], env, home, stdin=body)
    sb.coolify.recreate(fresh)                  # docker compose up -d --force-recreate, on the host
    slept = time.perf_counter()
    time.sleep(90 / scale)                      # sleep 90, scaled
    run(["curl", "-sf", f"{sb.urls['app']}/api/mtn-wholesale/auth"], env, home)
    return slept


def new_way_coolify(sb, home: Path) -> None:
    env = {**{k: v for k, v in sb.env().items() if not k.startswith("GITHUB_")},
           "PATH": f"{BIN}:{os.environ.get('PATH', '/usr/bin:/bin')}", "LANG": "C.UTF-8",
           "MTN_SESSION_FILE": str(home / "mtn-session.json")}
    for task in ("push", "deploy"):
        run([str(BIN / "inv"), "--search-root", str(ROOT), task], env, home)


class Outage:
    """Polls production's /auth until it reports `session_id`: how long it ran without it."""

    def __init__(self, sb, session_id: str):
        import threading

        self.sb, self.session_id, self.began, self.fixed_at = sb, session_id, time.perf_counter(), None
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._poll, daemon=True)
        self.thread.start()

    def _poll(self) -> None:
        import httpx

        with httpx.Client(timeout=5) as client:
            while self.fixed_at is None and not self.stop.is_set():
                auth = client.get(f"{self.sb.urls['app']}/api/mtn-wholesale/auth").json()
                if auth.get("sessionId") == self.session_id:
                    self.fixed_at = time.perf_counter()
                time.sleep(0.02)

    def seconds(self) -> float:
        """Called when the way has ended: both ways end after production answered for themselves."""
        ended = time.perf_counter()
        self.stop.set()
        self.thread.join(timeout=10)
        return (self.fixed_at or ended) - self.began


def coolify(args: argparse.Namespace) -> None:
    if not shutil.which("curl"):
        raise SystemExit("needs curl")
    from mtn_runbook.core.session import Session, save
    from mtn_runbook.sandbox import Sandbox

    scale = args.scale
    results: dict[str, list[tuple[float, float]]] = {"old": [], "new": []}
    with Sandbox(captcha_delay=None, deploy_seconds=args.coolify_deploy_seconds / scale, production="coolify") as sb, \
            tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp)
        for round_ in range(args.rounds):
            for way in ("old", "new"):
                sb.coolify.set_env("MTN_SESSION", sb.coolify.seed_value, is_literal=True)   # production broken
                sb.coolify.recreate()
                session = Session.from_dict(sb.mtn.mint_session(), "bench")
                outage = Outage(sb, session.session_id)
                began = time.perf_counter()
                if way == "old":
                    slept = old_way_coolify(sb, session.encode(), home, scale, args.recreate == "best")
                    wait = 90 / scale
                    seconds, down = time.perf_counter() - began, outage.seconds()
                    fixed = outage.fixed_at if outage.fixed_at is not None else time.perf_counter()
                    down_wait = max(0.0, min(fixed, slept + wait) - slept)   # the part of the outage spent asleep
                else:
                    save(home / "mtn-session.json", session)
                    new_way_coolify(sb, home)
                    wait = down_wait = args.coolify_deploy_seconds / scale
                    seconds, down = time.perf_counter() - began, outage.seconds()
                real, down_real = seconds + (scale - 1) * wait, down + (scale - 1) * down_wait
                var = next(e for e in sb.coolify.variables() if e["key"] == "MTN_SESSION" and not e["is_preview"])
                results[way].append((real, down_real))
                fixed = "" if outage.fixed_at is not None else " (still not working at the end)"
                print(f"round {round_ + 1}  {way:3}  bench {seconds:5.2f} s, real {real:6.1f} s   production without a "
                      f"working session: bench {down:5.2f} s, real {down_real:6.1f} s{fixed}   "
                      f"is_literal after: {var['is_literal']}")
    old = statistics.median(s for s, _ in results["old"])
    new = statistics.median(s for s, _ in results["new"])
    print()
    print(f"{'(real-time estimates)':34}{'old way (curl, recreate, sleep 90)':>36}"
          f"{'new way (inv push + deploy)':>30}")
    print(f"{'median wall time':34}{old:>34.1f} s{new:>28.1f} s")
    print(f"{'median without a working session':34}{statistics.median(d for _, d in results['old']):>34.1f} s"
          f"{statistics.median(d for _, d in results['new']):>28.1f} s")
    how = ("instant and with the new variables (its best case)" if args.recreate == "best" else
           "with the .env of Coolify's last deployment (as on a real host)")
    print(f"deployment {args.coolify_deploy_seconds:g} s real; the recreate modelled {how}; {args.rounds} rounds each")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--deploy-seconds", type=float, default=1.5)
    parser.add_argument("--before", default="", help="an earlier commit whose inv runs too")
    parser.add_argument("--platform", choices=("vercel", "coolify"), default="vercel")
    parser.add_argument("--scale", type=float, default=10.0, help="coolify: the waits (sleep, deployment) run this much faster")
    parser.add_argument("--recreate", choices=("best", "stale"), default="best",
                        help="coolify: the host's recreate picks up the PATCHed value (best) or not (stale)")
    parser.add_argument("--coolify-deploy-seconds", type=float, default=45.0,
                        help="coolify: how long a deployment takes, in real seconds")
    args = parser.parse_args()
    if args.platform == "coolify":
        return coolify(args)
    if not shutil.which("gh") or not shutil.which("curl") or not VERCEL_CLI.exists():
        raise SystemExit("needs gh, curl and the vercel CLI: run NEED_CLIENTS=1 scripts/setup")
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from earlier_tree import earlier_tree

    from mtn_runbook.core.session import Session, save
    from mtn_runbook.sandbox import Sandbox

    load = os.getloadavg()[0]
    with Sandbox(captcha_delay=None, deploy_seconds=args.deploy_seconds, tls=True) as sb, \
            tempfile.TemporaryDirectory() as tmp, tempfile.TemporaryDirectory() as src:
        home = Path(tmp)
        trees = {"": ROOT, **({f" @{args.before}": earlier_tree(args.before, Path(src))} if args.before else {})}
        ways = ["guide"] + [f"{w}{t}" for t in trees for w in ("push+deploy", "recover")]
        results: dict[str, list[tuple[float, float]]] = {w: [] for w in ways}
        memory: dict[str, list[tuple[float, bool]]] = {w: [] for w in ways if w.startswith("recover")}
        for round_ in range(args.rounds):
            for way in ways[round_ % len(ways):] + ways[:round_ % len(ways)]:   # each round another order
                tree = next(t for k, t in trees.items() if way.endswith(k) and (k or "@" not in way))
                session = Session.from_dict(sb.mtn.mint_session(), "bench")
                if way.startswith("recover"):
                    session = live(sb, session)
                began_wall, began = time.time(), time.perf_counter()
                if way == "guide":
                    old_way(sb, session.encode(), home)
                elif way.startswith("push"):
                    save(home / "mtn-session.json", session)
                    new_way(sb, home, tree)
                else:
                    save(home / "mtn-session.json", session)
                    memory[way].append(recover_way(sb, home, tree))
                seconds = time.perf_counter() - began
                gap = gap_without_var(sb, began_wall, time.time())
                results[way].append((seconds, gap))
                print(f"round {round_ + 1}  {way:24} {seconds:6.2f} s   production without MTN_SESSION: {gap:.2f} s")
                assert sb.vercel.production_env().get("MTN_SESSION") == expected(sb, way, session, home), \
                    "production not updated"

    guide = statistics.median(s for s, _ in results["guide"])
    print(f"\nbuild {args.deploy_seconds:g} s, nobody typing, n={args.rounds} per way, turns alternated; "
          f"load average {load:.2f} at the start")
    print(f"{'':24}{'median [min–max]':>24}{'/ guide':>9}{'MTN_SESSION missing (max)':>28}")
    for way, runs in results.items():
        xs = [s for s, _ in runs]
        median = statistics.median(xs)
        print(f"{way:24}{f'{median:.2f} s [{min(xs):.2f}–{max(xs):.2f}]':>24}{median / guide:>9.2f}"
              f"{max(g for _, g in runs):>26.2f} s")
    for way, seen in memory.items():
        print(f"{way}: peak RSS (process tree) {statistics.median(m for m, _ in seen):.0f} MiB "
              f"[{min(m for m, _ in seen):.0f}–{max(m for m, _ in seen):.0f}], Chromium ran in "
              f"{sum(c for _, c in seen)} of {len(seen)} runs")


if __name__ == "__main__":
    main()

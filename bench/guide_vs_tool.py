"""The old way and the new way, rehearsed on the same stand-ins in one run, alternating.

The old way is the guide's manual procedure (seed/mtn-session-refresh-guide.md) typed by nobody:
the real `vercel` CLI (`env rm MTN_SESSION production --yes`, `env add MTN_SESSION production`
from stdin, `redeploy <url> --target production`) and the real `gh secret set MTN_SESSION`. The
new way is `inv push` + `inv deploy`, which also validate the session first and check production
after. Each round gets a freshly minted session. Printed: each run's wall time, the ratio of the
medians, and how long production's MTN_SESSION variable was missing (from the Vercel stand-in's
recorded env changes). Needs gh and the vercel CLI (scripts/setup NEED_CLIENTS=1).

    .venv/bin/python bench/guide_vs_tool.py [--rounds 3] [--deploy-seconds 1.0]
"""

from __future__ import annotations

import argparse
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


def new_way(sb, home: Path) -> None:
    env = {**sb.env(), "PATH": f"{BIN}:{os.environ.get('PATH', '/usr/bin:/bin')}", "LANG": "C.UTF-8",
           "MTN_SESSION_FILE": str(home / "mtn-session.json")}
    for task in ("push", "deploy"):
        run([str(BIN / "inv"), "--search-root", str(ROOT), task], env, home)


def expected(sb, way: str, session, home: Path) -> str:
    """What production must hold: the guide pushes the whole session; `inv push` pushes the MTN API
    host's cookies with the app's gate as expiresAt (core/pushed.py), the gate noted in the file."""
    from mtn_runbook.core.pushed import app_value
    from mtn_runbook.core.session import load

    if way == "old":
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--deploy-seconds", type=float, default=1.0)
    args = parser.parse_args()
    if not shutil.which("gh") or not VERCEL_CLI.exists():
        raise SystemExit("needs gh and the vercel CLI: run NEED_CLIENTS=1 scripts/setup")

    from mtn_runbook.core.session import Session, save
    from mtn_runbook.sandbox import Sandbox

    results: dict[str, list[tuple[float, float]]] = {"old": [], "new": []}
    with Sandbox(captcha_delay=None, deploy_seconds=args.deploy_seconds) as sb, \
            tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp)
        for round_ in range(args.rounds):
            for way in ("old", "new"):
                session = Session.from_dict(sb.mtn.mint_session(), "bench")
                began_wall, began = time.time(), time.perf_counter()
                if way == "old":
                    old_way(sb, session.encode(), home)
                else:
                    save(home / "mtn-session.json", session)
                    new_way(sb, home)
                seconds = time.perf_counter() - began
                gap = gap_without_var(sb, began_wall, time.time())
                results[way].append((seconds, gap))
                print(f"round {round_ + 1}  {way:3}  {seconds:6.2f} s   production without MTN_SESSION: {gap:.2f} s")
                assert sb.vercel.production_env().get("MTN_SESSION") == expected(sb, way, session, home), \
                    "production not updated"

    old = statistics.median(s for s, _ in results["old"])
    new = statistics.median(s for s, _ in results["new"])
    print()
    print(f"{'':32}{'old way (guide, real CLIs)':>28}{'new way (inv push + deploy)':>30}")
    print(f"{'median wall time':32}{old:>26.2f} s{new:>28.2f} s")
    for label, pick in (("production without MTN_SESSION", max), ("  (total over all rounds)", sum)):
        print(f"{label:32}{pick(g for _, g in results['old']):>26.2f} s{pick(g for _, g in results['new']):>28.2f} s")
    print(f"ratio new/old: {new / old:.2f} (deploy {args.deploy_seconds:g} s, nobody typing, {args.rounds} rounds each)")


if __name__ == "__main__":
    main()

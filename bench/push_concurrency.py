"""Does `push` to many targets take about as long as pushing to one?

20 GitHub environment-secret targets on the sandbox, every GitHub request delayed 200 ms (a
sandbox delay fault; each push is 4 requests in 3 round trips: public key and metadata at once,
PUT, metadata). Measured in one process: one target alone, the 20 one after another (unless
--no-sequential), then the 20 through `push` (concurrent); one and concurrent alternate --n times
(median [min–max]).

    .venv/bin/python bench/push_concurrency.py [--targets 20] [--delay 0.2] [--n 1] [--no-sequential]
"""

from __future__ import annotations

import argparse
import io
import sys
import tempfile
import time
from pathlib import Path

from mtn_runbook.core.config import Settings
from mtn_runbook.core.console import Console
from mtn_runbook.sandbox import Sandbox
from mtn_runbook.sandbox.github_state import KeyBox
from mtn_runbook.core.session import Session
from mtn_runbook.targets import push
from mtn_runbook.targets.pushing import push_one
from mtn_runbook.targets.github import GithubTarget


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--targets", type=int, default=20)
    parser.add_argument("--delay", type=float, default=0.2, help="seconds each GitHub request is held")
    parser.add_argument("--n", type=int, default=1, help="alternated measurements of one and of all")
    parser.add_argument("--no-sequential", action="store_true", help="skip the one-after-another run")
    args = parser.parse_args()
    import os
    import statistics

    load = os.getloadavg()[0]

    with Sandbox() as sb, tempfile.TemporaryDirectory() as tmp:
        names = [f"bench-{i:02d}" for i in range(args.targets)]
        for name in names:  # the stand-in has no API to create environments: add them in-process
            sb.github.environments.append(name)
            sb.github.boxes[name] = KeyBox()
        settings = Settings.load({}, environ={**sb.env(), "MTN_SESSION_FILE": str(Path(tmp) / "s.json")},
                                 dotenv_path=Path(tmp) / "none.env")
        value = Session.from_dict(sb.mtn.mint_session(), "bench").encode()

        def targets() -> list[GithubTarget]:
            return [GithubTarget(settings, repository=sb.options.github_repository, environment=n) for n in names]

        sb.faults.add(service="github", delay=args.delay, count=-1)

        quiet = Console()
        quiet.file = io.StringIO()  # the per-target lines are not the point here
        ones, concs, concurrent = [], [], []
        for _ in range(args.n):
            start = time.perf_counter()
            assert push_one(targets()[0], value).outcome == "changed"
            ones.append(time.perf_counter() - start)
            start = time.perf_counter()
            concurrent += push(settings, value, console=quiet, targets=targets())
            concs.append(time.perf_counter() - start)
        one, conc = statistics.median(ones), statistics.median(concs)

        sequential, seq = [], float("nan")
        if not args.no_sequential:
            start = time.perf_counter()
            sequential = [push_one(t, value) for t in targets()]
            seq = time.perf_counter() - start

        failed = [r for r in sequential + concurrent if r.outcome != "changed"]
        if failed:
            print(f"{len(failed)} pushes failed, e.g. {failed[0].detail}", file=sys.stderr)
            return 1
        stored = sum(sb.github.secret_value("MTN_SESSION", environment=n) == value for n in names)

    print(f"targets: {args.targets} GitHub environment secrets, {args.delay * 1000:.0f} ms per request "
          f"(4 requests in 3 round trips per push); all {stored} hold the value; n={args.n}, "
          f"load average {load:.2f} at the start")
    print(f"one target:            {one:6.2f} s  [{min(ones):.2f}–{max(ones):.2f}]")
    print(f"{args.targets} sequential:         {seq:6.2f} s")
    print(f"{args.targets} concurrent (push):  {conc:6.2f} s  [{min(concs):.2f}–{max(concs):.2f}]")
    print(f"sequential / concurrent = {seq / conc:.1f}x; concurrent / one target = {conc / one:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""A sandbox recover of a dead session (captcha solves at once, deploys take 0 s), with and without
starting the browser while the first validation runs, side by side in one process.

For each run it reports:
  to recover  from the first step to production verified (the recap's "Time to recover")
  wall        the whole recover, to the end of its last step (Chromium is closed after verify)
  page work   the browser driving the login pages (complete_login: open, fill, captcha, submit, land)
  server      the time at least one stand-in was answering a request (union of request spans)
  overhead    time to recover minus the union of page work and server time: what recover itself
              adds (Python, Playwright's driver start, Chromium's start, its first page, files)
  browser start: Playwright's driver start + Chromium launch + close + driver stop, measured alone
`--api-latency S` delays the first validation's answer by S seconds, as a far-away MTN API does.
`--rtt S` delays every answer of the MTN API, Vercel, GitHub and the app by S seconds, as a round
trip over the internet does (the sandbox answers in milliseconds, so without these there is
little for the browser's start to hide behind).
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path


def browser_start_stop(settings) -> float:
    """Driver start + Chromium launch + a page + close + driver stop: what a login pays before
    and after its page work (the old figure left out the driver's own start)."""
    from mtn_runbook.mtn.browser import start

    samples = []
    for _ in range(3):
        began = time.perf_counter()
        browser = start(settings, headless=True)
        browser.chromium.new_context().new_page()
        browser.close()
        samples.append(time.perf_counter() - began)
    return statistics.median(samples)


def union(spans: list[tuple[float, float]]) -> float:
    total, end = 0.0, float("-inf")
    for a, b in sorted(spans):
        if b > end:
            total += b - max(a, end)
            end = b
    return total


def one_recover(prestart: bool, api_latency: float, rtt: float = 0.0) -> dict:
    from mtn_runbook.core import session as sessions
    from mtn_runbook.core.config import Settings
    from mtn_runbook.core.console import Console
    from mtn_runbook.mtn import sso
    from mtn_runbook.runner.engine import Run, execute
    from mtn_runbook.runner.recovery import RECOVER
    from mtn_runbook.sandbox import Sandbox

    page_spans: list[tuple[float, float]] = []
    real = sso.complete_login

    def timed(*args, **kwargs):
        began = time.time()
        try:
            return real(*args, **kwargs)
        finally:
            page_spans.append((began, time.time()))

    sso.complete_login = timed
    try:
        with tempfile.TemporaryDirectory() as tmp, Sandbox(captcha_delay=0.0, deploy_seconds=0.0) as sb:
            env = dict(sb.env(), MTN_SESSION_FILE=str(Path(tmp) / "mtn-session.json"))
            settings = Settings.load({}, environ=env, use_dotenv=False)
            dead = sessions.Session.from_dict(sb.mtn.mint_session(), "minted")
            sb.mtn.expire(dead.session_id)  # the incident: the saved session died
            sessions.save(settings.session_file, dead)
            if api_latency:
                sb.faults.add(service="mtn_api", method="GET", path="/api/v1/.*", delay=api_latency)
            for service in ("mtn_api", "vercel", "github", "app") if rtt else ():
                sb.faults.add(service=service, delay=rtt, count=-1)
            sb.history.clear()
            run = Run("recover", settings, Console(stderr=True))
            run.facts.update(headless=True, timeout=60.0, prestart=prestart)
            began = time.time()
            execute(run, RECOVER)
            ended = time.time()
            assert run.succeeded, run.error
            server = [(e["t"], e["t"] + e["seconds"]) for e in sb.history.requests() if e.get("seconds") is not None]
    finally:
        sso.complete_login = real
    recovered = began + run.facts["verified_after"]
    page = union(page_spans)
    busy = union([(a, min(b, recovered)) for a, b in page_spans + server if a < recovered])
    return {"recover": recovered - began, "wall": ended - began, "page": page, "server": union(server),
            "overhead": recovered - began - busy,
            "validate": next(r.seconds for r in run.records if r.name == "validate")}


def earlier(rev: str, args: argparse.Namespace) -> dict:
    """This bench's measurement (browser during validate) on the tree at `rev`, in its own process
    with PYTHONPATH at that tree's src/, as bench/startup.py does."""
    import io
    import json
    import os
    import subprocess
    import sys
    import tarfile

    root = Path(__file__).resolve().parents[1]
    with tempfile.TemporaryDirectory() as tmp:
        archive = subprocess.run(["git", "archive", rev, "src"], cwd=root, check=True, capture_output=True).stdout
        with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
            tar.extractall(tmp)
        env = {**os.environ, "PYTHONPATH": str(Path(tmp) / "src")}
        env.pop("NODE_COMPILE_CACHE", None)
        out = subprocess.run([sys.executable, __file__, "--one", "--api-latency", str(args.api_latency),
                              "--rtt", str(args.rtt)], env=env, check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--api-latency", type=float, default=0.0, help="seconds added to the first validation")
    parser.add_argument("--rtt", type=float, default=0.0, help="seconds added to every API answer")
    parser.add_argument("--before", default="89329ae", help="an earlier commit to measure in the same run")
    parser.add_argument("--one", action="store_true", help=argparse.SUPPRESS)  # one measurement, as JSON
    args = parser.parse_args()
    if args.one:
        import json

        one_recover(True, 0.0)
        print(json.dumps(one_recover(True, args.api_latency, args.rtt)))
        return
    from mtn_runbook.core.config import Settings

    columns = {f"{args.before}, during": earlier(args.before, args) if args.before else None}
    one_recover(True, 0.0)  # warm the OS caches (Chromium's files) so the runs compare fairly
    columns["this tree, after"] = one_recover(False, args.api_latency, args.rtt)
    columns["this tree, during"] = one_recover(True, args.api_latency, args.rtt)
    columns = {k: v for k, v in columns.items() if v}
    startup = browser_start_stop(Settings.load({}, use_dotenv=False))
    print(f"sandbox recover of a dead session (captcha 0 s, deploy 0 s, first validation "
          f"+{args.api_latency:g} s, every API answer +{args.rtt:g} s); browser started after or during "
          f"the first validation")
    print(f"{'':26}" + "".join(f"{k:>22}" for k in columns))
    for key, label in (("recover", "to recover (verified)"), ("wall", "wall (to the last step)"),
                       ("validate", "  validate step"), ("page", "  page work"),
                       ("server", "  server (stand-ins)"), ("overhead", "  recover's overhead")):
        print(f"{label:26}" + "".join(f"{c[key]:>20.2f} s" for c in columns.values()))
    print(f"{'overhead / to recover':26}" + "".join(f"{c['overhead'] / c['recover']:>22.0%}" for c in columns.values()))
    first = next(iter(columns.values()))
    print(f"{'to recover, / first column':26}" + "".join(f"{c['recover'] / first['recover']:>22.2f}"
                                                        for c in columns.values()))
    print(f"browser start + stop, alone (driver included, median of 3): {startup:.2f} s")


if __name__ == "__main__":
    main()

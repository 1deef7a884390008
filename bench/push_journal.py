"""Push to 50 targets with a 20,000-line journal: this tree against an earlier one, in one run.

Each tree is measured in its own process (PYTHONPATH pointing at its `src/`), on its own
sandbox: 50 GitHub environment-secret targets, every GitHub request held `--delay` seconds, and a
journal of `--lines` realistic entries (steps, validations, pushes) beside the session file.
The earlier tree (default: the commit before issue 11's items 15–16) read the journal once per
target and pushed at most 32 targets at a time.

    .venv/bin/python bench/push_journal.py [--before f8d354b] [--targets 50] [--lines 20000] [--delay 0.2]
"""

from __future__ import annotations

import argparse
import io
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from earlier_tree import earlier_tree

ROOT = Path(__file__).resolve().parents[1]
BEFORE = "f8d354b"  # main before the journal cache and the uncapped round


def fill_journal(path: Path, lines: int, targets: list[str]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    kinds = []
    for i in range(lines):
        ts = f"2026-0{1 + i % 9}-{1 + i % 28:02d}T{i % 24:02d}:00:00.000Z"
        if i % 4 == 0:
            kinds.append({"ts": ts, "kind": "validation", "verdict": "valid", "apiStatus": 200,
                          "fingerprint": f"{i // 40:012x}", "createdAt": ts, "message": "MTN API accepts the session"})
        elif i % 4 == 1:
            kinds.append({"ts": ts, "kind": "push", "target": targets[i % len(targets)], "target_kind": "github",
                          "outcome": "changed", "detail": "secret updated_at moved", "seconds": 0.8,
                          "fingerprint": f"{i // 40:012x}"})
        else:
            kinds.append({"ts": ts, "kind": "step", "run": f"20260101T000000-{i:06x}", "task": "recover",
                          "step": "push", "outcome": "changed", "seconds": 1.234,
                          "detail": "3 of 3 targets updated", "fingerprint": f"{i // 40:012x}", "check": False})
    path.write_text("".join(json.dumps(e) + "\n" for e in kinds))


def measure(args: argparse.Namespace) -> dict:
    from mtn_runbook.core.config import Settings
    from mtn_runbook.core.console import Console
    from mtn_runbook.core.session import Session
    from mtn_runbook.sandbox import Sandbox
    try:
        from mtn_runbook.sandbox.github_state import KeyBox
    except ImportError:  # the earlier tree kept it in sandbox/github.py
        from mtn_runbook.sandbox.github import KeyBox
    from mtn_runbook.targets import push
    from mtn_runbook.targets.github import GithubTarget

    with Sandbox() as sb, tempfile.TemporaryDirectory() as tmp:
        names = [f"bench-{i:02d}" for i in range(args.targets)]
        for name in names:  # the stand-in has no API to create environments: add them in-process
            sb.github.environments.append(name)
            sb.github.boxes[name] = KeyBox()
        session_file = Path(tmp) / ".cache" / "s.json"
        settings = Settings.load({}, environ={**sb.env(), "MTN_SESSION_FILE": str(session_file)},
                                 dotenv_path=Path(tmp) / "none.env")
        targets = [GithubTarget(settings, repository=sb.options.github_repository, environment=n) for n in names]
        fill_journal(settings.journal_file, args.lines, [t.name for t in targets])
        value = Session.from_dict(sb.mtn.mint_session(), "bench").encode()
        sb.faults.add(service="github", delay=args.delay, count=-1)
        quiet = Console()
        quiet.file = io.StringIO()
        start = time.perf_counter()
        results = push(settings, value, console=quiet, targets=targets)
        took = time.perf_counter() - start
        stored = sum(sb.github.secret_value("MTN_SESSION", environment=n) == value for n in names)
        journal_lines = settings.journal_file.read_text(errors="replace").count("\n")
    return {"seconds": took, "changed": sum(r.outcome == "changed" for r in results), "stored": stored,
            "journalLines": journal_lines}


def run_tree(src: Path, args: argparse.Namespace) -> dict:
    cmd = [sys.executable, __file__, "--measure", "--targets", str(args.targets), "--lines", str(args.lines),
           "--delay", str(args.delay)]
    env = {**os.environ, "PYTHONPATH": str(src)}
    out = subprocess.run(cmd, env=env, check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", default=BEFORE, help="the earlier commit to compare with")
    parser.add_argument("--targets", type=int, default=50)
    parser.add_argument("--lines", type=int, default=20000)
    parser.add_argument("--delay", type=float, default=0.2, help="seconds each GitHub request is held")
    parser.add_argument("--measure", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(measure(args)))
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        before = run_tree(earlier_tree(args.before, Path(tmp)) / "src", args)
    after = run_tree(ROOT / "src", args)
    print(f"push to {args.targets} GitHub environment secrets, {args.delay * 1000:.0f} ms per request "
          f"(4 requests per push), journal of {args.lines} lines")
    for label, r in ((f"before ({args.before})", before), ("this tree", after)):
        print(f"  {label:20} {r['seconds']:6.2f} s  ({r['changed']} changed, {r['stored']} hold the value; "
              f"journal now {r['journalLines']} lines)")
    print(f"  before / this tree = {before['seconds'] / after['seconds']:.1f}x")
    return 0 if after["stored"] == args.targets else 1


if __name__ == "__main__":
    sys.exit(main())

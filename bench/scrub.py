"""What masking 16-character fragments costs `console.scrub`: a line of output and a ledger issue
body, with a realistic set of registered secrets (a session of 4 cookies, its pushed value, three
tokens), against the same scrub with the fragment index empty (whole values only, as before).

    .venv/bin/python bench/scrub.py [--repeat 2000]
"""

from __future__ import annotations

import argparse
import base64
import json
import secrets
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from mtn_runbook.core import console  # noqa: E402


def registered() -> list[str]:
    cookies = [{"name": n, "value": secrets.token_hex(n_bytes), "domain": "asp-feasibility.mtnbusiness.co.za",
                "path": "/"} for n, n_bytes in (("JSESSIONID", 16), ("CASTGC", 48), ("_GRECAPTCHA", 200), ("XSRF", 18))]
    session = base64.b64encode(json.dumps({"cookies": cookies, "sessionId": cookies[0]["value"],
                                           "expiresAt": "2026-12-08T21:00:00.000Z"}).encode()).decode()
    pushed = base64.b64encode(json.dumps({"cookies": cookies[:1], "expiresAt": "2026-12-08T21:00:00.000Z"}).encode()).decode()
    return [session, pushed, *(c["value"] for c in cookies), "ghp_" + secrets.token_hex(18),
            secrets.token_urlsafe(24), secrets.token_hex(20)]


def per_call(text: str, repeat: int) -> float:
    start = time.perf_counter()
    for _ in range(repeat):
        console.scrub(text)
    return (time.perf_counter() - start) / repeat


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=2000)
    repeat = parser.parse_args().repeat
    console.protect(*registered())
    line = "✔ vercel prj_abc (production) — MTN_SESSION updated in place (encrypted, production, preview)"
    body = "| `0a1b2c3d4e5f` | 2026-12-06 09:00 | 12.5 h | died | github-actions run 123 |\n" * 130
    print(f"registered: {len(console._secrets)} values, {len(console._windows)} windows")
    windows = set(console._windows)
    for name, text in (("one line", line), (f"issue body ({len(body)} chars)", body)):
        with_fragments = per_call(text, repeat)
        console._windows.clear()
        whole_only = per_call(text, repeat)
        console._windows.update(windows)
        print(f"{name:28}: {with_fragments * 1e6:8.1f} µs with fragments, {whole_only * 1e6:8.1f} µs whole values "
              f"only ({with_fragments / whole_only:.1f}×)")


if __name__ == "__main__":
    main()

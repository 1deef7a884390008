"""The user systemd units of the watcher (`inv watch.install`): text only, no SSH, so they can be
checked with `systemd-analyze verify` anywhere.

    mtn-runbook-keepalive.timer     every N minutes (±10 %: RandomizedDelaySec), from 1 min after boot
    mtn-runbook-keepalive.service   `mtn-runbook keepalive --count 1 --every N` (one ping a run)
    mtn-runbook-monitor.timer       every 15 minutes, catching up after a sleep (Persistent=true)
    mtn-runbook-monitor.service     `mtn-runbook monitor`, with MONITOR_EVERY_MINUTES=15 (the interval
                                    the refresh policy weighs)

Both services run in the watcher's folder, so its `.env` and `.cache/` (session, journal,
`ledger.jsonl`) are the ones read; they are oneshot, so a run never overlaps the next, and the
keepalive lock covers the rest. No unit needs root: they live in ~/.config/systemd/user.
"""

from __future__ import annotations

import shlex

KEEPALIVE, MONITOR = "mtn-runbook-keepalive", "mtn-runbook-monitor"
TIMERS = (f"{KEEPALIVE}.timer", f"{MONITOR}.timer")
MONITOR_MINUTES = 15


def _service(what: str, folder: str, command: list[str], timeout: str, env: str = "") -> str:
    return f"""[Unit]
Description=mtn-runbook {what}
After=network-online.target

[Service]
Type=oneshot
WorkingDirectory={folder}
{env}ExecStart={shlex.join(command)}
TimeoutStartSec={timeout}
NoNewPrivileges=yes
UMask=0077
"""


def _timer(what: str, unit: str, schedule: str) -> str:
    return f"""[Unit]
Description=mtn-runbook {what}

[Timer]
{schedule}
Unit={unit}

[Install]
WantedBy=timers.target
"""


def units(folder: str, every_minutes: float) -> dict[str, str]:
    """File name -> text, for a watcher installed in `folder` (absolute, on the host)."""
    binary = f"{folder}/venv/bin/mtn-runbook"
    every_s = max(1, round(every_minutes * 60))
    jitter_s = max(1, round(every_s * 0.1))
    return {
        f"{KEEPALIVE}.service": _service("keepalive: one validation ping of the MTN session", folder,
                                         [binary, "keepalive", "--count", "1", "--every", f"{every_minutes:g}"], "5min"),
        f"{KEEPALIVE}.timer": _timer(f"keepalive every {every_minutes:g} min", f"{KEEPALIVE}.service",
                                     f"OnBootSec=1min\nOnUnitActiveSec={every_s}s\nRandomizedDelaySec={jitter_s}s\n"
                                     "AccuracySec=1s"),
        f"{MONITOR}.service": _service("monitor: the MTN session and production", folder, [binary, "monitor"], "10min",
                                       f"Environment=MONITOR_EVERY_MINUTES={MONITOR_MINUTES}\n"),
        f"{MONITOR}.timer": _timer(f"monitor every {MONITOR_MINUTES} min", f"{MONITOR}.service",
                                   f"OnCalendar=*:0/{MONITOR_MINUTES}\nRandomizedDelaySec=60s\nPersistent=true"),
    }

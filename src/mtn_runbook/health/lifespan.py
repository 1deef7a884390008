"""How long MTN sessions really live, measured from the journal, and when the current one may die.

Every validation is journaled (kind="validation": ts, verdict, fingerprint, createdAt when known).
One login is one session: entries are grouped by `createdAt` (kept by `inv extend`, which changes
the fingerprint because expiresAt changes), or by fingerprint when createdAt is unknown.

Per session:  start  = createdAt, else the first time it was seen valid
              lived  = start -> first time seen expired after that     (the observed lifespan)
              at least start -> last time seen valid                   (a lower bound while alive)
Prediction:   median observed lifespan + the current session's start. With no observed lifespan:
              "no history yet", and the tracked expiry (expiresAt) stands in for it.
"""

from __future__ import annotations

import statistics
from datetime import datetime, timedelta
from typing import Any

from ..core.journal import Journal
from ..core.session import Session, iso, now, parse_time
from ..core.errors import SessionFormatError

METHOD = ("median observed lifespan (createdAt, else first seen valid -> first seen expired), "
          "added to the current session's createdAt, else its first-seen time")
NO_HISTORY = "no history yet"


def _when(text: Any) -> datetime | None:
    try:
        return parse_time(text, "ts")
    except SessionFormatError:
        return None


def _hours(delta: timedelta | None) -> float | None:
    return None if delta is None else round(delta.total_seconds() / 3600, 2)


def _key(entry: dict) -> str | None:
    if entry.get("createdAt"):
        return f"created:{entry['createdAt']}"
    return f"fp:{entry['fingerprint']}" if entry.get("fingerprint") else None


def observed(journal: Journal) -> list[dict]:
    """One record per session seen in the journal, oldest first."""
    groups: dict[str, dict] = {}
    for entry in journal.entries("validation"):
        key, ts = _key(entry), _when(entry.get("ts"))
        verdict = str(entry.get("verdict") or "")
        if key is None or ts is None:
            continue
        g = groups.setdefault(key, {"key": key, "fingerprints": [], "createdAt": _when(entry.get("createdAt")),
                                    "firstSeen": ts, "firstValid": None, "lastValid": None, "firstExpired": None})
        if entry.get("fingerprint") and entry["fingerprint"] not in g["fingerprints"]:
            g["fingerprints"].append(entry["fingerprint"])
        if verdict.startswith("valid"):
            g["firstValid"] = g["firstValid"] or ts
            g["lastValid"] = ts
        elif verdict == "expired" and g["firstExpired"] is None:
            g["firstExpired"] = ts
    records = []
    for g in groups.values():
        start = g["createdAt"] or g["firstValid"]
        if start is None:
            continue  # never seen alive: says nothing about how long sessions live
        source = "createdAt" if g["createdAt"] else "firstSeenValid"
        expired = g["firstExpired"] if g["firstExpired"] and g["firstExpired"] >= start else None
        records.append({
            "key": g["key"], "fingerprints": g["fingerprints"],
            "start": start, "startSource": source,
            "firstValid": g["firstValid"], "lastValid": g["lastValid"], "firstExpired": expired,
            "lived": (expired - start) if expired else None,
            "atLeast": (g["lastValid"] - start) if g["lastValid"] else timedelta(0),
        })
    records.sort(key=lambda r: r["start"])
    return records


def lifespan_report(journal: Journal, current: Session | None = None, *, at: datetime | None = None) -> dict:
    """Observed lifespans and the predicted expiry of `current` (default: the session of the
    latest validation in the journal). JSON-able; times in ISO 8601, durations in hours."""
    at = at or now()
    records = observed(journal)
    lived = [r["lived"] for r in records if r["lived"] is not None]
    median = timedelta(seconds=statistics.median(d.total_seconds() for d in lived)) if lived else None

    last = journal.last("validation")
    if current is not None:
        key = _key({"createdAt": current.extra.get("createdAt"), "fingerprint": current.fingerprint})
    else:
        key = _key(last) if last else None
    cur_record = next((r for r in records if r["key"] == key), None)

    current_json: dict[str, Any] | None = None
    if current is not None or cur_record is not None:
        if current is not None and current.created_at:
            start, start_source = current.created_at, "createdAt"
        elif cur_record is not None:
            start, start_source = cur_record["start"], cur_record["startSource"]
        else:
            start, start_source = at, "firstSeenNow"  # never validated before: first seen now
        if median is not None:
            predicted, basis = start + median, f"median of {len(lived)} observed lifespan(s) ({_hours(median)} h)"
        elif current is not None:
            predicted, basis = current.expires_at, f"{NO_HISTORY}: tracked expiry"
        else:  # the journal's last validation recorded the tracked expiry it saw
            tracked = _when(last.get("expiresAt")) if last else None
            predicted, basis = tracked, f"{NO_HISTORY}: tracked expiry" if tracked else NO_HISTORY
        current_json = {
            "fingerprint": current.fingerprint if current is not None else (cur_record["fingerprints"] or [None])[-1],
            "start": iso(start),
            "startSource": start_source,
            "ageHours": _hours(at - start),
            "predictedExpiry": iso(predicted) if predicted else None,
            "hoursLeft": _hours(predicted - at) if predicted else None,
            "basis": basis,
        }

    sessions = [{
        "fingerprints": r["fingerprints"],
        "start": iso(r["start"]), "startSource": r["startSource"],
        "lastValid": iso(r["lastValid"]) if r["lastValid"] else None,
        "firstExpired": iso(r["firstExpired"]) if r["firstExpired"] else None,
        "livedHours": _hours(r["lived"]),
        "atLeastHours": _hours(r["atLeast"]),
    } for r in records]
    return {
        "method": METHOD,
        "observed": len(lived),
        "medianHours": _hours(median),
        "minHours": _hours(min(lived)) if lived else None,
        "maxHours": _hours(max(lived)) if lived else None,
        "sessions": sessions,
        "current": current_json,
        "summary": summary(len(lived), median, current_json),
    }


def summary(count: int, median: timedelta | None, current: dict | None) -> str:
    """One line for the operator."""
    if median is None:
        head = f"{NO_HISTORY} (no session has been seen to expire)"
    else:
        head = f"sessions lived {_hours(median)} h (median of {count})"
    if not current or not current.get("predictedExpiry"):
        return head
    left = current["hoursLeft"]
    when = f"{left} h from now" if left >= 0 else f"{-left} h ago"
    label = "tracked expiry" if median is None else "predicted expiry"
    return f"{head}; {label} {current['predictedExpiry']} ({when})"

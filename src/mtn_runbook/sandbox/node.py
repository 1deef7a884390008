"""What the app's Node.js runtime does with MTN_SESSION, so the app stand-in reads it the same way.

The app (CircleTel's lib/services/mtn-sso-auth.ts) runs
    JSON.parse(Buffer.from(MTN_SESSION, 'base64').toString('utf-8'))
then `new Date(session.expiresAt)`, and builds its Cookie header with template strings. Each step
is lenient in its own way, and none of it is the project's own decode(): a bug there must not be
shared by the stand-in that is meant to catch it.

    buffer_from_base64(text)   Node's decoder: both alphabets, other characters skipped, stops at '='
    parse_session(text)        the whole chain; None where the app's try/catch yields no session
    date_ms(value)             new Date(value).getTime(): epoch ms, or None for an Invalid Date
    iso_ms(ms)                 Date.prototype.toISOString
    js_string(value)           `${value}` for JSON values (None is null; UNDEFINED is undefined)

Where V8 is more lenient than the ECMAScript date format (legacy formats such as "Jan 1 2030"),
the stand-in takes the stricter reading: anything but the standard format is an Invalid Date.
"""

from __future__ import annotations

import base64
import json
import re
from typing import Any

UNDEFINED = object()   # a missing property: `${undefined}` is "undefined", JSON.stringify drops it
MAX_MS = 8_640_000_000_000_000
ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
URL_SAFE = {"-": "+", "_": "/"}
DATE_RE = re.compile(
    r"(?P<y>[+-]\d{6}|\d{4})(?:-(?P<m>\d{2})(?:-(?P<d>\d{2}))?)?"
    r"(?:T(?P<H>\d{2}):(?P<M>\d{2})(?::(?P<S>\d{2})(?:\.(?P<f>\d+))?)?(?P<z>Z|[+-]\d{2}:\d{2})?)?")


def buffer_from_base64(text: str) -> bytes:
    """Buffer.from(text, 'base64'): never throws. Characters outside both alphabets (whitespace
    included) are skipped, decoding stops at the first '=', a lone trailing character is dropped."""
    kept = []
    for ch in text:
        if ch == "=":
            break
        ch = URL_SAFE.get(ch, ch)
        if ch in ALPHABET:
            kept.append(ch)
    if len(kept) % 4 == 1:
        kept.pop()
    digits = "".join(kept)
    return base64.b64decode(digits + "=" * (-len(digits) % 4))


def _no_js_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")   # Python's json accepts NaN/Infinity; JSON.parse does not


def parse_session(text: str) -> dict | None:
    """The session object the app spreads, or None (its catch: "Error loading session from env").
    A JSON value that is not an object cannot pass the app's expiresAt check, so it is None too."""
    body = buffer_from_base64(text).decode("utf-8", errors="replace")  # invalid bytes become U+FFFD
    try:
        data = json.loads(body, parse_constant=_no_js_constant)
    except ValueError:
        return None
    return data if isinstance(data, dict) else None


def _days_from_civil(y: int, m: int, d: int) -> int:
    y -= m <= 2
    era = y // 400
    yoe = y - era * 400
    doy = (153 * (m + (-3 if m > 2 else 9)) + 2) // 5 + d - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146097 + doe - 719468


def _civil_from_days(z: int) -> tuple[int, int, int]:
    z += 719468
    era = z // 146097
    doe = z - era * 146097
    yoe = (doe - doe // 1460 + doe // 36524 - doe // 146096) // 365
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    d = doy - (153 * mp + 2) // 5 + 1
    m = mp + (3 if mp < 10 else -9)
    return yoe + era * 400 + (m <= 2), m, d


def _month_days(y: int, m: int) -> int:
    if m == 2:
        return 29 if (y % 4 == 0 and y % 100 != 0) or y % 400 == 0 else 28
    return 30 if m in (4, 6, 9, 11) else 31


def _parse_date(text: str) -> int | None:
    match = DATE_RE.fullmatch(text)
    if not match or match["y"] == "-000000":
        return None
    g = match.groupdict()
    y, m, d = int(g["y"]), int(g["m"] or 1), int(g["d"] or 1)
    hh, mm, ss = int(g["H"] or 0), int(g["M"] or 0), int(g["S"] or 0)
    ms = int((g["f"] or "0")[:3].ljust(3, "0"))
    if not (1 <= m <= 12 and 1 <= d <= _month_days(y, m) and mm < 60 and ss < 60):
        return None
    if hh > 24 or (hh == 24 and (mm or ss or ms)):
        return None
    offset = 0   # date-only forms are UTC; date-time forms without an offset are local: UTC on Vercel
    if g["z"] and g["z"] != "Z":
        sign = 1 if g["z"][0] == "+" else -1
        oh, om = int(g["z"][1:3]), int(g["z"][4:6])
        if oh > 23 or om > 59:
            return None
        offset = sign * (oh * 60 + om) * 60_000
    total = _days_from_civil(y, m, d) * 86_400_000 + ((hh * 60 + mm) * 60 + ss) * 1000 + ms - offset
    return total if abs(total) <= MAX_MS else None


def date_ms(value: Any) -> int | None:
    """new Date(value).getTime() for a JSON value; None where that is NaN (an Invalid Date)."""
    if value is UNDEFINED:
        return None
    if value is None or isinstance(value, bool):
        number: float = float(bool(value))   # new Date(null) is the epoch, new Date(true) is 1 ms
    elif isinstance(value, (int, float)):
        number = float(value)
    else:
        return _parse_date(js_string(value))  # objects and arrays go through their string form
    if number != number or abs(number) > MAX_MS:
        return None
    return int(number)


def iso_ms(ms: int) -> str:
    """Date.prototype.toISOString."""
    days, rest = divmod(ms, 86_400_000)
    y, m, d = _civil_from_days(days)
    year = f"{y:04d}" if 0 <= y <= 9999 else f"{'+' if y > 0 else '-'}{abs(y):06d}"
    hh, rest = divmod(rest, 3_600_000)
    mm, rest = divmod(rest, 60_000)
    ss, milli = divmod(rest, 1000)
    return f"{year}-{m:02d}-{d:02d}T{hh:02d}:{mm:02d}:{ss:02d}.{milli:03d}Z"


def js_string(value: Any) -> str:
    """`${value}` for a value that came out of JSON.parse."""
    if value is UNDEFINED:
        return "undefined"
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() and abs(value) < 1e21 else repr(value)
    if isinstance(value, list):
        return ",".join("" if v is None else js_string(v) for v in value)
    if isinstance(value, dict):
        return "[object Object]"
    return str(value)


def truthy(value: Any) -> bool:
    if value is UNDEFINED or value is None:
        return False
    if isinstance(value, (list, dict)):
        return True    # in JavaScript every object, even an empty one, is truthy
    return bool(value)

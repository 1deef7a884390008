"""All terminal output. Nothing else in the project prints.

Every line passes through `scrub`, which replaces any registered secret (tokens, password,
cookie values, the encoded session) with `***`: a second line of defence behind messages that
are built from names, never values. `scrub` is THE scrubber for everything that leaves the
process (terminal, journal, alert issue and comments, webhook, Actions summary and annotations,
the final error line): besides registered values it redacts what a service may echo that we never
knew (`JSESSIONID=…`, `CASTGC=…`, `Bearer …`) and the credentials of any URL
(`https://user:pw@host` → `https://***@host`). Plain text when stdout is not a terminal, written
without loading rich (the same characters rich would write: tests/test_scrub.py compares them).
"""

from __future__ import annotations

import contextlib
import json
import re
import sys
import time
from typing import IO, TYPE_CHECKING, Any, Iterator, Mapping, Sequence, cast

from .reader_gone import ReaderGone

if TYPE_CHECKING:
    from rich.console import Console as RichConsole

SYMBOLS = {"ok": "✔", "changed": "✔", "skipped": "–", "failed": "✘", "would": "…", "warn": "⚠"}
STYLES = {"ok": "green", "changed": "green", "skipped": "dim", "failed": "red", "would": "cyan", "warn": "yellow"}

_secrets: set[str] = set()
FRAGMENT = 16                # a run this long of a registered value is masked wherever it appears
_windows: set[str] = set()   # every FRAGMENT-character window of every registered value (and its decoding)
# Tokens, cookie values and base64 are made of these: only runs of them need looking at, unless
# some registered text has other characters (`_wide`), when every position is looked at.
_TOKEN_RUN = re.compile(r"[A-Za-z0-9+/=_.~-]{%d,}" % FRAGMENT)
_wide: set[bool] = set()


def protect(*values: str | None) -> None:
    """Register values that must never be shown, whole or in part: any run of FRAGMENT or more
    characters of one, as it is or base64-decoded, is masked too (a service that echoes
    `value[8:260]` in an error). URLs (the webhook) are masked whole only: their scheme and host
    are not secret and would mask every mention of the host."""
    for value in values:
        if value and len(value) >= 4:
            _secrets.add(value)
            if "://" not in value:
                for text in (value, *_decodings(value)):
                    _windows.update(text[i:i + FRAGMENT] for i in range(len(text) - FRAGMENT + 1))
                    if len(text) >= FRAGMENT and not _TOKEN_RUN.fullmatch(text):
                        _wide.add(True)


def _decodings(value: str) -> list[str]:
    """What `value` says base64-decoded (standard or URL-safe), when that is text: for JSON (an
    encoded session), its string values under "value" (cookie values; its structure, hosts and
    dates are no secret), else the text itself."""
    import base64
    import binascii

    if len(value) < FRAGMENT or not re.fullmatch(r"[A-Za-z0-9+/_-]+=*", value):
        return []
    try:
        text = base64.b64decode(value.rstrip("=").translate(_URLSAFE) + "=" * (-len(value.rstrip("=")) % 4),
                                validate=True).decode("utf-8")
    except (binascii.Error, ValueError):
        return []
    if printable(text) != text:   # binary, not text someone could echo
        return []
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):   # RecursionError: JSON nested deeper than Python recurses
        return [text]
    found: list[str] = []
    stack = [data]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            found += [v for k, v in node.items() if k == "value" and isinstance(v, str)]
            stack += [v for k, v in node.items() if not (k == "value" and isinstance(v, str))]
        elif isinstance(node, list):
            stack += node
    return found


_URLSAFE = str.maketrans("-_", "+/")


def _mask_fragments(text: str) -> str:
    """`text` with every run covered by a registered window replaced by `***`."""
    if not _windows or len(text) < FRAGMENT:
        return text
    spans: list[list[int]] = []
    runs = [(0, len(text))] if _wide else [m.span() for m in _TOKEN_RUN.finditer(text)]
    for first, end in runs:
        for i in range(first, end - FRAGMENT + 1):
            if text[i:i + FRAGMENT] in _windows:
                if spans and i <= spans[-1][1]:
                    spans[-1][1] = i + FRAGMENT
                else:
                    spans.append([i, i + FRAGMENT])
    if not spans:
        return text
    out, last = [], 0
    for start, end in spans:
        out += [text[last:start], "***"]
        last = end
    return "".join(out) + text[last:]


# The cookies of an MTN session (SSO and API hosts, Google's) and a Tomcat/CAS ticket-granting one.
_COOKIE_PAIR = re.compile(r"\b(JSESSIONID|CASTGC|TGC|_GRECAPTCHA|SESSION|MTN_SESSION)=(?!\*\*\*)[^\s;,&\"'`<>|)\]}]+")
# user:password@ in any URL; any userinfo in an http(s) URL (`https://TOKEN@host` is a credential too)
_URL_USERINFO = re.compile(r"\b([a-zA-Z][a-zA-Z0-9+.-]*://)(?!\*\*\*@)[^/\s@?#:\"'`<>]*:[^/\s@?#\"'`<>]*@"
                           r"|\b(https?://)(?!\*\*\*@)[^/\s@?#\"'`<>]+@", re.IGNORECASE)
_BEARER = re.compile(r"\b(Bearer)\s+(?!\*\*\*)[A-Za-z0-9._~+/=-]{8,}", re.IGNORECASE)


def scrub(text: str) -> str:
    """Text with every registered secret (or a run of FRAGMENT characters of one), echoed
    cookie, bearer token and URL credential replaced by `***`. The one scrubber: call it on anything about to leave the process."""
    for secret in sorted(_secrets, key=len, reverse=True):
        if secret in text:
            text = text.replace(secret, "***")
    text = _mask_fragments(text)
    if "=" in text:
        text = _COOKIE_PAIR.sub(r"\1=***", text)
    if "@" in text:
        text = redact_url(text)
    return _BEARER.sub(r"\1 ***", text)


def redact_url(url: str) -> str:
    """A URL as it may be shown: without user:password@ (the rest of the URL is kept)."""
    return _URL_USERINFO.sub(lambda m: f"{m.group(1) or m.group(2)}***@", url)


_current: "Console | None" = None


def is_terminal(file: Any, environ: Mapping[str, str] | None = None) -> bool:
    """rich's own rule (Console.is_terminal): TTY_COMPATIBLE=0/1, then FORCE_COLOR, then isatty()."""
    import os

    environ = os.environ if environ is None else environ
    if environ.get("TTY_COMPATIBLE", "") in ("0", "1"):
        return environ["TTY_COMPATIBLE"] == "1"
    if environ.get("FORCE_COLOR") is not None:
        return environ["FORCE_COLOR"] != ""
    try:
        return bool(file.isatty())
    except (AttributeError, ValueError):   # no isatty, or a closed file
        return False


def warning(text: str) -> None:
    """A warning from code that has no console of its own (e.g. a malformed ledger line skipped)."""
    (_current or Console(stderr=True)).warn(text)


# Control characters other than tab and newline (C0, DEL, C1): an ANSI escape from outside
# (a ledger field, a service's error text) could clear the screen or forge lines.
_CONTROLS = dict.fromkeys([*range(0, 9), *range(11, 32), *range(127, 160)])


def printable(text: str) -> str:
    """`text` without control characters (tab and newline kept): what reaches a terminal."""
    return text.translate(_CONTROLS)


def notice(text: str) -> None:
    """A progress line from code that has no console of its own (e.g. an HTTP retry), printed
    through the task's console (stderr with --json), terminal or not."""
    (_current or Console(stderr=True)).line(f"… {text}")


class Console:
    def __init__(self, *, json_mode: bool = False, stderr: bool = False):
        """`json_mode` or `stderr`: human lines go to stderr, so stdout carries only data."""
        global _current
        self.json_mode = json_mode
        self.file = ReaderGone(sys.stderr if (json_mode or stderr) else sys.stdout)
        self._rich: RichConsole | None = None
        self._terminal: bool | None = None
        _current = self

    @property
    def rich(self) -> RichConsole:
        if self._rich is None:
            from rich.console import Console as RichConsole

            self._rich = RichConsole(file=cast(IO[str], self.file), highlight=False, markup=False, emoji=False,
                                     soft_wrap=True)
        return self._rich

    @property
    def interactive(self) -> bool:
        if self._terminal is None:
            self._terminal = is_terminal(self.file)
        return self._terminal

    def line(self, text: str = "", style: str | None = None) -> None:
        text = printable(scrub(text))
        if self.interactive or "\t" in text:   # colours; rich expands tabs by each character's width
            self.rich.print(text, style=style)
            return
        # Not a terminal: the plain text rich would print, without loading rich (~40 ms a run)
        self.file.write(text + "\n")
        self.file.flush()

    def info(self, text: str) -> None:
        self.line(text)

    def ok(self, text: str) -> None:
        self.line(f"{SYMBOLS['ok']} {text}", STYLES["ok"])

    def warn(self, text: str) -> None:
        self.line(f"{SYMBOLS['warn']} {text}", STYLES["warn"])

    def fail(self, text: str) -> None:
        self.line(f"{SYMBOLS['failed']} {text}", STYLES["failed"])

    def step(self, outcome: str, name: str, detail: str = "", seconds: float | None = None) -> None:
        took = f" ({seconds:.1f}s)" if seconds is not None else ""
        tail = f" — {detail}" if detail else ""
        self.line(f"{SYMBOLS.get(outcome, '?')} {name}{took}{tail}", STYLES.get(outcome))

    def banner(self, text: str) -> None:
        self.line(f"== {text} ==", "bold yellow")

    @contextlib.contextmanager
    def waiting(self, label: str) -> Iterator[Any]:
        """A live spinner with elapsed time; yields `update(text)` to change its label.
        Without a terminal: one line at the start, nothing animated."""
        start = time.monotonic()
        state = {"label": label}
        if not self.interactive:
            self.line(f"… {label}")
            yield lambda text: state.update(label=text)
            return
        with self.rich.status(printable(scrub(label))) as status:
            def update(text: str) -> None:
                state["label"] = text
                status.update(printable(scrub(f"{text} ({time.monotonic() - start:.0f}s)")))
            yield update

    def table(self, title: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
        from rich.table import Table

        table = Table(title=title, title_justify="left", show_edge=False)
        for column in columns:
            table.add_column(column)
        for row in rows:
            table.add_row(*(printable(scrub(str(cell))) for cell in row))
        self.rich.print(table)

    def json(self, data: Any) -> None:
        """Machine output on stdout, one JSON document."""
        out = ReaderGone(sys.stdout)
        out.write(scrub(json.dumps(data, indent=2, default=str)) + "\n")
        out.flush()

    def data(self, text: str) -> None:
        """Raw data on stdout, exactly as given (e.g. `inv export --stdout`): never scrubbed."""
        out = ReaderGone(sys.stdout)
        out.write(text)
        out.flush()

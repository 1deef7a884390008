"""core/console.py writes plain lines itself when its file is not a terminal (rich costs ~40 ms to
load): the characters must be those rich writes, and "terminal" must mean what it means to rich.
Control characters (an ANSI escape from a ledger field or a service's error) are removed first."""

from __future__ import annotations

import io
import os

import pytest
from rich.console import Console as RichConsole

from mtn_runbook.core import console

LINES = ["", "plain", "✔ valid — MTN API accepts the session (7 products)", "  session 1A2B…9F from file",
         "tab\there", "wide 日本語\tx", "cr\rx", "bell\x07x", "bs\bx", "vt\x0bff\x0cx", "two\nlines", "trailing   ",
         "esc \x1b[31mred\x1b[0m", "[bold]not markup[/bold]", ":smile: not an emoji", "http://x.y/z 123 True None",
         "x" * 300, "nul\x00 del\x7f", "line\r\n", "… vercel: GET /v9/x answered 503; retrying in 0.5 s, 4 left"]


@pytest.mark.parametrize("style", [None, "green", "bold yellow"])
def test_a_line_off_a_terminal_is_what_rich_would_write(style):
    for text in LINES:
        ours, theirs = io.StringIO(), io.StringIO()
        out = console.Console()
        out.file, out._terminal = ours, False
        out.line(text, style)
        # rich given the line without control characters (ESC, NUL, DEL...), which never reach a terminal
        RichConsole(file=theirs, highlight=False, markup=False, emoji=False, soft_wrap=True).print(
            console.printable(text), style=style)
        assert ours.getvalue() == theirs.getvalue(), repr(text)
        assert not any(ord(c) < 32 and c != "\n" or 127 <= ord(c) < 160 for c in ours.getvalue()), repr(text)


@pytest.mark.parametrize("environ", [{}, {"FORCE_COLOR": "1"}, {"FORCE_COLOR": ""}, {"TTY_COMPATIBLE": "0"},
                                     {"TTY_COMPATIBLE": "1"}, {"TTY_COMPATIBLE": "0", "FORCE_COLOR": "1"},
                                     {"TTY_COMPATIBLE": "2", "FORCE_COLOR": "1"}, {"NO_COLOR": "1"}])
def test_terminal_means_what_it_means_to_rich(environ):
    leader, follower = os.openpty()
    try:
        with open(follower, "w", closefd=False) as tty, open(os.devnull, "w") as pipe:
            for file in (tty, pipe, io.StringIO()):
                expected = RichConsole(file=file, _environ=environ).is_terminal
                assert console.is_terminal(file, environ) is expected, (file, environ)
    finally:
        os.close(leader)
        os.close(follower)

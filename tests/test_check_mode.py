"""`--check` writes nothing: after every mutating task's check run, the work directory holds the
same files with the same bytes and modes (no journal line, no lock file, no session change), and
no stand-in saw a write. Run against the sandbox, with a live session saved and a journal present."""

from __future__ import annotations

import os

import pytest

from mtn_runbook.core import session as sessions

CHECKS = [
    ("auth", "--headless"),
    ("export",),
    ("extend",),
    ("push",),
    ("push.vercel",),
    ("push.github",),
    ("deploy",),
    ("recover",),
    ("recover", "--from", "push"),
    ("refresh", "--headless"),
    ("monitor",),
    ("monitor.enable",),
    ("monitor.trigger",),
    ("validate",),
    ("keepalive",),
    ("sandbox", "--env-file", ".cache/sandbox.env"),
]


def snapshot(root):
    found = {}
    for folder, dirs, files in os.walk(root):
        for name in dirs + files:
            path = os.path.join(folder, name)
            info = os.lstat(path)
            body = open(path, "rb").read() if os.path.isfile(path) else None
            found[os.path.relpath(path, root)] = (info.st_mode, body)
    return found


@pytest.fixture
def ready(sandbox, workdir):
    """A saved live session and a journal with one line, as after a normal day."""
    path = workdir / ".cache" / "mtn-session.json"
    session = sessions.Session.from_dict(sandbox.mtn.mint_session(), "minted")
    sessions.save(path, session)
    (workdir / ".cache" / "journal.jsonl").write_text('{"ts": "2026-01-01T00:00:00.000Z", "kind": "note"}\n')
    return session


@pytest.mark.parametrize("args", CHECKS, ids=[" ".join(a) for a in CHECKS])
def test_check_writes_nothing(inv, sandbox, workdir, ready, args):
    before = snapshot(workdir)
    env = {"MTN_SESSION": ready.encode()} if args[0] == "monitor" else None
    result = inv(*args, "--check", env=env, allow=(ready.encode(),))
    assert result.code in (0, 2, 3), result.output  # 2: nothing configured to act on; 3: monitor says unhealthy
    after = snapshot(workdir)
    assert after == before, f"--check changed: {sorted(set(after) ^ set(before)) or 'file contents or modes'}"
    writes = [r for r in sandbox.history.requests() if r["method"] in ("POST", "PUT", "PATCH", "DELETE")
              and r["service"] != "mtn_sso"]
    assert writes == []


@pytest.mark.parametrize("args", [("push",), ("export",), ("extend",), ("recover",)], ids=" ".join)
def test_check_leaves_a_too_open_session_file_as_it_is_and_says_so(inv, workdir, ready, args):
    # the too-open mode is fixed by a real run; a check only reports it (it used to chmod)
    path = workdir / ".cache" / "mtn-session.json"
    path.chmod(0o644)
    result = inv(*args, "--check")
    assert result.code in (0, 2), result.output
    assert os.stat(path).st_mode & 0o777 == 0o644
    assert "session file .cache/mtn-session.json has mode 0644; run without --check to set it to 0600" in result.output

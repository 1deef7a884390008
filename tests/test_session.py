"""session.py: the format, its encoding, cookie selection, the file on disk and the lock."""

from __future__ import annotations

import base64
import json
import stat
from datetime import timedelta

import pytest

from mtn_runbook.core import session as sessions
from mtn_runbook.core.errors import LockHeld, SessionFormatError
from mtn_runbook.core.session import Session


def cookie(name, value, domain, path="/", secure=False):
    return {"name": name, "value": value, "domain": domain, "path": path, "expires": -1,
            "httpOnly": True, "secure": secure, "sameSite": "Lax"}


@pytest.fixture
def session() -> Session:
    cookies = [
        cookie("JSESSIONID", "SSO0123456789ABCDEF0123456789ABCD", "sso.mtnbusiness.co.za"),
        cookie("CASTGC", "TGT-1-abc-cas", "sso.mtnbusiness.co.za", path="/cas"),
        cookie("JSESSIONID", "API0123456789ABCDEF0123456789ABCD", "asp-feasibility.mtnbusiness.co.za"),
        cookie("_GRECAPTCHA", "grecaptcha-value", ".google.com", secure=True),
    ]
    return Session.from_cookies(cookies, "SSO0123456789ABCDEF0123456789ABCD")


def test_encode_decode_round_trip(session):
    value = session.encode()
    assert "\n" not in value
    data = json.loads(base64.b64decode(value))
    assert set(data) >= {"cookies", "sessionId", "expiresAt", "createdAt"}
    assert data["expiresAt"].endswith("Z")  # as JavaScript's toISOString writes it
    decoded, warnings = sessions.decode(value)
    assert decoded == session and warnings == []
    assert decoded.encode() == value


def test_tracked_expiry_is_sixty_minutes(session):
    assert session.expires_at - session.created_at == timedelta(minutes=60)


def test_decode_strips_whitespace_with_a_warning(session):
    decoded, warnings = sessions.decode(f"  {session.encode()}\n")
    assert decoded == session
    assert warnings == ["MTN_SESSION had whitespace around it; stripped it"]


def test_cookies_for_sends_each_host_only_its_own(session):
    assert session.cookies_for("https://asp-feasibility.mtnbusiness.co.za/api/v1/x") == {
        "JSESSIONID": "API0123456789ABCDEF0123456789ABCD"}
    # CASTGC is scoped to /cas on the SSO host
    assert session.cookies_for("https://sso.mtnbusiness.co.za/login") == {
        "JSESSIONID": "SSO0123456789ABCDEF0123456789ABCD"}
    assert set(session.cookies_for("https://sso.mtnbusiness.co.za/cas/login")) == {"JSESSIONID", "CASTGC"}
    assert session.cookies_for("https://sso.mtnbusiness.co.za/cassette") == {
        "JSESSIONID": "SSO0123456789ABCDEF0123456789ABCD"}
    # a domain cookie reaches subdomains, and a secure one only over https
    assert session.cookies_for("https://www.google.com/") == {"_GRECAPTCHA": "grecaptcha-value"}
    assert session.cookies_for("http://www.google.com/") == {}
    assert session.cookies_for("https://evilgoogle.com/") == {}


def test_save_is_private_atomic_and_keeps_the_previous(tmp_path, session):
    path = tmp_path / "cache" / "mtn-session.json"
    sessions.save(path, session)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert not sessions.prev_path(path).exists()
    newer = session.extended(24)
    sessions.save(path, newer)
    assert sessions.load(path) == (newer, [])
    prev = sessions.prev_path(path)
    assert stat.S_IMODE(prev.stat().st_mode) == 0o600
    assert sessions.load(prev)[0] == session
    assert sorted(p.name for p in path.parent.iterdir()) == ["mtn-session.json", "mtn-session.json.prev"]


def test_load_fixes_an_open_mode_with_a_warning(tmp_path, session):
    path = tmp_path / "s.json"
    path.write_text(json.dumps(session.to_dict()))
    path.chmod(0o644)
    loaded, warnings = sessions.load(path)
    assert loaded == session
    assert warnings == [f"session file {path} had mode 0644; set it to 0600"]
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_extended_moves_only_the_tracked_expiry(session):
    later = session.extended(24)
    assert later.cookies == session.cookies and later.session_id == session.session_id
    assert later.minutes_left() > 23 * 60
    assert "extendedAt" in later.extra and later.extra["createdAt"] == session.extra["createdAt"]


def test_a_second_lock_on_the_same_file_raises_lock_held(tmp_path):
    path = tmp_path / "mtn-session.json"
    with sessions.lock(path):
        with pytest.raises(LockHeld) as held:
            with sessions.lock(path):
                pass
        assert held.value.exit_code == 5
    with sessions.lock(path):  # released: free again
        pass


@pytest.mark.parametrize("data, message", [
    ({"sessionId": "x", "expiresAt": "2030-01-01T00:00:00Z"}, "no `cookies` field"),
    ({"cookies": [], "sessionId": "x", "expiresAt": "2030-01-01T00:00:00Z"}, "non-empty list"),
    ({"cookies": [{"name": "a"}], "sessionId": "x", "expiresAt": "2030-01-01T00:00:00Z"}, "no string `value`"),
    ({"cookies": [cookie("a", "b", "c")], "sessionId": "", "expiresAt": "2030-01-01T00:00:00Z"}, "`sessionId`"),
    ({"cookies": [cookie("a", "b", "c")], "sessionId": "x", "expiresAt": "tomorrow"}, "not an ISO 8601 date"),
])
def test_from_dict_names_what_is_wrong(data, message):
    with pytest.raises(SessionFormatError, match=message.replace("(", r"\(")):
        Session.from_dict(data, "test")

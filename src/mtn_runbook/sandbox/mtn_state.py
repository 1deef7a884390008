"""The MTN stand-in's state: logins, captcha tokens, service tickets and API sessions, shared by
the SSO (mtn_sso.py) and the API (mtn.py) stand-ins.

A captcha token is good once, for the page it was solved on, for CAPTCHA_TOKEN_SECONDS; a service
ticket once, for the service it was issued to, for TICKET_SECONDS, while its login is live. A
login dies when expired (admin, tests) or when lifetimes.py says so. Every value issued is kept
for the leak checks (`secret_values()`).
"""

from __future__ import annotations

import secrets
import threading
import time
from typing import Any
from urllib.parse import urlsplit

from .lifetimes import Lifetimes

CAPTCHA_TOKEN_SECONDS = 120.0   # a reCAPTCHA response token is good for two minutes
TICKET_SECONDS = 10.0           # CAS's default service ticket lifetime


def _hex(n: int = 16) -> str:
    return secrets.token_hex(n).upper()


class MtnState:
    """Logins, tickets, captcha tokens and API sessions; shared by the SSO and API stand-ins."""

    def __init__(self, sb: Any):
        self.sb = sb
        self._lock = threading.Lock()
        self.challenges: dict[str, dict] = {}    # page flow id -> {served, token, used}
        self.captcha_tokens: dict[str, dict] = {}  # token -> {flow, issued, used}: one flow, 2 minutes
        self.tickets: dict[str, dict] = {}       # ST-... -> {login, service, issued, used}
        self.sso_sessions: dict[str, dict] = {}  # SSO JSESSIONID -> {castgc, grecaptcha, live, created}
        self.api_sessions: dict[str, str] = {}   # API JSESSIONID -> SSO JSESSIONID of its login
        self.logins = 0
        self._issued: set[str] = set()
        self.lifetimes = Lifetimes(sb.options)   # kills sessions after a drawn lifetime or idle spell

    # -- the SSO side ---------------------------------------------------------------------
    def new_challenge(self) -> str:
        flow = secrets.token_urlsafe(12)
        with self._lock:
            self.challenges[flow] = {"served": time.monotonic(), "token": None}
        return flow

    def solve(self, flow: str) -> tuple[int, str | None]:
        """The stand-in captcha: (200, token) once the delay has passed; never a second token."""
        delay = self.sb.options.captcha_delay
        with self._lock:
            challenge = self.challenges.get(flow)
            if challenge is None:
                return 404, None
            if delay is None or time.monotonic() - challenge["served"] < float(delay):
                return 425, None
            if challenge["token"] is not None:
                return 409, None
            token = "03AFcWeA" + secrets.token_urlsafe(48)
            challenge["token"] = token
            self.captcha_tokens[token] = {"flow": flow, "issued": time.monotonic(), "used": False}
            self._issued.add(token)
        return 200, token

    def use_flow(self, flow: str) -> bool:
        with self._lock:
            return self.challenges.pop(flow, None) is not None

    def use_captcha_token(self, token: str, flow: str) -> bool:
        """A reCAPTCHA token verifies once, whatever the outcome of the login, only for the page
        (flow) it was solved on, and only within CAPTCHA_TOKEN_SECONDS (Google's two minutes)."""
        with self._lock:
            entry = self.captcha_tokens.get(token)
            if entry is None or entry["used"]:
                return False
            entry["used"] = True
            return entry["flow"] == flow and time.monotonic() - entry["issued"] <= CAPTCHA_TOKEN_SECONDS

    def new_login(self) -> dict:
        sid = _hex()
        login = {"sessionId": sid, "castgc": f"TGT-{self.logins + 1}-{secrets.token_urlsafe(32)}-cas",
                 "grecaptcha": secrets.token_urlsafe(40), "live": True, "created": time.time()}
        with self._lock:
            self.logins += 1
            self.sso_sessions[sid] = login
            self._issued.update({sid, login["castgc"], login["grecaptcha"]})
        self.lifetimes.born(sid)
        self.sb.history.add("mtn_sso", "login", sessionId=sid)
        return login

    def new_ticket(self, sid: str, service: str) -> str:
        ticket = f"ST-{self.logins}-{secrets.token_urlsafe(20)}-cas"
        with self._lock:
            self.tickets[ticket] = {"login": sid, "service": service, "issued": time.monotonic(), "used": False}
            self._issued.add(ticket)
        return ticket

    # -- the API side ---------------------------------------------------------------------
    def redeem(self, ticket: str, service: str) -> str | None:
        """A service ticket is good once, for the service it was issued to, within
        TICKET_SECONDS (CAS's default), and only while its login is live: the API JSESSIONID."""
        with self._lock:
            entry = self.tickets.get(ticket)
            if entry is None or entry["used"] or not self.sso_sessions[entry["login"]]["live"]:
                return None
            entry["used"] = True
            if entry["service"] != service or time.monotonic() - entry["issued"] > TICKET_SECONDS:
                return None
            api_sid = _hex()
            self.api_sessions[api_sid] = entry["login"]
            self._issued.add(api_sid)
        self.sb.history.add("mtn_api", "session", sessionId=entry["login"])
        return api_sid

    def is_live(self, api_jsessionid: str | None) -> bool:
        with self._lock:
            login = self.api_sessions.get(api_jsessionid or "")
            if login is None or not self.sso_sessions[login]["live"]:
                return False
        why = self.lifetimes.ended(login)
        if why:
            with self._lock:
                self.sso_sessions[login]["live"] = False
            self.sb.history.add("mtn_sso", "expire", sessionId=login, reason=why)
            return False
        self.lifetimes.used(login)
        return True

    def expire(self, session_id: str | None = None) -> int:
        """End one login (by its SSO sessionId) or all of them, as MTN's server does at will."""
        with self._lock:
            chosen = [s for s in self.sso_sessions.values() if session_id in (None, s["sessionId"]) and s["live"]]
            for login in chosen:
                login["live"] = False
        for login in chosen:
            self.sb.history.add("mtn_sso", "expire", sessionId=login["sessionId"])
        return len(chosen)

    def mint_session(self) -> dict:
        """A live session without a browser, in the session file format (cookies for both hosts)."""
        from ..core.session import Session

        login = self.new_login()
        service = f"{self.sb.urls['mtn_api']}/login/cas"
        api_sid = self.redeem(self.new_ticket(login["sessionId"], service), service)
        sso, api = (urlsplit(self.sb.urls[name]).hostname for name in ("mtn_sso", "mtn_api"))
        cookies = [
            _cookie("JSESSIONID", login["sessionId"], sso),
            _cookie("CASTGC", login["castgc"], sso),
            _cookie("_GRECAPTCHA", login["grecaptcha"], sso),
            _cookie("JSESSIONID", api_sid, api),
        ]
        session = Session.from_cookies(cookies, login["sessionId"])
        with self._lock:
            self._issued.add(session.encode())
        return session.to_dict()

    def secret_values(self) -> set[str]:
        """Every cookie value, ticket and token this stand-in ever issued (for leak checks)."""
        with self._lock:
            return set(self._issued)

    def snapshot(self) -> dict:
        with self._lock:
            return {
                "logins": self.logins,
                "sessions": [{"sessionId": s["sessionId"], "live": s["live"], "created": s["created"]}
                             for s in self.sso_sessions.values()],
                "apiSessions": len(self.api_sessions),
            }


def _cookie(name: str, value: str, domain: str) -> dict:
    return {"name": name, "value": value, "domain": domain, "path": "/", "expires": -1,
            "httpOnly": True, "secure": False, "sameSite": "Lax"}

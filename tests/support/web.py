"""The agent console and the website chat from outside: HTTP with a cookie jar, a browser."""

from __future__ import annotations

import http.cookiejar
import json
import re
import urllib.error
import urllib.parse
import urllib.request
from typing import Any, Dict, Optional, Tuple

from bot import settings
from tests.support.bots import AGENT, PASSWORD, store_of
from tests.support.waiting import wait_until

SCREENSHOTS = settings.ROOT / "var" / "screenshots"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


class LoginRefused(Exception):
    """The console did not log in: the status of the login POST."""

    def __init__(self, status: int, page: bytes) -> None:
        super().__init__(f"login answered {status}")
        self.status, self.page = status, page.decode("utf-8", "replace")


class Http:
    """urllib with a cookie jar; never raises on HTTP error codes, never follows redirects."""

    class _NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args: Any, **kwargs: Any) -> None:
            return None

    def __init__(self, base: str, headers: Optional[Dict[str, str]] = None) -> None:
        self.base = base
        self.headers = dict(headers or {})  # on every request (e.g. X-Forwarded-For: one client)
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar), self._NoRedirect)

    def cookie(self, name: str) -> Optional[str]:
        return next((c.value for c in self.jar if c.name == name), None)

    def request(
        self, method: str, path: str, body: Optional[bytes] = None, headers: Optional[Dict[str, str]] = None
    ) -> Tuple[int, Dict[str, str], bytes]:
        request = urllib.request.Request(
            self.base + path, data=body, method=method, headers={**self.headers, **(headers or {})}
        )
        try:
            with self.opener.open(request, timeout=30) as response:
                return response.status, dict(response.headers), response.read()
        except urllib.error.HTTPError as error:
            return error.code, dict(error.headers), error.read()

    def post_json(
        self, path: str, data: Any, csrf: Optional[str] = None, extra: Optional[Dict[str, str]] = None
    ) -> Tuple[int, Any]:
        headers = {"Content-Type": "application/json", **({"X-CSRF-Token": csrf} if csrf else {}), **(extra or {})}
        status, _, raw = self.request("POST", path, json.dumps(data).encode(), headers)
        try:
            return status, json.loads(raw or b"null")
        except ValueError:
            return status, raw

    def login(self, username: str = AGENT, password: str = PASSWORD) -> str:
        """Log in like the browser does; return the session's CSRF token.
        A refused login raises LoginRefused with the status of the login POST."""
        status, _, page = self.request("GET", "/agent/login")
        assert status == 200, status
        token = re.search(rb'name="csrf" value="([^"]+)"', page).group(1).decode()
        form = urllib.parse.urlencode({"csrf": token, "username": username, "password": password}).encode()
        status, _, answer = self.request(
            "POST", "/agent/login", form, {"Content-Type": "application/x-www-form-urlencoded"}
        )
        if status != 303:
            raise LoginRefused(status, answer)
        status, _, raw = self.request("GET", "/agent/api/me")
        assert status == 200, status
        return json.loads(raw)["csrf"]


def conversation_of(session_id: str) -> str:
    """The conversation (Rasa's sender id) of a website session id the server issued:
    `<conversation>.<signature>` (bot/channels/website.py)."""
    conversation, dot, signature = session_id.rpartition(".")
    assert dot and conversation and signature, f"not a signed session id: {session_id!r}"
    return conversation


def handoff_ticket(bot: Any, sender: str, timeout: float = 10) -> Any:
    """The conversation's hand-off ticket, once the bot has written it."""

    def latest() -> Any:
        rows = store_of(bot).tickets(kind="handoff", conversation_id=sender)
        return rows[-1] if rows else None

    return wait_until(latest, timeout, interval=0.2, message=f"no hand-off ticket for {sender}")


def launch_browser(playwright: Any) -> Any:
    return playwright.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)


def agent_login(page: Any, base: str) -> None:
    page.goto(f"{base}/agent/")
    page.fill("input[name=username]", AGENT)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/agent/")

"""Helpers for the website and agent-console tests: a bot of their own, HTTP, a browser."""
from __future__ import annotations

import http.cookiejar
import json
import re
import shutil
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any, Dict, Optional, Tuple

from bot import settings

WEB_VAR = settings.ROOT / "var" / "test-web"
SCREENSHOTS = settings.ROOT / "var" / "screenshots"
AGENT, PASSWORD, SECRET = "agent", "test-password-7f3a", "test-secret-91c2"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


def make_bot(name: str, rasa_port: int, actions_port: int, **env: str):
    from scripts.servers import Bot

    folder = WEB_VAR / name
    shutil.rmtree(folder, ignore_errors=True)
    extra = {"DATABASE_URL": f"sqlite:///{folder / 'shop.db'}", "AGENT_USERNAME": AGENT,
             "AGENT_PASSWORD": PASSWORD, "AGENT_SECRET": SECRET, "SERVICE_HOURS": "00:00-24:00",
             "SILENCE_NUDGE_SECONDS": "600", "SILENCE_CLOSE_SECONDS": "600", **env}
    return Bot(model=settings.path("MODEL_PATH"), rasa_port=rasa_port, actions_port=actions_port,
               tracker_db=folder / "tracker.db", log_dir=folder / "log", extra_env=extra)


def store_of(bot):
    from bot.shop.store import store_for

    return store_for(bot.extra_env["DATABASE_URL"])


class Http:
    """urllib with a cookie jar; never raises on HTTP error codes, never follows redirects."""

    class _NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args: Any, **kwargs: Any) -> None:
            return None

    def __init__(self, base: str) -> None:
        self.base = base
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar), self._NoRedirect)

    def request(self, method: str, path: str, body: Optional[bytes] = None,
                headers: Optional[Dict[str, str]] = None) -> Tuple[int, Dict[str, str], bytes]:
        request = urllib.request.Request(self.base + path, data=body, method=method, headers=headers or {})
        try:
            with self.opener.open(request, timeout=30) as response:
                return response.status, dict(response.headers), response.read()
        except urllib.error.HTTPError as error:
            return error.code, dict(error.headers), error.read()

    def post_json(self, path: str, data: Any, csrf: Optional[str] = None,
                  extra: Optional[Dict[str, str]] = None) -> Tuple[int, Any]:
        headers = {"Content-Type": "application/json", **({"X-CSRF-Token": csrf} if csrf else {}), **(extra or {})}
        status, _, raw = self.request("POST", path, json.dumps(data).encode(), headers)
        try:
            return status, json.loads(raw or b"null")
        except ValueError:
            return status, raw

    def login(self, username: str = AGENT, password: str = PASSWORD) -> str:
        """Log in like the browser does; return the session's CSRF token."""
        status, _, page = self.request("GET", "/agent/login")
        assert status == 200
        token = re.search(rb'name="csrf" value="([^"]+)"', page).group(1).decode()
        form = urllib.parse.urlencode({"csrf": token, "username": username, "password": password}).encode()
        status, headers, _ = self.request("POST", "/agent/login", form,
                                          {"Content-Type": "application/x-www-form-urlencoded"})
        assert status == 303, status
        status, _, raw = self.request("GET", "/agent/api/me")
        assert status == 200
        return json.loads(raw)["csrf"]


def launch_browser(playwright):
    return playwright.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)


def agent_login(page, base: str) -> None:
    page.goto(f"{base}/agent/")
    page.fill("input[name=username]", AGENT)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/agent/")

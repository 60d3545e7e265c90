"""The agent console at /agent/: login, the hand-off queue, claim, reply, end.

Registered in credentials.yml as an input channel only to get its blueprint into the Rasa
server (it never sends messages to the bot itself). Security, because customer text is
untrusted and the console can speak for the shop:
- every page and API needs the session cookie (HMAC-signed with AGENT_SECRET, HttpOnly,
  SameSite=Strict); the one password is AGENT_PASSWORD, never a built-in default;
- every POST needs the session's CSRF token (X-CSRF-Token header, or the login form's
  double-submit field) and is refused when the browser says it comes from another site;
- pages carry a strict Content-Security-Policy (no inline script) and the page's script
  renders customer text with textContent only (bot/web/agent/console.js).
"""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import hashlib
import hmac
import html
import json
import logging
import secrets
import time
from functools import lru_cache, wraps
from pathlib import Path
from typing import Any, Awaitable, Callable, Dict, List, Optional, Text
from urllib.parse import urlparse

from rasa.core.channels.channel import InputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot import settings
from bot.channels import conversations
from bot.channels.website import website_channel
from bot.shop.store import Ticket, as_dict, default_store, now

logger = logging.getLogger(__name__)

WEB = Path(__file__).resolve().parent.parent / "web" / "agent"
COOKIE = "agent_session"
LOGIN_COOKIE = "agent_login_csrf"
SESSION_SECONDS = 12 * 3600
MAX_REPLY = 2000
MAX_TRANSCRIPT = 200
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)

# Agent-facing messages, both languages at once (the console has no language switch).
MESSAGES = {
    "login": "请先登录 / Please log in.",
    "csrf": "请求无效（CSRF），请刷新页面 / Invalid request (CSRF); reload the page.",
    "cross_site": "拒绝跨站请求 / Cross-site request refused.",
    "bad_login": "用户名或密码错误 / Wrong username or password.",
    "no_password": "未设置 AGENT_PASSWORD（运行 make run 会生成）/ AGENT_PASSWORD is not set (make run creates one).",
    "bad_body": "请求格式错误 / Malformed request.",
    "empty": "消息不能为空 / The message is empty.",
    "too_long": f"消息过长（最多 {MAX_REPLY} 字）/ Message too long (at most {MAX_REPLY} characters).",
    "no_ticket": "没有这个会话 / No such conversation.",
    "not_waiting": "该会话已被接入或已结束 / Already claimed or ended.",
    "not_active": "请先接入该会话 / Claim the conversation first.",
    "window_closed": (
        "微信48小时回复期已过，需客户先发消息 / WeChat's 48-hour window is over; the customer must write first."
    ),
    "not_delivered": "消息未送达，请重试 / Not delivered; please retry.",
    "resume_failed": "会话已结束，但机器人未能恢复 / Ended, but the bot could not resume.",
}


def _error(status: int, key: str) -> HTTPResponse:
    return response.json({"error": MESSAGES[key]}, status=status)


# Session cookie --------------------------------------------------------------------


@lru_cache(maxsize=1)
def _fallback_secret() -> str:
    # Without AGENT_SECRET (server started by hand): sessions last until the next restart.
    return secrets.token_urlsafe(32)


def _secret() -> bytes:
    return (settings.get("AGENT_SECRET") or _fallback_secret()).encode()


def _sign(value: str) -> str:
    return hmac.new(_secret(), value.encode(), hashlib.sha256).hexdigest()


def make_session(username: str) -> str:
    payload = base64.urlsafe_b64encode(
        json.dumps({"u": username, "n": secrets.token_urlsafe(16), "t": int(time.time())}).encode()
    ).decode()
    return f"{payload}.{_sign(payload)}"


def read_session(cookie: Optional[str]) -> Optional[Dict[str, Any]]:
    if not cookie or "." not in cookie:
        return None
    payload, signature = cookie.rsplit(".", 1)
    if not hmac.compare_digest(signature, _sign(payload)):
        return None
    try:
        session = json.loads(base64.urlsafe_b64decode(payload.encode()))
    except ValueError:
        return None
    if not isinstance(session, dict) or time.time() - session.get("t", 0) > SESSION_SECONDS:
        return None
    return session


def csrf_token(session: Dict[str, Any]) -> str:
    """Bound to the session's nonce: valid only together with that session cookie."""
    return _sign("csrf:" + session["n"])


def same_site(request: Request) -> bool:
    """Refuse what the browser marks as coming from another site."""
    fetch_site = request.headers.get("sec-fetch-site")
    if fetch_site and fetch_site not in ("same-origin", "none"):
        return False
    origin = request.headers.get("origin")
    if origin and urlparse(origin).netloc != request.host:
        return False
    return True


def check_password(username: str, password: str) -> bool:
    expected = settings.get("AGENT_PASSWORD")
    user_ok = hmac.compare_digest(username.encode(), settings.get("AGENT_USERNAME").encode())
    password_ok = hmac.compare_digest(password.encode(), expected.encode())
    return bool(expected) and user_ok and password_ok


Handler = Callable[..., Awaitable[HTTPResponse]]


def login_required(page: bool = False) -> Callable[[Handler], Handler]:
    def decorate(handler: Handler) -> Handler:
        @wraps(handler)
        async def wrapped(request: Request, *args: Any, **kwargs: Any) -> HTTPResponse:
            session = read_session(request.cookies.get(COOKIE))
            if session is None:
                return response.redirect("/agent/login") if page else _error(401, "login")
            if request.method == "POST":
                if not same_site(request):
                    return _error(403, "cross_site")
                token = request.headers.get("x-csrf-token", "")
                if not hmac.compare_digest(token.encode(), csrf_token(session).encode()):
                    return _error(403, "csrf")
            request.ctx.agent_session = session
            return await handler(request, *args, **kwargs)

        return wrapped

    return decorate


# Tickets ---------------------------------------------------------------------------


def _iso(value: Any) -> Any:
    return value.isoformat() + "Z" if isinstance(value, dt.datetime) else value


def _open_tickets() -> List[Ticket]:
    with default_store().session() as session:
        return list(
            session.query(Ticket)
            .filter(Ticket.kind == "handoff", Ticket.status.in_(("waiting", "active")))
            .order_by(Ticket.id)
            .limit(100)
        )


def _get_ticket(ticket_id: int) -> Optional[Ticket]:
    with default_store().session() as session:
        return session.get(Ticket, ticket_id)


def _move(ticket_id: int, from_status: str, **values: Any) -> bool:
    """Change a hand-off ticket only if it is still in `from_status` (two agents, one ticket)."""
    with default_store().session() as session:
        changed = (
            session.query(Ticket)
            .filter(Ticket.id == ticket_id, Ticket.kind == "handoff", Ticket.status == from_status)
            .update({**values, Ticket.updated_at: now()}, synchronize_session=False)
        )
        return changed == 1


async def _ticket_view(app: Any, ticket: Ticket) -> Dict[str, Any]:
    view = {key: _iso(value) for key, value in as_dict(ticket).items()}
    try:
        tracker = await conversations.read_tracker(app, ticket.conversation_id)
    except Exception:
        logger.exception("could not read the tracker of %s", ticket.conversation_id)
        tracker = None
    lines = conversations.transcript(tracker) if tracker is not None else list(ticket.transcript or [])
    view["transcript"] = lines[-MAX_TRANSCRIPT:]
    view["paused"] = bool(tracker and tracker.is_paused())
    return view


async def _deliver(app: Any, ticket: Ticket, text: str) -> Optional[HTTPResponse]:
    """Send the agent's reply through the customer's channel; an error response, or None."""
    if ticket.channel == "socketio":
        website = website_channel(app)
        if website is not None and website.sio is not None:
            await website.push(ticket.conversation_id, text)
            return None
    elif ticket.channel == "wechat":
        from bot.channels import wechat_api

        try:
            await asyncio.to_thread(wechat_api.send_text, ticket.conversation_id, text)
            return None
        except wechat_api.ReplyWindowClosed:
            return _error(409, "window_closed")
        except wechat_api.WeChatAPIError as error:
            logger.error("agent reply to WeChat %s failed: %s", ticket.conversation_id, error)
            return _error(502, "not_delivered")
    # REST (and anything else) cannot push: the reply is only recorded in the tracker.
    logger.info("channel %r cannot push; agent reply to %s recorded only", ticket.channel, ticket.conversation_id)
    return None


def _json_body(request: Request) -> Optional[Dict[str, Any]]:
    try:
        body = request.json
    except Exception:
        return None
    return body if isinstance(body, dict) else None


def _asset(name: str, content_type: str) -> HTTPResponse:
    return response.raw((WEB / name).read_bytes(), content_type=content_type)


def _login_page(token: str, error: str = "", status: int = 200) -> HTTPResponse:
    page = (WEB / "login.html").read_text(encoding="utf-8")
    page = page.replace("{{csrf}}", html.escape(token)).replace("{{error}}", html.escape(error))
    result = response.html(page, status=status)
    result.cookies[LOGIN_COOKIE] = token
    result.cookies[LOGIN_COOKIE].update({"httponly": True, "samesite": "Strict", "path": "/agent"})
    return result


class AgentConsole(InputChannel):
    @classmethod
    def name(cls) -> Text:
        return "agent_console"

    def url_prefix(self) -> Text:
        # Rasa mounts channels at urljoin("/webhooks/", url_prefix()); an absolute path
        # puts the console at /agent/ instead of /webhooks/agent_console/.
        return "/agent"

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        console = Blueprint("agent_console", __name__)

        @console.middleware("response")
        async def headers(_: Request, result: HTTPResponse) -> None:
            result.headers["Content-Security-Policy"] = CSP
            result.headers["X-Content-Type-Options"] = "nosniff"
            result.headers["Referrer-Policy"] = "same-origin"
            result.headers["Cache-Control"] = "no-store"

        @console.get("/login")
        async def login_form(request: Request) -> HTTPResponse:
            return _login_page(secrets.token_urlsafe(16))

        @console.post("/login")
        async def login(request: Request) -> HTTPResponse:
            form = request.form or {}
            token = form.get("csrf") or ""
            if not same_site(request):
                return _error(403, "cross_site")
            if not token or not hmac.compare_digest(token, request.cookies.get(LOGIN_COOKIE, "")):
                return _error(403, "csrf")
            if not settings.get("AGENT_PASSWORD"):
                return _login_page(secrets.token_urlsafe(16), MESSAGES["no_password"], 401)
            username, password = form.get("username") or "", form.get("password") or ""
            if not check_password(username, password):
                await asyncio.sleep(0.5)  # slows down guessing
                return _login_page(secrets.token_urlsafe(16), MESSAGES["bad_login"], 401)
            result = response.redirect("/agent/", status=303)
            result.cookies[COOKIE] = make_session(username)
            result.cookies[COOKIE].update(
                {"httponly": True, "samesite": "Strict", "path": "/agent", "max-age": SESSION_SECONDS}
            )
            return result

        @console.get("/console.css")
        async def stylesheet(_: Request) -> HTTPResponse:
            return _asset("console.css", "text/css; charset=utf-8")  # public: the login page uses it

        @console.get("/")
        @login_required(page=True)
        async def page(_: Request) -> HTTPResponse:
            return _asset("console.html", "text/html; charset=utf-8")

        @console.get("/console.js")
        @login_required(page=True)
        async def script(_: Request) -> HTTPResponse:
            return _asset("console.js", "text/javascript; charset=utf-8")

        @console.get("/api/me")
        @login_required()
        async def me(request: Request) -> HTTPResponse:
            session = request.ctx.agent_session
            return response.json({"agent": session["u"], "csrf": csrf_token(session)})

        @console.post("/logout")
        @login_required()
        async def logout(_: Request) -> HTTPResponse:
            result = response.json({"ok": True})
            result.cookies[COOKIE] = ""
            result.cookies[COOKIE].update({"max-age": 0, "path": "/agent"})
            return result

        @console.get("/api/tickets")
        @login_required()
        async def tickets(request: Request) -> HTTPResponse:
            rows = await asyncio.to_thread(_open_tickets)
            views = [await _ticket_view(request.app, row) for row in rows]
            return response.json({"tickets": views})

        @console.post("/api/tickets/<ticket_id:int>/claim")
        @login_required()
        async def claim(request: Request, ticket_id: int) -> HTTPResponse:
            agent = request.ctx.agent_session["u"]
            if await asyncio.to_thread(_get_ticket, ticket_id) is None:
                return _error(404, "no_ticket")
            if not await asyncio.to_thread(_move, ticket_id, "waiting", status="active", agent=agent):
                return _error(409, "not_waiting")
            return response.json({"ok": True})

        @console.post("/api/tickets/<ticket_id:int>/reply")
        @login_required()
        async def reply(request: Request, ticket_id: int) -> HTTPResponse:
            body = _json_body(request)
            if body is None or not isinstance(body.get("text"), str):
                return _error(400, "bad_body")
            text = body["text"].strip()
            if not text:
                return _error(400, "empty")
            if len(text) > MAX_REPLY:
                return _error(400, "too_long")
            ticket = await asyncio.to_thread(_get_ticket, ticket_id)
            if ticket is None or ticket.kind != "handoff":
                return _error(404, "no_ticket")
            if ticket.status != "active":
                return _error(409, "not_active")
            failed = await _deliver(request.app, ticket, text)
            if failed is not None:
                return failed
            agent = request.ctx.agent_session["u"]
            await conversations.record_agent_message(request.app, ticket.conversation_id, text, agent)
            return response.json({"ok": True})

        @console.post("/api/tickets/<ticket_id:int>/end")
        @login_required()
        async def end(request: Request, ticket_id: int) -> HTTPResponse:
            ticket = await asyncio.to_thread(_get_ticket, ticket_id)
            if ticket is None or ticket.kind != "handoff":
                return _error(404, "no_ticket")
            if not await asyncio.to_thread(_move, ticket_id, "active", status="closed", closed_at=now()):
                return _error(409, "not_active")
            try:
                await conversations.trigger(
                    request.app, ticket.conversation_id, conversations.HANDOFF_ENDED, resume=True
                )
            except Exception:
                logger.exception("could not resume %s", ticket.conversation_id)
                return _error(502, "resume_failed")
            return response.json({"ok": True})

        return console

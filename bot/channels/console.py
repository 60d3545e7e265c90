"""The agent console at /agent/: login, the hand-off queue, claim, reply, end.

Registered in credentials.yml as an input channel only to get its blueprint into the Rasa
server (it never sends messages to the bot itself). Security, because customer text is
untrusted and the console can speak for the shop (issue 12, item 6):
- one account per agent (bot/accounts.py, `python -m scripts.agents`): scrypt-hashed
  passwords with a strength check; the default account comes from AGENT_PASSWORD;
- logins are throttled per account and per client address (LOGIN_MAX_FAILURES_*,
  LOGIN_LOCK_MINUTES): attempts are counted before the password is checked, so parallel
  guesses count too, and a locked account refuses even the right password (429);
- sessions are stored server-side: the cookie is a random id (HttpOnly, SameSite=Strict,
  Secure when PUBLIC_URL is https); logout, a password change (other sessions), disabling
  the account, AGENT_IDLE_MINUTES idle or AGENT_SESSION_HOURS end them;
- every POST needs the session's CSRF token (X-CSRF-Token, an HMAC of the session with
  AGENT_SECRET) and is refused when the browser says it comes from another site; the
  login form's token is an HMAC of a random cookie, so an attacker cannot choose it; a
  token that is not ASCII is a 400, never a 500;
- no CORS at all on /agent/ (bot/security.py); pages carry a strict Content-Security-Policy
  (no inline script) and the page's script renders customer text with textContent only;
- the queue is paged (PAGE_SIZE per request) and transcripts are trimmed (MAX_TRANSCRIPT
  lines of at most MAX_LINE characters).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import hmac
import html
import logging
import math
import secrets
import time
from collections import OrderedDict, deque
from functools import lru_cache, wraps
from pathlib import Path
from typing import Any, Awaitable, Callable, Dict, List, Optional, Text, Tuple
from urllib.parse import urlparse

from rasa.core.channels.channel import InputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot import security, settings
from bot.accounts import AccountError, Session, default_accounts
from bot.channels import conversations
from bot.channels.website import website_channel
from bot.shop.store import Ticket, as_dict, default_store, now

logger = logging.getLogger(__name__)

WEB = Path(__file__).resolve().parent.parent / "web" / "agent"
COOKIE = "agent_session"
LOGIN_COOKIE = "agent_login_csrf"
MAX_REPLY = 2000
MAX_TRANSCRIPT = 200  # lines of a ticket's transcript shown
MAX_LINE = 2000  # characters of one transcript line shown
PAGE_SIZE = 20  # tickets per page of the queue
MAX_TOKEN = 256  # longest CSRF token looked at
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
    "no_password": (
        "还没有客服账号（python -m scripts.agents add 用户名）/ "
        "No agent account yet (python -m scripts.agents add NAME)."
    ),
    "throttled": "登录失败次数过多，请稍后再试 / Too many failed logins; please try again later.",
    "bad_token": "请求无效（令牌格式错误）/ Invalid request (malformed token).",
    "bad_password": "当前密码不正确 / The current password is wrong.",
    "weak_password": "新密码强度不够 / The new password is too weak: {reason}.",
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


def _error(status: int, key: str, **values: Any) -> HTTPResponse:
    return response.json({"error": MESSAGES[key].format(**values)}, status=status)


# Sessions (stored server-side, bot/accounts.py) and CSRF tokens -------------------


@lru_cache(maxsize=1)
def _fallback_secret() -> str:
    # Without AGENT_SECRET (server started by hand): tokens last until the next restart.
    return secrets.token_urlsafe(32)


def _secret() -> bytes:
    return (settings.get("AGENT_SECRET") or _fallback_secret()).encode()


def _sign(value: str) -> str:
    return hmac.new(_secret(), value.encode(), hashlib.sha256).hexdigest()


def csrf_token(session: Session) -> str:
    """Bound to the server-side session: valid only with that session's cookie."""
    return _sign("csrf:" + session.key)


def login_token(nonce: str) -> str:
    """The login form's token: an HMAC of the random login cookie, which only the server can make."""
    return _sign("login:" + nonce)


class MalformedToken(Exception):
    pass


def tokens_match(given: Any, expected: str) -> bool:
    """Constant-time comparison; a token that is not a short ASCII string is malformed (400)."""
    if not isinstance(given, str) or len(given) > MAX_TOKEN or not given.isascii():
        raise MalformedToken()
    return hmac.compare_digest(given.encode("ascii"), expected.encode("ascii"))


def same_site(request: Request) -> bool:
    """Refuse what the browser marks as coming from another site."""
    fetch_site = request.headers.get("sec-fetch-site")
    if fetch_site and fetch_site not in ("same-origin", "none"):
        return False
    origin = request.headers.get("origin")
    if origin and urlparse(origin).netloc != request.host:
        return False
    return True


def _cookie(result: HTTPResponse, name: str, value: str, **options: Any) -> None:
    result.cookies[name] = value
    result.cookies[name].update({"httponly": True, "samesite": "Strict", "path": "/agent", **options})
    if security.secure_cookies():
        result.cookies[name]["secure"] = True


class LoginThrottle:
    """Failed logins per key (an account, a client address) within LOGIN_LOCK_MINUTES.
    An attempt counts as failed from its start and is taken back if the password is right,
    so parallel guesses cannot slip past the count."""

    def __init__(self, max_keys: int = 50_000) -> None:
        self.attempts: "OrderedDict[str, deque]" = OrderedDict()
        self.max_keys = max_keys

    @staticmethod
    def window() -> float:
        return float(settings.get("LOGIN_LOCK_MINUTES")) * 60

    def _recent(self, key: str, at: float) -> deque:
        times = self.attempts.pop(key, None) or deque()
        while times and at - times[0] > self.window():
            times.popleft()
        self.attempts[key] = times
        while len(self.attempts) > self.max_keys:
            self.attempts.popitem(last=False)
        return times

    def begin(self, limits: Dict[str, int]) -> float:
        """Count an attempt for each key; 0.0 if it may go on, else seconds until it may."""
        at = time.monotonic()
        recent = {key: self._recent(key, at) for key in limits}
        waits = [times[0] + self.window() - at for key, times in recent.items() if len(times) >= limits[key] > 0]
        if waits:
            return max(1.0, max(waits))
        for times in recent.values():
            times.append(at)
        return 0.0

    def succeeded(self, keys: List[str]) -> None:
        for key in keys:
            times = self.attempts.get(key)
            if times:
                times.pop()


Handler = Callable[..., Awaitable[HTTPResponse]]


def login_required(page: bool = False) -> Callable[[Handler], Handler]:
    def decorate(handler: Handler) -> Handler:
        @wraps(handler)
        async def wrapped(request: Request, *args: Any, **kwargs: Any) -> HTTPResponse:
            session = await asyncio.to_thread(default_accounts().session, request.cookies.get(COOKIE))
            if session is None:
                return response.redirect("/agent/login") if page else _error(401, "login")
            if request.method == "POST":
                if not same_site(request):
                    return _error(403, "cross_site")
                try:
                    matches = tokens_match(request.headers.get("x-csrf-token", ""), csrf_token(session))
                except MalformedToken:
                    return _error(400, "bad_token")
                if not matches:
                    return _error(403, "csrf")
            request.ctx.agent_session = session
            return await handler(request, *args, **kwargs)

        return wrapped

    return decorate


# Tickets ---------------------------------------------------------------------------


def _iso(value: Any) -> Any:
    return value.isoformat() + "Z" if isinstance(value, dt.datetime) else value


def _open_tickets(page: int) -> Tuple[List[Ticket], int]:
    """One page of the open hand-offs (oldest first) and how many there are in all."""
    with default_store().session() as session:
        query = session.query(Ticket).filter(Ticket.kind == "handoff", Ticket.status.in_(("waiting", "active")))
        total = query.count()
        rows = list(query.order_by(Ticket.id).offset((page - 1) * PAGE_SIZE).limit(PAGE_SIZE))
    return rows, total


def trimmed(lines: List[Dict[str, Any]]) -> List[Dict[str, Any]]:
    """The last MAX_TRANSCRIPT lines, each at most MAX_LINE characters."""
    shown = []
    for line in lines[-MAX_TRANSCRIPT:]:
        text = line.get("text")
        if isinstance(text, str) and len(text) > MAX_LINE:
            line = dict(line, text=text[:MAX_LINE] + "…", trimmed=True)
        shown.append(line)
    return shown


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
    view["transcript"] = trimmed(lines)
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


def _login_page(error: str = "", status: int = 200) -> HTTPResponse:
    """The login form with a fresh token: the cookie holds a random nonce, the form its HMAC."""
    nonce = secrets.token_urlsafe(16)
    page = (WEB / "login.html").read_text(encoding="utf-8")
    page = page.replace("{{csrf}}", html.escape(login_token(nonce))).replace("{{error}}", html.escape(error))
    result = response.html(page, status=status)
    _cookie(result, LOGIN_COOKIE, nonce)
    return result


def _page(number: Any) -> int:
    try:
        return max(1, min(int(number), 10_000))
    except (TypeError, ValueError):
        return 1


def _bootstrap() -> bool:
    """The default account from AGENT_PASSWORD while there is none; whether any account exists."""
    accounts = default_accounts()
    problem = accounts.bootstrap(settings.get("AGENT_USERNAME"), settings.get("AGENT_PASSWORD"))
    if problem:
        logger.error("%s", problem)
    return accounts.count() > 0


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
            for header in [h for h in result.headers if h.lower().startswith("access-control-")]:
                del result.headers[header]  # same-origin only, whatever else is configured

        throttle = LoginThrottle()

        @console.listener("before_server_start")
        async def default_account(*_: Any) -> None:
            await asyncio.to_thread(_bootstrap)

        @console.get("/login")
        async def login_form(request: Request) -> HTTPResponse:
            return _login_page()

        @console.post("/login")
        async def login(request: Request) -> HTTPResponse:
            form = request.form or {}
            if not same_site(request):
                return _error(403, "cross_site")
            nonce = request.cookies.get(LOGIN_COOKIE, "")
            try:
                valid = tokens_match(form.get("csrf") or "", login_token(nonce))
            except MalformedToken:
                return _error(400, "bad_token")
            if not valid or not nonce:
                return _error(403, "csrf")
            username, password = form.get("username") or "", form.get("password") or ""
            if len(username) > 64 or len(password) > 256:
                return _login_page(MESSAGES["bad_login"], 401)
            accounts = default_accounts()
            if not await asyncio.to_thread(_bootstrap):
                return _login_page(MESSAGES["no_password"], 401)
            keys = {
                f"account:{username.lower()}": int(settings.get("LOGIN_MAX_FAILURES_PER_ACCOUNT")),
                f"client:{security.client_address(request)}": int(settings.get("LOGIN_MAX_FAILURES_PER_CLIENT")),
            }
            wait = throttle.begin(keys)
            if wait:
                logger.warning("agent login throttled for %r from %s", username[:64], security.client_address(request))
                result = _login_page(MESSAGES["throttled"], 429)
                result.headers["Retry-After"] = str(math.ceil(wait))
                return result
            if not await asyncio.to_thread(accounts.check, username, password):
                await asyncio.sleep(0.2)
                return _login_page(MESSAGES["bad_login"], 401)
            throttle.succeeded(list(keys))
            result = response.redirect("/agent/", status=303)
            cookie = await asyncio.to_thread(accounts.open_session, username)
            _cookie(result, COOKIE, cookie, **{"max-age": int(float(settings.get("AGENT_SESSION_HOURS")) * 3600)})
            _cookie(result, LOGIN_COOKIE, "", **{"max-age": 0})
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
            return response.json({"agent": session.username, "csrf": csrf_token(session)})

        @console.post("/logout")
        @login_required()
        async def logout(request: Request) -> HTTPResponse:
            await asyncio.to_thread(default_accounts().close_session, request.cookies.get(COOKIE))
            result = response.json({"ok": True})
            _cookie(result, COOKIE, "", **{"max-age": 0})
            return result

        @console.post("/api/password")
        @login_required()
        async def change_password(request: Request) -> HTTPResponse:
            """A new password for the agent logged in; their other sessions end."""
            body = _json_body(request)
            if body is None or not isinstance(body.get("current"), str) or not isinstance(body.get("new"), str):
                return _error(400, "bad_body")
            session: Session = request.ctx.agent_session
            accounts = default_accounts()
            if not await asyncio.to_thread(accounts.check, session.username, body["current"]):
                return _error(403, "bad_password")
            try:
                await asyncio.to_thread(accounts.set_password, session.username, body["new"], session.key)
            except AccountError as error:
                return _error(400, "weak_password", reason=str(error).split(": ", 1)[-1])
            return response.json({"ok": True})

        @console.get("/api/tickets")
        @login_required()
        async def tickets(request: Request) -> HTTPResponse:
            page = _page(request.args.get("page"))
            rows, total = await asyncio.to_thread(_open_tickets, page)
            views = [await _ticket_view(request.app, row) for row in rows]
            pages = max(1, math.ceil(total / PAGE_SIZE))
            return response.json({"tickets": views, "page": page, "pages": pages, "total": total})

        @console.post("/api/tickets/<ticket_id:int>/claim")
        @login_required()
        async def claim(request: Request, ticket_id: int) -> HTTPResponse:
            agent = request.ctx.agent_session.username
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
            agent = request.ctx.agent_session.username
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

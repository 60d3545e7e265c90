"""The website chat: Rasa's socket.io channel plus what the shop's pages need from it.

Registered in credentials.yml instead of the plain `socketio:` entry; its name stays
"socketio", so trackers, tickets and `output_channel=latest` see the same channel name.
On top of Rasa's channel it:
- takes the page language from the widget's customData (rasa-webchat sends it as
  `customData`, Rasa reads `metadata`): it becomes the message metadata, and on the first
  message of a session Rasa stores it as session_started_metadata, which
  action_session_start maps to the `language` slot;
- lets the agent console (same process) push a message into a conversation's room;
- runs the silence timers: after the bot's last message, SILENCE_NUDGE_SECONDS without a
  customer message trigger EXTERNAL_silence, then SILENCE_CLOSE_SECONDS more trigger it
  again (the dialogue decides what to say: nudge, then polite close).

Replacing Rasa's `user_uttered` handler (in `blueprint` below) relies on Rasa internals:
it is listed in bot/patches.py, which names its tests.

Security (issue 12), the socket.io handlers `connect`, `session_request` and
`disconnect` are replaced too (bot/patches.py):
- session ids are issued by the server and signed (WEBSITE_SECRET): `<conversation>.<HMAC>`.
  A browser that comes back with its own signed id (a reload: rasa-webchat keeps it in
  localStorage) rejoins its conversation; any other id (guessed, made up, a bare
  conversation id) gets a new session. The conversation id, which agents and logs see,
  is not enough to join;
- each socket is bound to the one session it was confirmed: its messages go to that
  conversation whatever `session_id` they carry, and it joins no other room;
- message metadata keeps only the known keys (the page language), messages are capped,
  and each client address and conversation is rate-limited (RATE_LIMIT_PER_*): a refused
  message gets the polite `utter_rate_limited` in the customer's language, on that socket only;
- CORS: engineio answers only CORS_ORIGINS and the page's own origin (bot/security.py).
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import re
import secrets
import uuid
from functools import lru_cache
from typing import Any, Awaitable, Callable, Dict, Optional, Text

from rasa.core.channels.channel import InputChannel, OutputChannel, UserMessage
from rasa.core.channels.socketio import SocketIOInput, SocketIOOutput
from sanic import Blueprint

from bot import security, settings
from bot.channels import conversations

logger = logging.getLogger(__name__)

LANGUAGES = ("zh", "en")
MAX_SESSION_ID = 128
MAX_MESSAGE_LENGTH = 100_000  # as the REST channel
MAX_TIMERS = 10_000  # one sleeping task per silent conversation; beyond this, no nudges
CONVERSATION = re.compile(r"^[0-9a-f]{32}$")


@lru_cache(maxsize=1)
def _fallback_secret() -> str:
    # Without WEBSITE_SECRET (a server started by hand): sessions last until the next restart.
    return secrets.token_urlsafe(32)


def _session_signature(conversation_id: str) -> str:
    key = (settings.get("WEBSITE_SECRET") or _fallback_secret()).encode()
    return hmac.new(key, f"website-session:{conversation_id}".encode(), hashlib.sha256).hexdigest()[:32]


def new_session() -> str:
    """A session id for the widget: a new conversation id and its signature."""
    conversation_id = uuid.uuid4().hex
    return f"{conversation_id}.{_session_signature(conversation_id)}"


def conversation_of(session_id: Any) -> Optional[str]:
    """The conversation of a session id this server issued; None for anything else."""
    if not isinstance(session_id, str) or len(session_id) > MAX_SESSION_ID or "." not in session_id:
        return None
    conversation_id, signature = session_id.rsplit(".", 1)
    if not CONVERSATION.match(conversation_id) or not signature.isascii():
        return None
    if not hmac.compare_digest(signature.encode(), _session_signature(conversation_id).encode()):
        return None
    return conversation_id


class SilenceTimers:
    """One asyncio task per conversation, armed when the bot speaks, cancelled when the
    customer does. A conversation gets at most two silence triggers in a row."""

    def __init__(
        self,
        nudge_seconds: float,
        close_seconds: float,
        fire: Callable[[str], Awaitable[bool]],
        limit: int = MAX_TIMERS,
    ) -> None:
        self.nudge_seconds = nudge_seconds
        self.close_seconds = close_seconds
        self.fire = fire
        self.limit = limit
        self.tasks: Dict[str, asyncio.Task] = {}
        self.fired: Dict[str, int] = {}  # silence triggers since the customer's last message
        self.firing: set = set()

    def customer_spoke(self, conversation_id: str) -> None:
        self.fired.pop(conversation_id, None)
        task = self.tasks.pop(conversation_id, None)
        # A trigger already running finishes (cancelling it would cut the bot off mid-turn).
        if task is not None and conversation_id not in self.firing:
            task.cancel()

    def bot_spoke(self, conversation_id: str) -> None:
        count = self.fired.get(conversation_id, 0)
        if count >= 2:
            return  # nudged and closed: wait for the customer
        old = self.tasks.pop(conversation_id, None)
        if old is not None and old is not asyncio.current_task():
            old.cancel()
        if len(self.tasks) >= self.limit:
            logger.warning("%d silence timers running; not watching %s", self.limit, conversation_id)
            return
        delay = self.close_seconds if count else self.nudge_seconds
        self.tasks[conversation_id] = asyncio.get_running_loop().create_task(self._wait(conversation_id, delay))

    async def _wait(self, conversation_id: str, delay: float) -> None:
        try:
            await asyncio.sleep(delay)
            self.fired[conversation_id] = self.fired.get(conversation_id, 0) + 1
            self.firing.add(conversation_id)
            if not await self.fire(conversation_id):
                self.fired.pop(conversation_id, None)  # paused or ended: stop watching
        except asyncio.CancelledError:
            pass
        except Exception:
            logger.exception("silence trigger for %s failed", conversation_id)
        finally:
            self.firing.discard(conversation_id)
            if self.tasks.get(conversation_id) is asyncio.current_task():
                del self.tasks[conversation_id]
            if conversation_id not in self.tasks:
                self.fired.pop(conversation_id, None)  # nothing more to count: keep the dict small

    def stop(self) -> None:
        for task in self.tasks.values():
            task.cancel()
        self.tasks.clear()
        self.fired.clear()


class WebsiteOutput(SocketIOOutput):
    """Rasa's socket.io output that tells the silence timers whenever the bot speaks."""

    def __init__(self, sio: Any, bot_message_evt: Text, on_sent: Callable[[str], None]) -> None:
        super().__init__(sio, bot_message_evt)
        self.on_sent = on_sent

    async def _send_message(self, socket_id: Text, response: Any) -> None:
        await super()._send_message(socket_id, response)
        self.on_sent(socket_id)

    async def send_custom_json(self, recipient_id: Text, json_message: Dict[Text, Any], **kwargs: Any) -> None:
        await super().send_custom_json(recipient_id, json_message, **kwargs)
        self.on_sent(recipient_id)


def page_metadata(data: Dict[str, Any], metadata_key: str) -> Dict[str, Any]:
    """The widget's customData (or Rasa's `metadata`): only a checked page language is kept."""
    raw = data.get("customData", data.get(metadata_key))
    if isinstance(raw, str) and len(raw) <= 1024:
        try:
            raw = json.loads(raw)
        except ValueError:
            raw = None
    language = str(raw.get("language", ""))[:16].lower()[:2] if isinstance(raw, dict) else ""
    return {"language": language} if language in LANGUAGES else {}


class WebsiteInput(SocketIOInput):
    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[Text, Any]]) -> InputChannel:
        credentials = credentials or {}
        return cls(
            credentials.get("user_message_evt", "user_uttered"),
            credentials.get("bot_message_evt", "bot_uttered"),
            credentials.get("namespace"),
            credentials.get("session_persistence", True),
            credentials.get("socketio_path", "/socket.io"),
            credentials.get("jwt_key"),
            credentials.get("jwt_method", "HS256"),
            credentials.get("metadata_key", "metadata"),
        )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.app: Any = None  # the Sanic app, known once the server starts
        self.timers = SilenceTimers(
            float(settings.get("SILENCE_NUDGE_SECONDS")), float(settings.get("SILENCE_CLOSE_SECONDS")), self._silence
        )
        self.limits = security.MessageLimits()
        self.connects = security.RateLimiter(int(settings.get("RATE_LIMIT_PER_CLIENT") or 0))
        self.clients: Dict[str, str] = {}  # socket id -> client address
        self.bound: Dict[str, str] = {}  # socket id -> the conversation it was confirmed

    @staticmethod
    def allowed_origin(origin: Optional[str], environ: Optional[Dict[str, Any]] = None) -> bool:
        """engineio's CORS check: CORS_ORIGINS and the page's own origin."""
        if not origin:
            return True  # not a browser page
        origin = origin.rstrip("/").lower()
        own = None
        if environ and environ.get("HTTP_HOST"):
            own = f"{environ.get('wsgi.url_scheme', 'http')}://{environ['HTTP_HOST']}".lower()
        return origin == own or origin in [o.lower() for o in security.cors_origins()]

    def get_output_channel(self) -> Optional[OutputChannel]:
        if self.sio is None:
            return super().get_output_channel()
        return WebsiteOutput(self.sio, self.bot_message_evt, self.timers.bot_spoke)

    async def push(self, conversation_id: str, text: str) -> None:
        """Show `text` (an agent's reply) in the conversation's widget now."""
        # With session_persistence the widget's socket joined the room named after the
        # session id, which is also Rasa's sender id.
        await self.sio.emit(self.bot_message_evt, {"text": text}, room=conversation_id)

    async def _silence(self, conversation_id: str) -> bool:
        if self.app is None:
            return False
        return await conversations.trigger(self.app, conversation_id, conversations.SILENCE, unless_paused=True)

    async def _refuse(self, sid: str, message: Any, metadata: Dict[str, Any], wait: float) -> None:
        """A rate-limited message: a polite note on this socket only, nothing reaches the bot."""
        language = security.language_of(message, metadata.get("language"))
        text = security.response_text(self.app, "utter_rate_limited", language)
        if text and self.sio is not None:
            await self.sio.emit(self.bot_message_evt, {"text": text}, room=sid)
        logger.info("socket.io message rate-limited (%.0f s) for %s", wait, self.clients.get(sid, "?"))

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        blueprint = super().blueprint(on_new_message)
        sio = self.sio
        namespace = self.namespace
        sio.eio.cors_allowed_origins = self.allowed_origin
        sio.eio.cors_credentials = False

        # Replaces Rasa's connect handler: Rasa's JWT check, then the client's address and
        # a limit on new connections per address.
        @sio.on("connect", namespace=namespace)
        async def connect(sid: Text, environ: Dict, auth: Optional[Dict] = None) -> bool:
            if self.jwt_key:
                from rasa.core.channels.channel import decode_bearer_token

                token = auth.get("token") if isinstance(auth, dict) else None
                if not token or not decode_bearer_token(token, self.jwt_key, self.jwt_algorithm):
                    return False
            request = environ.get("sanic.request")
            client = security.client_address(request) if request is not None else "unknown"
            if self.connects.hit(f"connect:{client}"):
                logger.info("socket.io connection refused (rate limit) for %s", client)
                return False
            self.clients[sid] = client
            return True

        @sio.on("disconnect", namespace=namespace)
        async def disconnect(sid: Text) -> None:
            self.clients.pop(sid, None)
            self.bound.pop(sid, None)

        # Replaces Rasa's: the server issues (or recognises) a signed session id, and the
        # socket is bound to it.
        @sio.on("session_request", namespace=namespace)
        async def session_request(sid: Text, data: Any) -> None:
            if not self.session_persistence:
                await sio.emit("session_confirm", sid, room=sid)
                return
            if sid in self.bound:  # one session per socket
                conversation_id = self.bound[sid]
                session_id = f"{conversation_id}.{_session_signature(conversation_id)}"
            else:
                asked = data.get("session_id") if isinstance(data, dict) else None
                conversation_id = conversation_of(asked)
                session_id = asked if conversation_id else new_session()
                conversation_id = conversation_id or conversation_of(session_id)
                self.bound[sid] = str(conversation_id)
                sio.enter_room(sid, conversation_id, namespace=namespace)
            await sio.emit("session_confirm", session_id, room=sid)

        # Replaces Rasa's handler for the same event: checked input, page language,
        # our output channel (silence timers), the socket's own conversation, rate limits.
        @sio.on(self.user_message_evt, namespace=namespace)
        async def handle_message(sid: Text, data: Any) -> None:
            if not isinstance(data, dict):
                return
            if self.session_persistence:
                session_id = self.bound.get(sid)
                if session_id is None:
                    logger.warning("socket.io message before a confirmed session ignored")
                    return
            else:
                session_id = sid
            message = data.get("message", "")
            if not isinstance(message, str) or len(message) > MAX_MESSAGE_LENGTH:
                return
            metadata = page_metadata(data, self.metadata_key)
            wait = self.limits.wait(self.clients.get(sid, "unknown"), session_id)
            if wait:
                await self._refuse(sid, message, metadata, wait)
                return
            self.timers.customer_spoke(session_id)
            await on_new_message(
                UserMessage(
                    message,
                    self.get_output_channel(),
                    session_id,
                    input_channel=self.name(),
                    metadata=metadata,
                )
            )

        @blueprint.listener("after_server_start")
        async def keep_app(app: Any, _: Any) -> None:
            self.app = app

        @blueprint.listener("before_server_stop")
        async def stop_timers(*_: Any) -> None:
            self.timers.stop()

        return blueprint


def website_channel(app: Any) -> Optional[WebsiteInput]:
    """The running website channel, for the console."""
    for channel in getattr(app.ctx, "input_channels", None) or []:
        if isinstance(channel, WebsiteInput):
            return channel
    return None

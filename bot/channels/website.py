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
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any, Awaitable, Callable, Dict, Optional, Text

from rasa.core.channels.channel import InputChannel, OutputChannel, UserMessage
from rasa.core.channels.socketio import SocketIOInput, SocketIOOutput
from sanic import Blueprint

from bot import settings
from bot.channels import conversations

logger = logging.getLogger(__name__)

LANGUAGES = ("zh", "en")
MAX_SESSION_ID = 128
MAX_MESSAGE_LENGTH = 100_000  # as the REST channel
MAX_TIMERS = 10_000  # one sleeping task per silent conversation; beyond this, no nudges


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
    """The widget's customData (or Rasa's `metadata`) as a dict, with a checked language."""
    raw = data.get("customData", data.get(metadata_key))
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except ValueError:
            raw = None
    metadata = dict(raw) if isinstance(raw, dict) else {}
    language = str(metadata.get("language", "")).lower()[:2]
    if language in LANGUAGES:
        metadata["language"] = language
    else:
        metadata.pop("language", None)
    return metadata


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

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        blueprint = super().blueprint(on_new_message)
        sio = self.sio
        namespace = self.namespace

        # Replaces Rasa's handler for the same event: checked input, page language,
        # and our output channel (silence timers).
        @sio.on(self.user_message_evt, namespace=namespace)
        async def handle_message(sid: Text, data: Any) -> None:
            if not isinstance(data, dict):
                return
            session_id = data.get("session_id") if self.session_persistence else sid
            message = data.get("message", "")
            if not isinstance(session_id, str) or not session_id or len(session_id) > MAX_SESSION_ID:
                logger.warning("socket.io message without a valid session_id ignored")
                return
            if not isinstance(message, str) or len(message) > MAX_MESSAGE_LENGTH:
                return
            self.timers.customer_spoke(session_id)
            await on_new_message(
                UserMessage(
                    message,
                    self.get_output_channel(),
                    session_id,
                    input_channel=self.name(),
                    metadata=page_metadata(data, self.metadata_key),
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

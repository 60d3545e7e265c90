"""The REST webhook with its request body checked before anything reaches the bot.

Rasa's RestInput answers a JSON array or an empty body with a 500 and files a message
without `sender` under the shared "default" conversation. Here both are a clear 400.
The URL stays /webhooks/rest/webhook.

Security (issue 12):
- the channel is always "rest": a body's `input_channel` is ignored (a REST client
  cannot pass for WeChat and have agent replies sent to a WeChat user);
- `metadata` may only hold known keys (METADATA: the page language), small; anything
  else is a 400 with the reason; bodies over bot.security.MAX_PUBLIC_BODY are a 413;
- with REST_TOKEN set, only callers with `Authorization: Bearer <REST_TOKEN>` may post
  (an integrator's backend that chooses the sender ids), 401 otherwise;
- per-client and per-conversation rate limits (RATE_LIMIT_PER_*): a 429 with Retry-After
  and the polite `utter_rate_limited` in the customer's language;
- text starting with `/` is read as text unless it is a button the bot offered
  (bot/customer_text.py).
"""

from __future__ import annotations

import hmac
import json
import math
from typing import Any, Awaitable, Callable, Dict, Optional, Text

from rasa.core.channels.channel import UserMessage
from rasa.core.channels.rest import RestInput as RasaRestInput
from sanic import Blueprint
from sanic.exceptions import InvalidUsage
from sanic.request import Request

from bot import security, settings

MAX_SENDER_LENGTH = 128
MAX_MESSAGE_LENGTH = 100_000  # far beyond any real message; a 20,000-character paste is answered
# The metadata a client may send, with its longest value; the widget sends the page language.
METADATA = {"language": 16}
MAX_METADATA_BYTES = 1024


def _body(request: Request) -> Dict[str, Any]:
    body = request.json  # raises InvalidUsage (400) on malformed JSON
    if not isinstance(body, dict):
        raise InvalidUsage("The request body must be a JSON object with 'sender' and 'message'.")
    return body


def checked_metadata(metadata: Any) -> Optional[Dict[str, Any]]:
    """The client's metadata if it holds only known keys with short string values; else InvalidUsage."""
    if metadata is None:
        return None
    if not isinstance(metadata, dict):
        raise InvalidUsage("'metadata' must be a JSON object.")
    if len(json.dumps(metadata, ensure_ascii=False).encode("utf-8")) > MAX_METADATA_BYTES:
        raise InvalidUsage(f"'metadata' is larger than {MAX_METADATA_BYTES} bytes.")
    unknown = sorted(set(metadata) - set(METADATA))
    if unknown:
        raise InvalidUsage(f"'metadata' may only contain {', '.join(METADATA)}; not {', '.join(unknown)[:200]}.")
    for key, limit in METADATA.items():
        value = metadata.get(key)
        if value is not None and (not isinstance(value, str) or len(value) > limit):
            raise InvalidUsage(f"'metadata.{key}' must be a string of at most {limit} characters.")
    return dict(metadata) or None


class RestInput(RasaRestInput):
    def __init__(self) -> None:
        self.limits = security.MessageLimits()

    async def _extract_sender(self, request: Request) -> Optional[Text]:
        sender = _body(request).get("sender")
        if isinstance(sender, int) and not isinstance(sender, bool):
            sender = str(sender)
        if not isinstance(sender, str) or not sender.strip() or len(sender) > MAX_SENDER_LENGTH:
            raise InvalidUsage(f"'sender' must be a non-empty string of at most {MAX_SENDER_LENGTH} characters.")
        return sender

    def _extract_message(self, request: Request) -> Optional[Text]:
        message = _body(request).get("message", "")
        if message is None:
            message = ""
        if not isinstance(message, str):
            raise InvalidUsage("'message' must be a string.")
        if len(message) > MAX_MESSAGE_LENGTH:
            raise InvalidUsage(f"'message' is longer than {MAX_MESSAGE_LENGTH} characters.")
        return message

    def _extract_input_channel(self, request: Request) -> Text:
        return self.name()  # the server decides the channel, never the body

    def get_metadata(self, request: Request) -> Optional[Dict[Text, Any]]:
        return checked_metadata(_body(request).get("metadata"))

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[None]]) -> Blueprint:
        blueprint = super().blueprint(on_new_message)

        @blueprint.middleware("request")
        async def guard(request: Request) -> Any:
            if request.method != "POST":
                return None
            token = settings.get("REST_TOKEN")
            if token:
                given = request.headers.get("authorization", "").encode("utf-8", "replace")
                if not hmac.compare_digest(given, f"Bearer {token}".encode()):
                    return security.json_error(401, "This REST webhook needs 'Authorization: Bearer <REST_TOKEN>'.")
            body = _body(request)
            sender = await self._extract_sender(request)
            self._extract_message(request)
            metadata = self.get_metadata(request) or {}
            wait = self.limits.wait(security.client_address(request), sender)
            if wait:
                language = security.language_of(body.get("message"), str(metadata.get("language") or "")[:2].lower())
                return security.json_error(
                    429,
                    "Too many messages; please wait a moment.",
                    retry_after=math.ceil(wait),
                    message=security.response_text(request.app, "utter_rate_limited", language),
                )
            return None

        return blueprint

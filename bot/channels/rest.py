"""The REST webhook with its request body checked before anything reaches the bot.

Rasa's RestInput answers a JSON array or an empty body with a 500 and files a message
without `sender` under the shared "default" conversation. Here both are a clear 400.
The URL stays /webhooks/rest/webhook.
"""

from __future__ import annotations

from typing import Any, Dict, Optional, Text

from rasa.core.channels.rest import RestInput as RasaRestInput
from sanic.exceptions import InvalidUsage
from sanic.request import Request

MAX_SENDER_LENGTH = 128
MAX_MESSAGE_LENGTH = 100_000  # far beyond any real message; a 20,000-character paste is answered


def _body(request: Request) -> Dict[str, Any]:
    body = request.json  # raises InvalidUsage (400) on malformed JSON
    if not isinstance(body, dict):
        raise InvalidUsage("The request body must be a JSON object with 'sender' and 'message'.")
    return body


class RestInput(RasaRestInput):
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

    def get_metadata(self, request: Request) -> Optional[Dict[Text, Any]]:
        metadata = _body(request).get("metadata")
        return metadata if isinstance(metadata, dict) else None

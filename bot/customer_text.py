"""Customers speak in words, not in intents (issue 12, item 3).

Rasa reads any message that starts with `/` as an intent with entities
(`/inform{"order_id":"SO20261101"}`, `/restart`) and skips the NLU: a customer could type
what only the bot's buttons should say. Here, in one place, the server decides whether a
message may speak as an intent; if not, the NLU reads it as the text it is.

A message may speak as an intent when
- it comes from inside the server (no input channel: Rasa's API behind its token,
  `rasa test`; or `cmdline`, the developer's `make shell`), or
- its text is exactly the payload of a button the bot offered in this conversation
  (a widget click, or the same text typed), or
- it is the website widget's opening payload (`/greet`, bot/web/shop/shop.js), or
- a channel made it itself and signed it with `server_made` (WeChat's subscribe event
  greets with `/greet{"language": ...}`): the signature is an HMAC with a key that lives
  only in this process, so neither a client nor a stored old message can carry one.

`speaks_as_intent` is the decision; `parse_as_text` is the replacement of Rasa's
`MessageProcessor._parse_message_with_graph` (bot/patches.py) that, when the answer is
no, stops the NLU graph before its last node, RegexMessageHandler.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import secrets
from typing import Any, Callable, Dict, Iterable, Optional, Set

from rasa.shared.constants import INTENT_MESSAGE_PREFIX

SIGNATURE_KEY = "server_made"
TRUSTED_CHANNELS = (None, "cmdline")
OPENING_PAYLOADS = {"socketio": {"/greet"}}  # what a channel's own client opens a chat with
_KEY = secrets.token_bytes(32)


def _signature(text: str) -> str:
    return hmac.new(_KEY, text.encode("utf-8"), hashlib.sha256).hexdigest()


def server_made(text: str) -> Dict[str, str]:
    """Metadata for a message a channel writes itself (not the customer): it may speak as an intent."""
    return {SIGNATURE_KEY: _signature(text)}


def offered_payloads(events: Iterable[Any]) -> Set[str]:
    """The payloads of every button the bot offered in these events."""
    from rasa.shared.core.events import BotUttered

    found: Set[str] = set()
    for event in events:
        if isinstance(event, BotUttered):
            for button in (event.data or {}).get("buttons") or []:
                payload = button.get("payload") if isinstance(button, dict) else None
                if isinstance(payload, str):
                    found.add(payload.strip())
    return found


def speaks_as_intent(message: Any, tracker: Any) -> bool:
    """May this UserMessage be read as `/intent{entities}`?"""
    text = (getattr(message, "text", None) or "").strip()
    if not text.startswith(INTENT_MESSAGE_PREFIX):
        return True  # words: the NLU reads them either way
    channel = getattr(message, "input_channel", None)
    if channel in TRUSTED_CHANNELS:
        return True
    signature = (getattr(message, "metadata", None) or {}).get(SIGNATURE_KEY)
    if isinstance(signature, str) and hmac.compare_digest(
        signature.encode("utf-8"), _signature(getattr(message, "text", "") or "").encode()
    ):
        return True
    if text in OPENING_PAYLOADS.get(channel, ()):
        return True
    return tracker is not None and text in offered_payloads(getattr(tracker, "events", None) or [])


def _nlu_without_regex_handler(processor: Any) -> Optional[str]:
    """The node before RegexMessageHandler in the model's NLU graph (None if it has none)."""
    from rasa.nlu.classifiers.regex_message_handler import RegexMessageHandler

    schema = processor.model_metadata.predict_schema
    node = schema.nodes.get(processor.model_metadata.nlu_target)
    if node is None or node.uses is not RegexMessageHandler:
        return None
    return node.needs.get("messages")


def parse_as_text(parse_with_graph: Callable[..., Dict[str, Any]]) -> Callable[..., Dict[str, Any]]:
    """MessageProcessor._parse_message_with_graph that reads a message the customer may
    not speak as an intent with the NLU only (the graph up to RegexMessageHandler)."""

    @functools.wraps(parse_with_graph)
    def parse(self: Any, message: Any, tracker: Any, only_output_properties: bool = True) -> Dict[str, Any]:
        if speaks_as_intent(message, tracker):
            return parse_with_graph(self, message, tracker, only_output_properties)
        target = _nlu_without_regex_handler(self)
        if target is None:
            return parse_with_graph(self, message, tracker, only_output_properties)
        from rasa.engine.constants import PLACEHOLDER_MESSAGE, PLACEHOLDER_TRACKER
        from rasa.shared.nlu.constants import ENTITIES, INTENT, INTENT_NAME_KEY, PREDICTED_CONFIDENCE_KEY, TEXT

        results = self.graph_runner.run(
            inputs={PLACEHOLDER_MESSAGE: [message], PLACEHOLDER_TRACKER: tracker}, targets=[target]
        )
        parsed = results[target][0]
        parse_data = {TEXT: "", INTENT: {INTENT_NAME_KEY: None, PREDICTED_CONFIDENCE_KEY: 0.0}, ENTITIES: []}
        parse_data.update(parsed.as_dict(only_output_properties=only_output_properties))
        return parse_data

    return parse

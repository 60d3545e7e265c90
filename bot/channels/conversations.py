"""What the Rasa server's own web pages do to a conversation, in-process.

The agent console and the website's silence timers run inside the Rasa server, so they
use Rasa's Agent directly (`app.ctx.agent`) instead of calling the HTTP API over the
network: same lock, same tracker store, and the bot's answers go out through the
customer's own channel (the socket.io room of the widget, the WeChat API, ...).
Every change holds the conversation's lock, as Rasa's own message handling does, so an
agent reply never interleaves with a customer message being processed.
"""

from __future__ import annotations

import logging
from typing import Any, Dict, List, Optional

from rasa.core.channels.channel import CollectingOutputChannel, OutputChannel
from rasa.shared.core.constants import EXTERNAL_MESSAGE_PREFIX, IS_EXTERNAL
from rasa.shared.core.events import BotUttered, ConversationResumed, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

logger = logging.getLogger(__name__)

HANDOFF_ENDED = "EXTERNAL_handoff_ended"
SILENCE = "EXTERNAL_silence"


def output_channel_for(app: Any, tracker: DialogueStateTracker) -> OutputChannel:
    """The output of the channel the customer last wrote from (Rasa's `output_channel=latest`)."""
    name = tracker.get_latest_input_channel()
    for channel in getattr(app.ctx, "input_channels", None) or []:
        if channel.name() == name:
            output = channel.get_output_channel()
            if output is not None:
                return output
    # A channel that cannot push (REST): the answers are still recorded in the tracker.
    return CollectingOutputChannel()


async def read_tracker(app: Any, conversation_id: str) -> Optional[DialogueStateTracker]:
    """The whole stored conversation (all sessions), or None if there is none."""
    return await app.ctx.agent.tracker_store.retrieve_full_tracker(conversation_id)


def is_external(event: UserUttered) -> bool:
    return bool((event.metadata or {}).get(IS_EXTERNAL)) or (event.text or "").startswith(EXTERNAL_MESSAGE_PREFIX)


def transcript(tracker: DialogueStateTracker) -> List[Dict[str, Any]]:
    """Customer, bot and agent messages in order; the bot's own triggers are left out."""
    lines: List[Dict[str, Any]] = []
    for event in tracker.events:
        if isinstance(event, UserUttered) and event.text and not is_external(event):
            lines.append({"sender": "customer", "text": event.text, "at": event.timestamp})
        elif isinstance(event, BotUttered) and event.text:
            agent = (event.metadata or {}).get("agent")
            lines.append(
                {
                    "sender": "agent" if agent else "bot",
                    "text": event.text,
                    "at": event.timestamp,
                    **({"agent": agent} if agent else {}),
                }
            )
    return lines


async def record_agent_message(app: Any, conversation_id: str, text: str, agent_name: str) -> None:
    """Keep the agent's reply in the conversation so transcripts stay complete."""
    agent = app.ctx.agent
    async with agent.lock_store.lock(conversation_id):
        tracker = await agent.processor.get_tracker(conversation_id)
        tracker.update(BotUttered(text, metadata={"agent": agent_name}))
        await agent.processor.save_tracker(tracker)


async def trigger(
    app: Any, conversation_id: str, intent: str, resume: bool = False, unless_paused: bool = False
) -> bool:
    """Run the external intent `intent` for the conversation; its answers go to the customer.

    resume: append ConversationResumed first (the agent ended the hand-off).
    unless_paused: do nothing while the bot is paused or the conversation has ended, and
    before the customer has written anything themselves (silence timers).
    Returns whether the intent ran.
    """
    agent = app.ctx.agent
    known = agent is not None and intent in agent.domain.intents
    if not known:
        logger.warning("cannot trigger %s for %s: no model or intent not in the domain", intent, conversation_id)
        if not resume or agent is None:
            return False
    async with agent.lock_store.lock(conversation_id):
        tracker = await agent.processor.get_tracker(conversation_id)
        if unless_paused and not _may_nudge(tracker):
            return False
        if resume:
            tracker.update(ConversationResumed())
        if not known:
            await agent.processor.save_tracker(tracker)  # resumed, even if nothing is said
            return False
        await agent.processor.trigger_external_user_uttered(intent, None, tracker, output_channel_for(app, tracker))
    return True


def _may_nudge(tracker: DialogueStateTracker) -> bool:
    if not tracker.events or tracker.is_paused() or tracker.get_slot("conversation_closed"):
        return False
    # "In the middle of a conversation": the customer typed something (not a widget payload).
    return any(
        isinstance(e, UserUttered) and e.text and not e.text.startswith("/") and not is_external(e)
        for e in tracker.applied_events()
    )

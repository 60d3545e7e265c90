"""Never silent while waiting for an agent.

action_handoff pauses the conversation (ConversationPaused) so that the customer's
messages reach the agent only. Rasa then logs every later message and answers nothing
(MessageProcessor._run_prediction_loop stops at `_should_handle_message`) until an agent
claims the conversation in the console and ends the hand-off. Before an agent has claimed
it, that silence reads as "nobody is there".

Here, where Rasa handles a message for a paused conversation (so for every channel), a
message the customer writes while the conversation's hand-off ticket is still waiting
(bot/shop/store.py, tickets: kind "handoff", status "waiting") gets one short
acknowledgement with the queue position (`utter_handoff_waiting`). The message itself is
kept in the tracker as before, for the agent. Once an agent has claimed the ticket
(status "active") the bot says nothing and the agent answers, as before. Installed by
bot/patches.py.

The customer's way out of the queue: a "no" ("算了 不用了", "never mind") while the ticket
is still waiting closes it (the console no longer lists it; an agent's claim is refused
as for a ticket another agent took), resumes the conversation and says so
(`utter_handoff_withdrawn`); the bot answers the next message again.

The way to a person also works while the action server is down (bot/resilience.py): when
action_handoff itself fails, `hand_off` opens the hand-off ticket from here (one per
conversation, as the action does), pauses the conversation and acknowledges with the
queue position; the agent console then works as for any hand-off.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from functools import lru_cache
from typing import Any, Awaitable, Callable, Optional

from rasa.core.actions.action import create_bot_utterance
from rasa.shared.core.constants import REQUESTED_SLOT
from rasa.shared.core.events import ActiveLoop, ConversationPaused, ConversationResumed, SlotSet
from rasa.shared.core.trackers import DialogueStateTracker

from bot import settings
from bot.resilience import from_customer

logger = logging.getLogger(__name__)

WAITING = "utter_handoff_waiting"
WITHDRAWN = "utter_handoff_withdrawn"
WITHDRAW_INTENTS = {"deny"}  # "算了 不用了", "never mind" while still in the queue
TRANSCRIPT_LENGTH = 20  # as action_handoff


@lru_cache(maxsize=4)
def _store(url: str) -> Any:
    from bot.shop.store import store_for

    return store_for(url)


def store() -> Any:
    """The shop store (one engine per database URL for this process)."""
    return _store(settings.database_url())


def waiting_position(conversation_id: str) -> Optional[int]:
    """The conversation's place in the agents' queue (1 = next), while its hand-off ticket
    is waiting; None once an agent has claimed it, or without an open hand-off."""
    from bot.shop.store import Ticket

    with store().session() as session:
        ticket = (
            session.query(Ticket.id, Ticket.status)
            .filter(
                Ticket.kind == "handoff",
                Ticket.conversation_id == conversation_id,
                Ticket.status.in_(("waiting", "active")),
            )
            .order_by(Ticket.id.desc())
            .first()
        )
        if ticket is None or ticket.status != "waiting":
            return None
        return (
            session.query(Ticket.id)
            .filter(Ticket.kind == "handoff", Ticket.status == "waiting", Ticket.id <= ticket.id)
            .count()
        )


def withdraw(conversation_id: str) -> bool:
    """Close the conversation's hand-off ticket if no agent has claimed it yet."""
    from bot.shop.store import Ticket, now

    with store().session() as session:
        closed = (
            session.query(Ticket)
            .filter(Ticket.kind == "handoff", Ticket.conversation_id == conversation_id, Ticket.status == "waiting")
            .update(
                {Ticket.status: "closed", Ticket.closed_at: now(), Ticket.updated_at: now()},
                synchronize_session=False,
            )
        )
    return closed > 0


async def withdrawn(processor: Any, output_channel: Any, tracker: DialogueStateTracker) -> bool:
    """The customer's "no" while waiting: the ticket closed, the conversation resumed."""
    intent = (tracker.latest_message.intent or {}).get("name")
    if intent not in WITHDRAW_INTENTS or WITHDRAWN not in processor.domain.responses:
        return False
    try:
        if not await asyncio.to_thread(withdraw, tracker.sender_id):
            return False  # an agent has it already: the agent reads the "no"
    except Exception:
        logger.exception("conversation %s: could not close its hand-off ticket", tracker.sender_id)
        return False
    logger.info("conversation %s: the customer left the queue for an agent", tracker.sender_id)
    tracker.update(ConversationResumed(), processor.domain)
    await say(processor, output_channel, tracker, WITHDRAWN)
    return True


async def acknowledge(processor: Any, output_channel: Any, tracker: DialogueStateTracker) -> None:
    """utter_handoff_waiting for the customer's latest message, if the hand-off is still waiting."""
    try:
        position = await asyncio.to_thread(waiting_position, tracker.sender_id)
    except Exception:
        logger.exception("conversation %s: could not read its hand-off ticket", tracker.sender_id)
        return
    if position is None:
        return  # an agent has the conversation (or nobody will: the console shows no open ticket)
    if WAITING not in processor.domain.responses:
        logger.warning("the domain has no %s: no acknowledgement while waiting (retrain the model)", WAITING)
        return
    await say(processor, output_channel, tracker, WAITING, position=position)


async def say(processor: Any, output_channel: Any, tracker: DialogueStateTracker, response: str, **values: Any) -> None:
    message = await processor.nlg.generate(response, tracker, output_channel.name(), **values)
    if message is None:
        return
    message["utter_action"] = response
    # Said, not acted: a BotUttered without an ActionExecuted, so the paused conversation's
    # dialogue state is the same as without it (the agent ends the hand-off from there).
    uttered = create_bot_utterance(message)
    tracker.update(uttered, processor.domain)
    await processor._send_bot_messages([uttered], tracker, output_channel)


def acknowledge_while_waiting(run_prediction_loop: Callable[..., Awaitable[None]]) -> Callable[..., Awaitable[None]]:
    """MessageProcessor._run_prediction_loop, acknowledging a customer's message while paused."""

    @functools.wraps(run_prediction_loop)
    async def run(self: Any, output_channel: Any, tracker: DialogueStateTracker) -> None:
        if not self._should_handle_message(tracker) and from_customer(tracker.latest_message):
            if await withdrawn(self, output_channel, tracker):
                return  # answered; the next message is the bot's again
            await acknowledge(self, output_channel, tracker)
        await run_prediction_loop(self, output_channel, tracker)  # paused: predicts nothing, as before

    return run


def open_handoff_ticket(tracker: DialogueStateTracker) -> int:
    """The conversation's open hand-off ticket, opened now if it has none (as action_handoff
    would, with what the Rasa server knows: channel, language, the transcript)."""
    from bot.channels.conversations import transcript
    from bot.shop.store import Ticket

    with store().session() as session:
        found = (
            session.query(Ticket.id)
            .filter(
                Ticket.kind == "handoff",
                Ticket.conversation_id == tracker.sender_id,
                Ticket.status.in_(("waiting", "active")),
            )
            .first()
        )
    if found is not None:
        return found[0]
    language = tracker.get_slot("language") or "zh"
    last = (tracker.latest_message.text or "") if tracker.latest_message else ""
    return store().open_ticket(
        kind="handoff",
        status="waiting",
        conversation_id=tracker.sender_id,
        channel=tracker.get_latest_input_channel(),
        language=language,
        reason="customer asked",
        remedies=[],
        summary=f"language={language}; reason=customer asked; the bot's action server was unavailable; "
        f"last message: {last[:200]}",
        transcript=transcript(tracker)[-TRANSCRIPT_LENGTH:],
    )


async def hand_off(processor: Any, output_channel: Any, tracker: DialogueStateTracker) -> bool:
    """action_handoff's effect without the action server: a waiting ticket, the form (if
    any) closed, the conversation paused, the customer told their place in the queue.
    False if the store could not be written (the caller apologises instead)."""
    try:
        ticket = await asyncio.to_thread(open_handoff_ticket, tracker)
    except Exception:
        logger.exception("conversation %s: could not open a hand-off ticket", tracker.sender_id)
        return False
    logger.warning("conversation %s: hand-off ticket %s opened by the Rasa server itself", tracker.sender_id, ticket)
    tracker.update_with_events(
        [ActiveLoop(None), SlotSet(REQUESTED_SLOT, None), ConversationPaused()], processor.domain
    )
    await acknowledge(processor, output_channel, tracker)
    return True

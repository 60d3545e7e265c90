"""Hand-off to a human agent: a ticket with everything the bot knows, a queue position,
then the bot pauses itself so the customer's messages reach the agent only.

Outside service hours the customer is told when agents are back, the ticket is
recorded and the bot carries on. The agent console (bot/channels) resumes the
conversation and triggers EXTERNAL_handoff_ended, answered here with a rating request.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Dict, List, Optional, Text, Tuple

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActionExecuted, ActiveLoop, ConversationPaused, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from bot import settings
from bot.actions.common import agent_name, intent_of, language_of, off_loop, say, shop, shop_now
from bot.shop.store import Store, Ticket, default_store

TRANSCRIPT_LENGTH = 20


def service_hours() -> Tuple[dt.time, dt.time]:
    """SERVICE_HOURS in .env ("09:00-22:00") overrides shop.yml's service_hours."""
    configured = settings.get("SERVICE_HOURS")
    if configured:
        start, end = configured.split("-")
    else:
        hours = shop().info["service_hours"]
        start, end = hours["open"], hours["close"]
    return _clock(start), _clock(end)


def _clock(value: str) -> dt.time:
    """ "09:00" -> 09:00; "24:00" -> the end of the day."""
    value = value.strip()
    return dt.time.max if value == "24:00" else dt.time(*map(int, value.split(":")))


def local_now() -> dt.datetime:
    return shop_now()


def agents_available(moment: Optional[dt.datetime] = None) -> bool:
    start, end = service_hours()
    current = (moment or local_now()).time()
    return start <= current < end


def transcript(tracker: Tracker) -> List[Dict[str, Any]]:
    lines = []
    for event in tracker.events:
        if event.get("event") in ("user", "bot") and event.get("text"):
            lines.append(
                {
                    "sender": "customer" if event["event"] == "user" else "bot",
                    "text": event["text"],
                    "at": event.get("timestamp"),
                }
            )
    return lines[-TRANSCRIPT_LENGTH:]


def summary(tracker: Tracker, reason: str) -> str:
    """One line the agent reads first, so the customer is never asked again."""
    parts = [f"language={language_of(tracker)}", f"reason={reason}"]
    for slot in ("complaint_category", "order_id", "product", "remedy"):
        if tracker.get_slot(slot):
            parts.append(f"{slot}={tracker.get_slot(slot)}")
    last = next((e.get("text") for e in reversed(tracker.events) if e.get("event") == "user" and e.get("text")), "")
    parts.append(f"last message: {last[:200]}")
    return "; ".join(parts)


def handoff_reason(tracker: Tracker) -> str:
    return {"request_human": "customer asked", "affirm": "customer asked", "complain": "upset customer"}.get(
        intent_of(tracker), "bot could not resolve"
    )


def open_handoff(store: Store, conversation_id: str) -> Optional[int]:
    """The conversation's hand-off that an agent has not ended yet, if any."""
    with store.session() as session:
        ticket = (
            session.query(Ticket.id)
            .filter(
                Ticket.kind == "handoff",
                Ticket.conversation_id == conversation_id,
                Ticket.status.in_(("waiting", "active")),
            )
            .first()
        )
    return ticket[0] if ticket else None


def queue_position(store: Store, ticket: int) -> int:
    with store.session() as session:
        return (
            session.query(Ticket)
            .filter(Ticket.kind == "handoff", Ticket.status == "waiting", Ticket.id <= ticket)
            .count()
        )


class ActionHandoff(Action):
    def name(self) -> Text:
        return "action_handoff"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[Dict[Text, Any]]:
        language = language_of(tracker)
        reason = tracker.get_slot("handoff_reason") or handoff_reason(tracker)
        store = default_store()
        available = agents_available()
        closing = [SlotSet("handoff_reason", None), ActiveLoop(None), SlotSet("requested_slot", None)]
        # Paused, the bot stops before its usual action_listen; logging it here keeps the
        # next turns (the agent's end of hand-off, the customer's messages) user turns.
        # An open form (order, complaint) is closed: the agent takes it from here.
        pause = [ConversationPaused(), ActionExecuted("action_listen")] if available else []
        waiting = await off_loop(open_handoff, store, tracker.sender_id)
        if waiting:  # one hand-off per conversation: asking again keeps the place in the queue
            say(dispatcher, tracker, "utter_handoff_already", ticket=waiting)
            return closing + pause
        ticket = await off_loop(
            store.open_ticket,
            kind="handoff",
            status="waiting",
            conversation_id=tracker.sender_id,
            channel=tracker.get_latest_input_channel(),
            language=language,
            reason=reason,
            category=tracker.get_slot("complaint_category"),
            order_id=tracker.get_slot("order_id"),
            remedies=tracker.get_slot("remedies_offered") or [],
            summary=summary(tracker, reason),
            transcript=transcript(tracker),
        )
        if not available:
            start, end = service_hours()
            say(
                dispatcher,
                tracker,
                "utter_handoff_after_hours",
                hours=f"{start:%H:%M}-{end:%H:%M}",
                back=f"{start:%H:%M}",
                ticket=ticket,
            )
            return closing
        position = await off_loop(queue_position, store, ticket)
        minutes = position * int(settings.get("AVERAGE_HANDLING_MINUTES"))
        say(dispatcher, tracker, "utter_handoff_queued", position=position, minutes=minutes)
        return closing + pause


class ActionHandoffEnded(Action):
    """The agent ended the hand-off: the bot is back and asks for a rating."""

    def name(self) -> Text:
        return "action_handoff_ended"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[Dict[Text, Any]]:
        say(dispatcher, tracker, "utter_handoff_back", agent_name=agent_name(language_of(tracker)))
        ask_rating(dispatcher, tracker)
        return [SlotSet("awaiting_rating", True)]


def ask_rating(dispatcher: CollectingDispatcher, tracker: Tracker) -> None:
    buttons = [
        {"title": "⭐" * score, "payload": f'/inform{{"rating": {score}}}'} for score in range(1, 6)
    ]  # WeChat numbers buttons: line N is score N
    say(dispatcher, tracker, "utter_ask_rating", buttons=buttons)


class ActionSilence(Action):
    """The customer went quiet: ask once, then close politely; never during a hand-off
    or after the conversation ended."""

    def name(self) -> Text:
        return "action_silence"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[Dict[Text, Any]]:
        if tracker.is_paused() or tracker.get_slot("conversation_closed"):
            return []
        last_bot = next((e for e in reversed(tracker.events) if e.get("event") == "bot"), None)
        nudged = last_bot is not None and (last_bot.get("metadata") or {}).get("utter_action") == "utter_silence_nudge"
        if nudged:
            say(dispatcher, tracker, "utter_silence_close")
            return [SlotSet("conversation_closed", True)]
        say(dispatcher, tracker, "utter_silence_nudge")
        return []

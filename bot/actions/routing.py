"""Short answers whose meaning depends on what is open: "yes", "no", or a bare piece of
information (a product name, an order id, a choice from a list)."""
from __future__ import annotations

import re
from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from bot.actions.common import say
from bot.actions.handoff import ActionHandoff
from bot.actions.logistics import ActionResolveConfirmation
from bot.actions.presale import ActionProductInfo, entity_values
from bot.shop.store import default_store

# Bot questions a "yes" accepts: the offer of a human agent.
OFFERS_HUMAN = {"utter_fallback_offer_human", "utter_bot_challenge"}


def last_bot_response(tracker: Tracker) -> Optional[str]:
    for event in reversed(tracker.events):
        if event.get("event") == "bot":
            return (event.get("metadata") or {}).get("utter_action")
    return None


def rating_in(tracker: Tracker) -> Optional[int]:
    """A 1-5 score from the rating buttons or typed ("5", "4分", "3 stars")."""
    values = entity_values(tracker, "rating")
    text = tracker.latest_message.get("text") or ""
    found = re.search(r"(?<!\d)[1-5](?!\d)", str(values[0]) if values else text)
    return int(found.group()) if found else None


class ActionAnswerYesNo(Action):
    def name(self) -> Text:
        return "action_answer_yes_no"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
            domain: Dict[Text, Any]) -> List[Dict[Text, Any]]:
        if tracker.get_slot("awaiting_confirmation"):
            return ActionResolveConfirmation().run(dispatcher, tracker, domain)
        yes = (tracker.latest_message.get("intent") or {}).get("name") == "affirm"
        if yes and last_bot_response(tracker) in OFFERS_HUMAN:
            return ActionHandoff().run(dispatcher, tracker, domain)
        say(dispatcher, tracker, "utter_anything_else")
        return []


class ActionRouteInform(Action):
    def name(self) -> Text:
        return "action_route_inform"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
            domain: Dict[Text, Any]) -> List[Dict[Text, Any]]:
        if tracker.get_slot("awaiting_rating"):
            rating = rating_in(tracker)
            if rating:
                default_store().record_rating(tracker.sender_id, rating)
                say(dispatcher, tracker, "utter_rating_thanks", rating=rating)
                say(dispatcher, tracker, "utter_goodbye")
                return [SlotSet("awaiting_rating", False), SlotSet("conversation_closed", True)]
        if tracker.get_slot("awaiting_product_choice") or entity_values(tracker, "product"):
            return ActionProductInfo().run(dispatcher, tracker, domain)
        if entity_values(tracker, "order_id"):
            # An order id on its own: the customer wants to know about that order.
            return [SlotSet("order_purpose", "status"), FollowupAction("order_form")]
        say(dispatcher, tracker, "utter_inform_no_context")
        return []

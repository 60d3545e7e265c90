"""Short answers whose meaning depends on what is open: "yes", "no", or a bare piece of
information (a product name, an order id, a colour, a budget, a region, a rating); and
what the entities of a message say when the intent's own action has nothing to act on."""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from bot.actions.common import entity_value, entity_values, intent_of, last_bot_response, off_loop, say
from bot.actions.handoff import ActionHandoff
from bot.actions.presale import ActionProductInfo, recommend
from bot.actions.redirects import about_delivery, hand_over
from bot.shop.store import default_store

# Bot questions a "yes" accepts: the offer of a human agent; registering a faulty product.
OFFERS_HUMAN = {"utter_fallback_offer_human", "utter_bot_challenge", "utter_loop_recover"}
OFFERS_REGISTRATION = {"utter_fault_options"}


def refine_recommendation(dispatcher: CollectingDispatcher, tracker: Tracker) -> Optional[List[Dict[Text, Any]]]:
    """ "for my mum" / "under 300" right after the picks: the same request, refined (None
    when the message is no such refinement)."""
    context = tracker.get_slot("rec_context")
    if not (
        isinstance(context, dict)
        and tracker.get_slot("topic") == "recommendation"
        and not entity_values(tracker, "product")
        and (entity_values(tracker, "need") or entity_value(tracker, "budget"))
    ):
        return None
    refined = dict(
        context,
        needs=entity_values(tracker, "need") or context.get("needs") or [],
        budget=entity_value(tracker, "budget") or context.get("budget"),
    )
    return recommend(dispatcher, tracker, refined, refined=bool(entity_values(tracker, "need")))


def rating_in(tracker: Tracker) -> Optional[int]:
    """A 1-5 score from the rating buttons or typed ("5", "4分", "3 stars")."""
    for entity in ("rating", "number", "phone_last4"):
        value = entity_value(tracker, entity)
        try:
            score = int(float(value)) if value is not None else None
        except (TypeError, ValueError):
            score = None
        if score is not None and 1 <= score <= 5:
            return score
    return None


class ActionAnswerYesNo(Action):
    def name(self) -> Text:
        return "action_answer_yes_no"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[Dict[Text, Any]]:
        yes = intent_of(tracker) == "affirm"
        asked = last_bot_response(tracker)
        if yes and asked in OFFERS_HUMAN:
            return await ActionHandoff().run(dispatcher, tracker, domain)
        if yes and asked in OFFERS_REGISTRATION:
            return [SlotSet("complaint_category", "quality"), FollowupAction("complaint_form")]
        redirected = await hand_over(dispatcher, tracker, domain, instead_of=self.name())
        if redirected is not None:
            return redirected
        say(dispatcher, tracker, "utter_anything_else")
        return []


class ActionRouteInform(Action):
    def name(self) -> Text:
        return "action_route_inform"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[Dict[Text, Any]]:
        if tracker.get_slot("awaiting_rating"):
            rating = rating_in(tracker)
            if rating:
                await off_loop(default_store().record_rating, tracker.sender_id, rating)
                say(dispatcher, tracker, "utter_rating_thanks", rating=rating)
                say(dispatcher, tracker, "utter_goodbye")
                return [SlotSet("awaiting_rating", False), SlotSet("conversation_closed", True)]
        refined = refine_recommendation(dispatcher, tracker)
        if refined is not None:
            return refined
        if entity_values(tracker, "attribute") and not about_delivery(tracker):
            return await ActionProductInfo().run(dispatcher, tracker, domain)
        redirected = await hand_over(dispatcher, tracker, domain, instead_of=self.name())
        if redirected is not None:
            return redirected
        order_id = entity_value(tracker, "order_id")
        if order_id and last_bot_response(tracker) in OFFERS_REGISTRATION:
            # "Shall I register an after-sales request?" answered with the order: register it.
            return [
                SlotSet("complaint_category", "quality"),
                SlotSet("order_id", str(order_id).upper()),
                FollowupAction("complaint_form"),
            ]
        if order_id and tracker.active_loop_name == "remedy_form":
            # The complaint's order, given while its remedy is chosen; the form asks again.
            say(dispatcher, tracker, "utter_complaint_order_noted", order_id=str(order_id).upper())
            return [SlotSet("order_id", str(order_id).upper())]
        tracking = entity_value(tracker, "tracking_no")
        if order_id or tracking:
            if tracking:
                say(dispatcher, tracker, "utter_tracking_not_order_id", value=tracking)
            # An order id on its own: the customer wants to know about that order.
            return [
                SlotSet("order_purpose", tracker.get_slot("order_purpose") or "status"),
                FollowupAction("order_form"),
            ]
        say(dispatcher, tracker, "utter_inform_no_context")
        return []

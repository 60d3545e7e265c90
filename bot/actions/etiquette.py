"""Greeting, valediction, the two-step fallback, leaving a form, and the loop apology
(seed 002 规范用语, seed 003 §1 and §8)."""

from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActiveLoop, EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from bot.actions.common import agent_name, intent_of, language_of, latest_text, say, user_turns
from bot.actions.redirects import hand_over
from bot.actions.routing import refine_recommendation
from bot.nlu.markup import has_words  # what the classifier reads as no words

MISS_INTENTS = {"nlu_fallback", "out_of_scope"}
COMPLAINT_FORMS = ("complaint_form", "remedy_form")
# What an open form was collecting; cleared when the customer leaves it.
FORM_SLOTS = (
    "requested_slot",
    "rec_category",
    "new_address",
    "new_address_region",
    "remedy",
    "pending_confirmation",
    "confirmed",
    "order_flow_stopped",
)


def close_form() -> List[EventType]:
    return [ActiveLoop(None)] + [SlotSet(slot, None) for slot in FORM_SLOTS]


class ActionGreet(Action):
    def name(self) -> Text:
        return "action_greet"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[Dict[Text, Any]]:
        say(dispatcher, tracker, "utter_greet", agent_name=agent_name(language_of(tracker)))
        return []


class ActionGoodbye(Action):
    def name(self) -> Text:
        return "action_goodbye"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[Dict[Text, Any]]:
        say(dispatcher, tracker, "utter_goodbye")
        return [SlotSet("conversation_closed", True)]  # no silence nudges after a goodbye


def previous_user_intent(tracker: Tracker) -> str:
    """The intent of the customer's message before the latest one ('' if none)."""
    turns = user_turns(tracker)
    return ((turns[-2].get("parse_data") or {}).get("intent") or {}).get("name") or "" if len(turns) > 1 else ""


class ActionFallback(Action):
    """First miss: admit it and ask to rephrase. Second miss in a row: offer a human."""

    def name(self) -> Text:
        return "action_fallback"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[Dict[Text, Any]]:
        if not has_words(latest_text(tracker)):
            say(dispatcher, tracker, "utter_empty_message")
            return []
        # Not understood as a whole, but its pieces fit what was being discussed: "for my
        # son to do homework" right after the picks; a courier, a product's detail.
        answered = refine_recommendation(dispatcher, tracker)
        if answered is None and intent_of(tracker) == "nlu_fallback":
            answered = await hand_over(dispatcher, tracker, domain, instead_of=self.name())
        if answered is not None:
            return answered
        if previous_user_intent(tracker) in MISS_INTENTS:
            say(dispatcher, tracker, "utter_fallback_offer_human")
        elif intent_of(tracker) == "out_of_scope":
            say(dispatcher, tracker, "utter_out_of_scope")
        else:
            say(dispatcher, tracker, "utter_fallback_rephrase")
        return []


class ActionLeaveForm(Action):
    """The customer left an open form ("算了", "不用了", "never mind", "bye", "thanks"):
    close it politely in the words that fit what they said."""

    def name(self) -> Text:
        return "action_leave_form"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[Dict[Text, Any]]:
        intent = intent_of(tracker)
        events = close_form()
        if intent == "goodbye":
            say(dispatcher, tracker, "utter_goodbye")
            events.append(SlotSet("conversation_closed", True))
        elif intent == "thank":
            say(dispatcher, tracker, "utter_youre_welcome")
        elif tracker.active_loop_name in COMPLAINT_FORMS:
            say(dispatcher, tracker, "utter_complaint_left")  # still sorry, and still there for them
        else:
            say(dispatcher, tracker, "utter_form_left")
        return events


class ActionRecover(Action):
    """The dialogue went in circles within one turn (bot.policies): apologise, offer a
    person, close any open form, and stay ready for the next message."""

    def name(self) -> Text:
        return "action_recover"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[Dict[Text, Any]]:
        say(dispatcher, tracker, "utter_loop_recover")
        return close_form()

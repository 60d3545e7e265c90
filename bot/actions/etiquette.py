"""Greeting, valediction and the two-step fallback (seed 002 规范用语, seed 003 §1 and §8)."""
from __future__ import annotations

import re
from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from bot.actions.common import agent_name, language_of, say

MISS_INTENTS = {"nlu_fallback", "out_of_scope"}
# A message with no letter, digit or Chinese character: empty, whitespace, emoji, control characters.
HAS_CONTENT = re.compile(r"[0-9A-Za-z\u3400-\u9fff]")


class ActionGreet(Action):
    def name(self) -> Text:
        return "action_greet"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
            domain: Dict[Text, Any]) -> List[Dict[Text, Any]]:
        say(dispatcher, tracker, "utter_greet", agent_name=agent_name(language_of(tracker)))
        return []


class ActionGoodbye(Action):
    def name(self) -> Text:
        return "action_goodbye"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
            domain: Dict[Text, Any]) -> List[Dict[Text, Any]]:
        say(dispatcher, tracker, "utter_goodbye")
        return [SlotSet("conversation_closed", True)]  # no silence nudges after a goodbye


def previous_user_intent(tracker: Tracker) -> str:
    """The intent of the user message before the latest one ('' if none)."""
    seen = 0
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            seen += 1
            if seen == 2:
                return ((event.get("parse_data") or {}).get("intent") or {}).get("name") or ""
    return ""


class ActionFallback(Action):
    """First miss: admit it and ask to rephrase. Second miss in a row: offer a human."""

    def name(self) -> Text:
        return "action_fallback"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
            domain: Dict[Text, Any]) -> List[Dict[Text, Any]]:
        text = tracker.latest_message.get("text") or ""
        intent = (tracker.latest_message.get("intent") or {}).get("name")
        if previous_user_intent(tracker) in MISS_INTENTS:
            say(dispatcher, tracker, "utter_fallback_offer_human")
        elif not HAS_CONTENT.search(text):
            say(dispatcher, tracker, "utter_empty_message")
        elif intent == "out_of_scope":
            say(dispatcher, tracker, "utter_out_of_scope")
        else:
            say(dispatcher, tracker, "utter_fallback_rephrase")
        return []

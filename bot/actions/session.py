"""Session start: a new visit starts clean. Only the customer's language carries over
(from the previous session, or preset by the channel, e.g. the website's page language);
an old verification, an open form or a goodbye never leak into a new visit."""

from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActionExecuted, SessionStarted, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from bot.actions.common import LANGUAGES

CARRIED_OVER = ("language",)


class ActionSessionStart(Action):
    def name(self) -> Text:
        return "action_session_start"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[Dict[Text, Any]]:
        events: List[Dict[Text, Any]] = [SessionStarted()]
        events += [SlotSet(key, tracker.get_slot(key)) for key in CARRIED_OVER if tracker.get_slot(key) is not None]
        metadata = tracker.get_slot("session_started_metadata") or {}
        language = str(metadata.get("language", "")).lower()[:2]
        if language in LANGUAGES:
            events.append(SlotSet("language", language))
        events.append(ActionExecuted("action_listen"))
        return events

"""Session start: a channel may preset the reply language (e.g. the website's page language)."""
from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActionExecuted, SessionStarted, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from bot.actions.common import LANGUAGES


class ActionSessionStart(Action):
    def name(self) -> Text:
        return "action_session_start"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
            domain: Dict[Text, Any]) -> List[Dict[Text, Any]]:
        events: List[Dict[Text, Any]] = [SessionStarted()]
        # Carry the previous session's slots over (domain: carry_over_slots_to_new_session).
        events += [SlotSet(key, value) for key, value in tracker.current_slot_values().items()
                   if value is not None and key != "session_started_metadata"]
        metadata = tracker.get_slot("session_started_metadata") or {}
        language = str(metadata.get("language", "")).lower()[:2]
        if language in LANGUAGES:
            events.append(SlotSet("language", language))
        events.append(ActionExecuted("action_listen"))
        return events

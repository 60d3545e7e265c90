"""Requests for a human agent.

Live hand-off (agent console, pausing the bot) is not built yet: until it is, the
customer is told so honestly and pointed to the after-sales channel.
"""
from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from bot.actions.common import say


class ActionRequestHuman(Action):
    def name(self) -> Text:
        return "action_request_human"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
            domain: Dict[Text, Any]) -> List[Dict[Text, Any]]:
        say(dispatcher, tracker, "utter_human_not_available")
        return []


class ActionComplaintHolding(Action):
    """Complaints, until the complaint sequence exists: apologise and route to after-sales."""

    def name(self) -> Text:
        return "action_complaint_holding"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
            domain: Dict[Text, Any]) -> List[Dict[Text, Any]]:
        say(dispatcher, tracker, "utter_holding_complaint")
        return []

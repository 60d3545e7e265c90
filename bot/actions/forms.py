"""What every form of the shop shares: it takes from a message only what fits its slots.

A message a form cannot use is left alone (the form steps aside, Rasa answers the
message, and bot.policies.ConversationGuardPolicy brings the form back to ask again).
A request for a person and the ways out ("no", "bye", "thanks") are never taken as a
slot value, so they always get through.
"""

from __future__ import annotations

from abc import abstractmethod
from typing import List

from rasa_sdk import FormValidationAction, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from bot.actions.common import intent_of

NOT_AN_ANSWER = ("request_human", "deny", "goodbye", "thank")
# "OK", "嗯" while a form waits for something: nothing to answer, the question stands.
ACKNOWLEDGEMENTS = ("affirm",)


class ShopFormValidation(FormValidationAction):
    @abstractmethod
    def name(self) -> str:
        """Every form's validator names itself (abstract: the action server skips this base)."""

    @staticmethod
    def requested(tracker: Tracker, slot: str) -> bool:
        return tracker.get_slot("requested_slot") == slot

    @staticmethod
    def answering(tracker: Tracker) -> bool:
        """Whether the latest message can be an answer at all."""
        return intent_of(tracker) not in NOT_AN_ANSWER

    async def get_extraction_events(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[EventType]:
        events = await super().get_extraction_events(dispatcher, tracker, domain)
        requested = tracker.get_slot("requested_slot")
        if (
            not events
            and requested
            and requested not in tracker.slots_to_validate()
            and intent_of(tracker) in ACKNOWLEDGEMENTS
        ):
            return [SlotSet(requested, None)]  # keeps the form: it simply asks again
        return events

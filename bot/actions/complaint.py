"""The complaint sequence (seed 003 §6): timely appeasement → identify the reason →
state our position → solve the problem in full → sincere apology. Each step is its own
message; the position and the remedies come from policies.yml, so the bot never promises
what the policy does not allow (seeds 001/004: don't promise easily, keep your word).

What went wrong, how upset the customer is and which remedy they choose come from the
NLU (`complaint_category`, `mood`, `rejection` and `remedy` entities: the customer
vocabulary and the bot's own buttons).
"""

from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActiveLoop, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from bot.actions.common import (
    bullet_list,
    entity_value,
    entity_values,
    intent_of,
    language_of,
    off_loop,
    say,
    shop,
    user_turns,
)
from bot.actions.forms import ShopFormValidation
from bot.actions.logistics import ValidateOrderForm
from bot.shop.store import default_store

NEEDS_NO_ORDER = ("service_attitude", "other")
# Intents whose words describe the problem, when the form asks what happened.
DESCRIBING = ("complain", "inform", "ask_after_sales", "complain_delivery_delay", "request_return_refund")


def policy(category: str) -> Dict[str, Any]:
    policies = {p["category"]: p for p in shop().policies["complaint_policies"]}
    return policies.get(category) or policies["other"]


def remedy_table() -> Dict[str, Dict[str, Any]]:
    return {r["id"]: r for r in shop().policies["remedies"]}


def complaints_so_far(tracker: Tracker) -> int:
    return sum(
        1 for e in user_turns(tracker) if ((e.get("parse_data") or {}).get("intent") or {}).get("name") == "complain"
    )


class ActionComplaintStart(Action):
    """Step 1, at once: appease. A very upset or repeated complaint goes to a person.
    Whatever form was open is left: the complaint comes first."""

    def name(self) -> Text:
        return "action_complaint_start"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[Dict[Text, Any]]:
        say(dispatcher, tracker, "utter_complaint_appease")
        events: List[Dict[Text, Any]] = [
            ActiveLoop(None),
            SlotSet("requested_slot", None),
            SlotSet("remedy", None),
            SlotSet("remedies_offered", None),
        ]
        category = entity_value(tracker, "complaint_category")
        if category:
            events.append(SlotSet("complaint_category", category))
        if entity_values(tracker, "mood") or complaints_so_far(tracker) >= 2:
            return events + [SlotSet("handoff_reason", "upset customer"), FollowupAction("action_handoff")]
        return events


class ValidateComplaintForm(ShopFormValidation):
    """Step 2: what happened and which order, asking only what is missing."""

    def name(self) -> Text:
        return "validate_complaint_form"

    async def required_slots(
        self, domain_slots: List[Text], dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[Text]:
        if tracker.get_slot("complaint_category") in NEEDS_NO_ORDER:
            return ["complaint_category"]
        return domain_slots

    async def extract_complaint_category(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        found = entity_value(tracker, "complaint_category")
        if found:
            return {"complaint_category": found}
        if (
            self.requested(tracker, "complaint_category")
            and self.answering(tracker)
            and intent_of(tracker) in DESCRIBING
        ):
            return {"complaint_category": "other"}  # described in words we don't classify
        return {}

    async def extract_order_id(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        return await ValidateOrderForm().extract_order_id(dispatcher, tracker, domain)

    def validate_order_id(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        # Any well-formed id is recorded: staff check it, and the bot never says whether an
        # order exists to someone who has not passed the privacy check.
        return {"order_id": str(value).upper() if value else None}


class ActionAskComplaintCategory(Action):
    """The question of step 2, with the shop's complaint categories as buttons."""

    def name(self) -> Text:
        return "action_ask_complaint_category"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[Dict[Text, Any]]:
        language = language_of(tracker)
        buttons = [
            {"title": p["name"][language], "payload": f'/inform{{"complaint_category": "{p["category"]}"}}'}
            for p in shop().policies["complaint_policies"]
        ]
        say(dispatcher, tracker, "utter_ask_complaint_category", buttons=buttons)
        return []


class ActionComplaintPosition(Action):
    """Step 3: the shop's position for this kind of problem, from policies.yml."""

    def name(self) -> Text:
        return "action_complaint_position"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[Dict[Text, Any]]:
        language = language_of(tracker)
        rule = policy(tracker.get_slot("complaint_category") or "other")
        say(
            dispatcher,
            tracker,
            "utter_complaint_position",
            category=rule["name"][language],
            position=rule["position"][language],
        )
        return [SlotSet("remedies_offered", rule["remedies"]), FollowupAction("remedy_form")]


class ActionAskRemedy(Action):
    """Step 4a: the remedies the policy allows, as buttons, plus "none of these"."""

    def name(self) -> Text:
        return "action_ask_remedy"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[Dict[Text, Any]]:
        language = language_of(tracker)
        table = remedy_table()
        offered = [r for r in tracker.get_slot("remedies_offered") or policy("other")["remedies"] if r in table]
        lines = bullet_list(
            [{"name": table[r]["name"][language], "text": table[r]["summary"][language]} for r in offered], language
        )
        buttons = [{"title": table[r]["name"][language], "payload": f'/inform{{"remedy": "{r}"}}'} for r in offered]
        buttons.append(
            {"title": shop().policies["remedy_reject_button"][language], "payload": '/inform{"remedy": "rejected"}'}
        )
        say(dispatcher, tracker, "utter_ask_remedy", remedies=lines, buttons=buttons)
        return []


class ValidateRemedyForm(ShopFormValidation):
    """Step 4b: the remedy chosen; "none of these" (or no, or a request for a person)
    goes to a person."""

    def name(self) -> Text:
        return "validate_remedy_form"

    async def extract_remedy(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        if not self.requested(tracker, "remedy"):
            return {}
        offered = set(tracker.get_slot("remedies_offered") or [])
        chosen = [r for r in entity_values(tracker, "remedy") if r in offered or r == "rejected"]
        if chosen:
            return {"remedy": chosen[0]}
        if entity_values(tracker, "rejection") or intent_of(tracker) in ("request_human", "complain"):
            return {"remedy": "rejected"}
        return {}  # "算了不说了": a way out, closed politely (bot.policies)

    def validate_remedy(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        allowed = set(tracker.get_slot("remedies_offered") or []) | {"rejected"}
        return {"remedy": value if value in allowed else None}  # never what the policy doesn't offer


class ActionComplaintResolve(Action):
    """Step 4b and 5: carry out the chosen remedy (a ticket), then a sincere apology.
    Rejected remedies, and escalation, go to a person."""

    def name(self) -> Text:
        return "action_complaint_resolve"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[Dict[Text, Any]]:
        language = language_of(tracker)
        remedy = tracker.get_slot("remedy")
        if remedy in (None, "rejected", "escalate"):
            reason = "remedies rejected" if remedy == "rejected" else "escalated by policy"
            return [SlotSet("handoff_reason", reason), FollowupAction("action_handoff")]
        table = remedy_table()
        category = tracker.get_slot("complaint_category")
        order_id = tracker.get_slot("order_id")
        ticket = await off_loop(
            default_store().open_ticket,
            kind=remedy,
            status="open",
            conversation_id=tracker.sender_id,
            channel=tracker.get_latest_input_channel(),
            language=language,
            reason="complaint",
            category=category,
            order_id=order_id,
            remedies=tracker.get_slot("remedies_offered") or [],
            summary=f"{remedy} for {order_id or '-'} ({category})",
        )
        say(
            dispatcher,
            tracker,
            "utter_complaint_resolved",
            remedy=table[remedy]["name"][language],
            ticket=ticket,
            description=table[remedy]["description"][language],
        )
        say(dispatcher, tracker, "utter_complaint_apology")
        return [SlotSet("complaint_category", None), SlotSet("remedy", None)]

"""The complaint sequence (seed 003 §6): timely appeasement → identify the reason →
state our position → solve the problem in full → sincere apology. Each step is its own
message; the position and the remedies come from policies.yml, so the bot never promises
what the policy does not allow (seeds 001/004: don't promise easily, keep your word).
"""
from __future__ import annotations

import re
from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from bot.actions.common import language_of, say, shop
from bot.actions.logistics import order_id_in_reply
from bot.shop.orders import OrderSourceUnavailable, order_source
from bot.shop.store import default_store

# What went wrong, from the customer's words (checked in this order).
CATEGORIES = {
    "transport_damage": r"压坏|摔坏|磕坏|破损|碎了|压扁|运输.{0,6}坏|快递.{0,6}坏|到货.{0,4}坏|"
                        r"(?i:arrived (broken|damaged|smashed|cracked)|damaged in (transit|delivery|shipping)|smashed|shattered|dented)",
    "wrong_item": r"发错|错发|不是我买的|不是我要的|颜色不对|型号不对|尺寸不对|"
                  r"(?i:wrong (item|colou?r|model|size|product)|not what i ordered|sent me the wrong)",
    "missing_item": r"少发|漏发|少了|缺了|缺少|没有配件|少个|(?i:missing|incomplete|not included|left out)",
    "delay": r"还没到|太慢|延误|迟迟|没收到货|(?i:\blate\b|delay|hasn'?t arrived|still not (here|arrived)|taking forever)",
    "service_attitude": r"态度|不理人|骂人|凶|敷衍|(?i:rude|attitude|ignored|unhelpful|impolite)",
    "quality": r"质量|坏了|不保温|不制冷|不加热|异味|味道|掉漆|开裂|裂了|做工|次品|故障|不能用|失灵|不转|漏水|"
               r"(?i:quality|broken|doesn'?t work|stopped working|faulty|defect|smell|peel|crack|leak)",
}
CATEGORY_PATTERNS = {key: re.compile(pattern) for key, pattern in CATEGORIES.items()}
# Very upset: go to a person at once (issue: insults, 投诉你们 / 12315 / "report you").
UPSET = re.compile(r"投诉你们|12315|消协|消费者协会|曝光|律师|起诉|报警|骗子|垃圾店|去你的|滚|傻|混蛋|"
                   r"(?i:report you|consumer (association|protection)|lawyer|\bsue\b|scam|fraud|idiot|stupid|"
                   r"worst (shop|service)|f+u+c+k|shit|damn)")
REJECT = re.compile(r"都不要|都不行|不满意|不接受|都不满意|没用|(?i:none|not acceptable|not good enough|no way|unacceptable)")
NEEDS_NO_ORDER = ("service_attitude", "other")


def policy(category: str) -> Dict[str, Any]:
    policies = {p["category"]: p for p in shop().policies["complaint_policies"]}
    return policies.get(category) or policies["other"]


def remedy_table() -> Dict[str, Dict[str, Any]]:
    return {r["id"]: r for r in shop().policies["remedies"]}


def category_in(text: str) -> Optional[str]:
    return next((key for key, pattern in CATEGORY_PATTERNS.items() if pattern.search(text or "")), None)


def complaints_so_far(tracker: Tracker) -> int:
    return sum(1 for e in tracker.events if e.get("event") == "user"
               and ((e.get("parse_data") or {}).get("intent") or {}).get("name") == "complain")


class ActionComplaintStart(Action):
    """Step 1, at once: appease. A very upset or repeated complaint goes to a person."""

    def name(self) -> Text:
        return "action_complaint_start"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
            domain: Dict[Text, Any]) -> List[Dict[Text, Any]]:
        say(dispatcher, tracker, "utter_complaint_appease")
        text = tracker.latest_message.get("text") or ""
        events: List[Dict[Text, Any]] = [SlotSet("remedy", None), SlotSet("remedies_offered", None)]
        category = category_in(text)
        if category:
            events.append(SlotSet("complaint_category", category))
        if UPSET.search(text) or complaints_so_far(tracker) >= 2:
            return events + [SlotSet("handoff_reason", "upset customer"), FollowupAction("action_handoff")]
        return events


class ValidateComplaintForm(FormValidationAction):
    """Step 2: what happened and which order, asking only what is missing."""

    def name(self) -> Text:
        return "validate_complaint_form"

    async def required_slots(self, domain_slots: List[Text], dispatcher: CollectingDispatcher,
                             tracker: Tracker, domain: DomainDict) -> List[Text]:
        if tracker.get_slot("complaint_category") in NEEDS_NO_ORDER:
            return ["complaint_category"]
        return domain_slots

    async def extract_complaint_category(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                                         domain: DomainDict) -> Dict[Text, Any]:
        chosen = [e.get("value") for e in tracker.latest_message.get("entities") or []
                  if e.get("entity") == "complaint_category"]
        found = chosen[0] if chosen else category_in(tracker.latest_message.get("text") or "")
        if found:
            return {"complaint_category": found}
        asked_for_person = (tracker.latest_message.get("intent") or {}).get("name") == "request_human"
        if tracker.get_slot("requested_slot") == "complaint_category" and not asked_for_person:
            return {"complaint_category": "other"}  # described in words we don't classify
        return {}

    def validate_order_id(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                          domain: DomainDict) -> Dict[Text, Any]:
        order_id = order_id_in_reply(value, dispatcher, tracker)
        if not order_id:
            return {"order_id": None}
        try:
            exists = order_source(shop()).get(order_id) is not None
        except OrderSourceUnavailable:
            exists = True  # the complaint is recorded all the same; staff check the order
        if not exists:
            say(dispatcher, tracker, "utter_order_not_found", order_id=order_id)
            return {"order_id": None}
        return {"order_id": order_id}


class ActionComplaintPosition(Action):
    """Step 3: the shop's position for this kind of problem, from policies.yml."""

    def name(self) -> Text:
        return "action_complaint_position"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
            domain: Dict[Text, Any]) -> List[Dict[Text, Any]]:
        language = language_of(tracker)
        rule = policy(tracker.get_slot("complaint_category") or "other")
        say(dispatcher, tracker, "utter_complaint_position", category=rule["name"][language],
            position=rule["position"][language])
        # Then the remedies (also when reached from an overdue delivery, not the form).
        return [SlotSet("remedies_offered", rule["remedies"]), FollowupAction("remedy_form")]


class ActionAskRemedy(Action):
    """Step 4a: the remedies the policy allows, as buttons, plus "none of these"."""

    def name(self) -> Text:
        return "action_ask_remedy"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
            domain: Dict[Text, Any]) -> List[Dict[Text, Any]]:
        language = language_of(tracker)
        table = remedy_table()
        offered = tracker.get_slot("remedies_offered") or policy("other")["remedies"]
        lines = "\n".join(f"• {table[r]['name'][language]}：{table[r]['description'][language]}" if language == "zh"
                          else f"• {table[r]['name'][language]}: {table[r]['description'][language]}"
                          for r in offered if r in table)
        buttons = [{"title": table[r]["name"][language], "payload": f'/inform{{"remedy": "{r}"}}'}
                   for r in offered if r in table]
        buttons.append({"title": "都不满意，找人工" if language == "zh" else "None of these, I want a person",
                        "payload": '/inform{"remedy": "rejected"}'})
        say(dispatcher, tracker, "utter_ask_remedy", remedies=lines, buttons=buttons)
        return []


class ValidateRemedyForm(FormValidationAction):
    def name(self) -> Text:
        return "validate_remedy_form"

    async def extract_remedy(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                             domain: DomainDict) -> Dict[Text, Any]:
        if tracker.get_slot("requested_slot") != "remedy":
            return {}
        chosen = [e.get("value") for e in tracker.latest_message.get("entities") or [] if e.get("entity") == "remedy"]
        if chosen:
            return {"remedy": chosen[0]}
        text = (tracker.latest_message.get("text") or "").lower()
        intent = (tracker.latest_message.get("intent") or {}).get("name")
        if REJECT.search(text) or intent in ("request_human", "deny", "complain"):
            return {"remedy": "rejected"}
        table = remedy_table()
        for remedy in tracker.get_slot("remedies_offered") or []:
            names = table.get(remedy, {}).get("name", {})
            if any(n and n.lower() in text for n in names.values()):
                return {"remedy": remedy}
        return {}

    def validate_remedy(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                        domain: DomainDict) -> Dict[Text, Any]:
        allowed = set(tracker.get_slot("remedies_offered") or []) | {"rejected"}
        return {"remedy": value if value in allowed else None}  # never what the policy doesn't offer


class ActionComplaintResolve(Action):
    """Step 4b and 5: carry out the chosen remedy (a ticket), then a sincere apology.
    Rejected remedies, and escalation, go to a person."""

    def name(self) -> Text:
        return "action_complaint_resolve"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
            domain: Dict[Text, Any]) -> List[Dict[Text, Any]]:
        language = language_of(tracker)
        remedy = tracker.get_slot("remedy")
        if remedy in (None, "rejected", "escalate"):
            reason = "remedies rejected" if remedy == "rejected" else "escalated by policy"
            return [SlotSet("handoff_reason", reason), FollowupAction("action_handoff")]
        table = remedy_table()
        ticket = default_store().open_ticket(
            kind=remedy, status="open", conversation_id=tracker.sender_id,
            channel=tracker.get_latest_input_channel(), language=language,
            reason="complaint", category=tracker.get_slot("complaint_category"),
            order_id=tracker.get_slot("order_id"), remedies=tracker.get_slot("remedies_offered") or [],
            summary=f"{remedy} for {tracker.get_slot('order_id') or '-'} ({tracker.get_slot('complaint_category')})")
        say(dispatcher, tracker, "utter_complaint_resolved", remedy=table[remedy]["name"][language],
            ticket=ticket, description=table[remedy]["description"][language])
        say(dispatcher, tracker, "utter_complaint_apology")
        return [SlotSet("complaint_category", None), SlotSet("remedy", None)]

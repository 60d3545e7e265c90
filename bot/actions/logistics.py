"""Orders and logistics (seed 003 §4-§6): tracking behind a privacy check, the courier
disclaimer, urging the courier, address changes and cancellations with confirmation,
and delivery answers before buying (SF Express for the hurried, EMS for remote regions).
"""
from __future__ import annotations

import re
from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from bot.actions.common import format_day, format_time, language_of, say, shop
from bot.shop import logistics
from bot.shop.orders import OrderRecord, OrderSourceUnavailable, order_source
from bot.shop.store import default_store

MAX_ATTEMPTS = 3
# Not \b: in "订单号so20261101" the id touches a Chinese character, also a word character.
ORDER_ID_IN_TEXT = re.compile(r"(?<![A-Za-z0-9])[Ss][Oo]\d{8}(?![0-9])")
# Words of a customer who needs the parcel fast (seed 003 §5: the very anxious buyer).
HURRY = re.compile(r"急|赶时间|加急|尽快|快点|必须.{0,4}[到送]|[一两二三四五1-5]天.{0,3}[到送内]|周[一二三四五六日天]前|"
                   r"(?i:urgent|asap|hurry|rush|fast|quick|need it by|by (mon|tues|wednes|thurs|fri|satur|sun)day|"
                   r"before (mon|tues|wednes|thurs|fri|satur|sun)day|within \d+ days?)")
STATE = {
    "in_transit": {"zh": "正在运输中", "en": "is on its way"},
    "delayed": {"zh": "在运输途中出现了延误", "en": "has been delayed in transit"},
    "out_for_delivery": {"zh": "正在派送中", "en": "is out for delivery"},
    "unpaid": {"zh": "待付款", "en": "awaiting payment"},
    "paid": {"zh": "已付款待发货", "en": "paid, awaiting dispatch"},
    "delivered": {"zh": "已签收", "en": "delivered"},
    "returned": {"zh": "已退货", "en": "returned"},
    "cancelled": {"zh": "已取消", "en": "cancelled"},
}

STATUS_RESPONSES = {"unpaid": "utter_order_unpaid", "paid": "utter_order_paid",
                    "returned": "utter_order_returned", "cancelled": "utter_order_cancelled"}


def order_id_in_reply(value: Any, dispatcher: CollectingDispatcher, tracker: Tracker) -> Optional[str]:
    """The order id in what the customer answered, or a clear word on the expected shape."""
    found = ORDER_ID_IN_TEXT.search(str(value or ""))
    if not found:
        say(dispatcher, tracker, "utter_order_id_invalid", value=str(value)[:40])
        return None
    return found.group().upper()


def named(item: Optional[Dict[str, Any]], language: str) -> str:
    return (item or {}).get("name", {}).get(language, "")


def courier_name(courier_id: Optional[str], language: str) -> str:
    return named(shop().courier_table.get(courier_id or ""), language)


def lookup(order_id: str) -> Optional[OrderRecord]:
    return order_source(shop()).get(order_id)


def refund_note(order: OrderRecord, language: str) -> str:
    if not order.paid_at:
        return ""
    return ("已付款项会按原支付方式退回，一般1-3个工作日到账。" if language == "zh"
            else "The payment goes back to the original payment method, usually within 1-3 working days.")


class ValidateOrderForm(FormValidationAction):
    """Identify the order, then the customer: nothing personal is shown before the last
    4 digits of the order's phone match; three misses lock that order for the conversation."""

    def name(self) -> Text:
        return "validate_order_form"

    async def required_slots(self, domain_slots: List[Text], dispatcher: CollectingDispatcher,
                             tracker: Tracker, domain: DomainDict) -> List[Text]:
        if tracker.get_slot("order_flow_stopped"):
            return []
        order_id = tracker.get_slot("order_id")
        if order_id and order_id == tracker.get_slot("verified_order"):
            return ["order_id"]
        return domain_slots

    def validate_order_id(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                          domain: DomainDict) -> Dict[Text, Any]:
        order_id = order_id_in_reply(value, dispatcher, tracker)
        if not order_id:
            return {"order_id": None}
        if order_id in (tracker.get_slot("locked_orders") or []):
            say(dispatcher, tracker, "utter_order_locked", order_id=order_id)
            return {"order_id": None, "order_flow_stopped": True}
        say(dispatcher, tracker, "utter_please_wait")
        try:
            order = lookup(order_id)
        except OrderSourceUnavailable:
            say(dispatcher, tracker, "utter_order_source_down")
            return {"order_id": None, "order_flow_stopped": True}
        if order is None:
            say(dispatcher, tracker, "utter_order_not_found", order_id=order_id)
            return {"order_id": None}
        slots: Dict[Text, Any] = {"order_id": order_id}
        if order_id != tracker.get_slot("verified_order"):
            slots.update(phone_last4=None, verify_failures=0)
        return slots

    def validate_phone_last4(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                             domain: DomainDict) -> Dict[Text, Any]:
        order_id = tracker.get_slot("order_id")
        digits = re.findall(r"\d{4}", str(value or ""))
        try:
            order = lookup(order_id) if order_id else None
        except OrderSourceUnavailable:
            say(dispatcher, tracker, "utter_order_source_down")
            return {"phone_last4": None, "order_flow_stopped": True}
        if order and digits and order.phone_matches(digits[-1]):
            return {"phone_last4": digits[-1], "verified_order": order_id, "verify_failures": 0}
        failures = int(tracker.get_slot("verify_failures") or 0) + 1
        if failures >= MAX_ATTEMPTS:
            say(dispatcher, tracker, "utter_order_locked", order_id=order_id)
            locked = list(tracker.get_slot("locked_orders") or []) + [order_id]
            return {"phone_last4": None, "order_id": None, "verify_failures": 0,
                    "locked_orders": locked, "order_flow_stopped": True}
        say(dispatcher, tracker, "utter_phone_mismatch", remaining=MAX_ATTEMPTS - failures)
        return {"phone_last4": None, "verify_failures": failures}


class ActionOrderFollowup(Action):
    """The verified order, then what the customer came for: status, delay, address, cancel."""

    def name(self) -> Text:
        return "action_order_followup"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
            domain: Dict[Text, Any]) -> List[Dict[Text, Any]]:
        if tracker.get_slot("order_flow_stopped"):
            return [SlotSet("order_flow_stopped", None)]
        order_id = tracker.get_slot("order_id")
        try:
            order = lookup(order_id) if order_id else None
        except OrderSourceUnavailable:
            say(dispatcher, tracker, "utter_order_source_down")
            return []
        if order is None or order_id != tracker.get_slot("verified_order"):
            return []
        purpose = tracker.get_slot("order_purpose") or "status"
        if purpose == "address":
            return self.change_address(dispatcher, tracker, order)
        if purpose == "cancel":
            return self.cancel(dispatcher, tracker, order)
        self.tell_status(dispatcher, tracker, order)
        if purpose == "delay" or logistics.is_overdue(shop(), order):
            return self.handle_delay(dispatcher, tracker, order)
        return []

    def tell_status(self, dispatcher: CollectingDispatcher, tracker: Tracker, order: OrderRecord) -> None:
        language = language_of(tracker)
        dispatch_days = shop().couriers.get("dispatch_days", 2)
        courier = courier_name(order.courier or shop().couriers["default"], language)
        if order.status in ("in_transit", "delayed", "out_for_delivery"):
            scan = (order.scans or [{}])[-1]
            last_scan = (f"{format_time(scan['at'], language)} {scan['location'][language]} {scan['text'][language]}"
                         if scan else "-")
            window = logistics.promised_window(shop(), order)
            when = "-" if not window else (
                f"{format_day(window[0], language)}至{format_day(window[1], language)}" if language == "zh"
                else f"between {format_day(window[0], language)} and {format_day(window[1], language)}")
            say(dispatcher, tracker, "utter_order_shipped", order_id=order.id, state=STATE[order.status][language],
                courier=courier, tracking_no=order.tracking_no, last_scan=last_scan, window=when)
        elif order.status == "delivered":
            say(dispatcher, tracker, "utter_order_delivered", order_id=order.id,
                delivered=format_day(order.delivered_at, language))
        elif order.status in STATUS_RESPONSES:
            say(dispatcher, tracker, STATUS_RESPONSES[order.status], order_id=order.id,
                dispatch_days=dispatch_days, courier=courier)

    def handle_delay(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                     order: OrderRecord) -> List[Dict[Text, Any]]:
        """Facts first (already said), then the shop's disclaimer, then what the shop does:
        urge the courier; past the courier's promised days, the complaint sequence."""
        language = language_of(tracker)
        if order.status in ("unpaid", "paid"):
            say(dispatcher, tracker, "utter_not_shipped_yet", order_id=order.id,
                dispatch_days=shop().couriers.get("dispatch_days", 2))
        if order.status not in ("paid", "in_transit", "delayed", "out_for_delivery"):
            return []
        say(dispatcher, tracker, "utter_courier_disclaimer")
        if order.status == "paid":
            return []
        courier = courier_name(order.courier, language)
        store = default_store()
        common = dict(conversation_id=tracker.sender_id, channel=tracker.get_latest_input_channel(),
                      language=language, order_id=order.id)
        if logistics.is_overdue(shop(), order):
            ticket = store.open_ticket(kind="delivery_complaint", reason="overdue", category="delay",
                                       summary=f"{order.id} overdue by {logistics.days_late(shop(), order)} day(s)",
                                       **common)
            say(dispatcher, tracker, "utter_order_overdue", courier=courier, ticket=ticket,
                days_late=max(1, logistics.days_late(shop(), order)))
            # Past the promised date the delay is a complaint: position, remedies, apology.
            return [SlotSet("complaint_category", "delay"), FollowupAction("action_complaint_position")]
        ticket = store.open_ticket(kind="urge_courier", reason="customer asked", category="delay",
                                   summary=f"Urge {order.courier} for {order.id}", **common)
        say(dispatcher, tracker, "utter_courier_urged", courier=courier, ticket=ticket)
        return []

    def change_address(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                       order: OrderRecord) -> List[Dict[Text, Any]]:
        language = language_of(tracker)
        if order.status in shop().policies["order_rules"]["address_change_allowed_states"]:
            return [SlotSet("new_address", None), FollowupAction("address_form")]
        if order.status in ("cancelled", "returned", "delivered"):
            say(dispatcher, tracker, "utter_order_closed", order_id=order.id, state=STATE[order.status][language])
        else:
            say(dispatcher, tracker, "utter_address_change_shipped", order_id=order.id,
                courier=courier_name(order.courier, language), tracking_no=order.tracking_no)
        return []

    def cancel(self, dispatcher: CollectingDispatcher, tracker: Tracker,
               order: OrderRecord) -> List[Dict[Text, Any]]:
        language = language_of(tracker)
        if order.status in shop().policies["order_rules"]["cancel_allowed_states"]:
            say(dispatcher, tracker, "utter_confirm_cancel", order_id=order.id, refund_note=refund_note(order, language))
            return [SlotSet("awaiting_confirmation", True), SlotSet("pending_confirmation", "cancel")]
        if order.status in ("cancelled", "returned"):
            say(dispatcher, tracker, "utter_order_closed", order_id=order.id, state=STATE[order.status][language])
            return []
        returns = shop().policies["returns"]
        say(dispatcher, tracker, "utter_cancel_not_possible", order_id=order.id, days=returns["no_reason_days"],
            condition=returns["condition"][language])
        return []


def region_in_latest_message(tracker: Tracker) -> Optional[str]:
    """The region named in the latest message. An address may name several places
    ("8 Beijing Road, Urumqi, Xinjiang"): Chinese addresses start with the province,
    English ones end with it."""
    regions = [e.get("value") for e in tracker.latest_message.get("entities") or [] if e.get("entity") == "region"]
    if not regions:
        return None
    return regions[0] if language_of(tracker) == "zh" else regions[-1]


class ActionConfirmAddress(Action):
    """Read the new address back before saving it (seed 003 §4, §6), with the courier
    that reaches it when it is remote."""

    def name(self) -> Text:
        return "action_confirm_address"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
            domain: Dict[Text, Any]) -> List[Dict[Text, Any]]:
        language = language_of(tracker)
        address = (tracker.get_slot("new_address") or "").strip()[:300]
        region_id = region_in_latest_message(tracker)
        zone = logistics.zone_of(shop(), region_id)
        region = named(shop().regions.get(region_id or ""), language)
        if zone == "unserved":
            say(dispatcher, tracker, "utter_shipping_unserved", region=region)
            return [SlotSet("new_address", None)]
        note = ""
        if zone == "remote":
            option = logistics.standard_option(shop(), region_id)
            note = (f"该地址属于偏远地区，将改发{named(option.courier, language)}，需补运费差价{option.surcharge:g}元。"
                    if language == "zh" else
                    f"This address is in a remote region, so it will ship by {named(option.courier, language)} "
                    f"with a {option.surcharge:g} yuan surcharge. ")
        say(dispatcher, tracker, "utter_confirm_address", address=address, courier_note=note)
        return [SlotSet("new_address_region", region_id), SlotSet("awaiting_confirmation", True),
                SlotSet("pending_confirmation", "address")]


class ActionResolveConfirmation(Action):
    """The customer's yes or no to the open question; only a yes changes anything."""

    def name(self) -> Text:
        return "action_resolve_confirmation"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
            domain: Dict[Text, Any]) -> List[Dict[Text, Any]]:
        language = language_of(tracker)
        yes = (tracker.latest_message.get("intent") or {}).get("name") == "affirm"
        pending = tracker.get_slot("pending_confirmation")
        order_id = tracker.get_slot("order_id")
        reset = [SlotSet("awaiting_confirmation", False), SlotSet("pending_confirmation", None)]
        if order_id != tracker.get_slot("verified_order"):
            return reset
        source = order_source(shop())
        try:
            order = source.get(order_id)
            if pending == "cancel":
                if yes:
                    source.cancel(order_id)
                    say(dispatcher, tracker, "utter_cancel_done", order_id=order_id,
                        refund_note=refund_note(order, language))
                else:
                    say(dispatcher, tracker, "utter_cancel_kept", order_id=order_id)
            elif pending == "address":
                address = tracker.get_slot("new_address")
                if yes and address:
                    source.update_address(order_id, {"region": tracker.get_slot("new_address_region") or "",
                                                     "detail": address})
                    say(dispatcher, tracker, "utter_address_changed", order_id=order_id, address=address)
                else:
                    say(dispatcher, tracker, "utter_address_kept", order_id=order_id)
                reset.append(SlotSet("new_address", None))
        except OrderSourceUnavailable:
            say(dispatcher, tracker, "utter_order_source_down")
        return reset


class ActionShippingInfo(Action):
    """Before buying: which courier, how long to a region, SF for the hurried, EMS for
    remote regions and why it costs more. Days are the courier's, never a promise."""

    def name(self) -> Text:
        return "action_shipping_info"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
            domain: Dict[Text, Any]) -> List[Dict[Text, Any]]:
        language = language_of(tracker)
        data = shop()
        entities = tracker.latest_message.get("entities") or []
        region_id = region_in_latest_message(tracker) or tracker.get_slot("region")
        courier_id = next((e["value"] for e in entities if e.get("entity") == "courier"), None)
        hurried = bool(HURRY.search(tracker.latest_message.get("text") or ""))
        default = data.courier_table[data.couriers["default"]]
        if not region_id:
            say(dispatcher, tracker, "utter_shipping_general", warehouse=data.couriers["warehouse"][language],
                dispatch_days=data.couriers.get("dispatch_days", 2), courier=named(default, language),
                courier_note=default["note"][language])
            return []
        region = named(data.regions[region_id], language)
        zone = logistics.zone_of(data, region_id)
        if zone == "unserved":
            say(dispatcher, tracker, "utter_shipping_unserved", region=region)
            return []
        standard = logistics.standard_option(data, region_id)
        if courier_id:
            self.answer_for_courier(dispatcher, tracker, courier_id, region_id, region, standard)
        elif zone == "remote":
            say(dispatcher, tracker, "utter_shipping_remote", region=region, courier=named(standard.courier, language),
                days_min=standard.days[0], days_max=standard.days[1], surcharge=f"{standard.surcharge:g}",
                reason=standard.courier.get("reason_expensive", {}).get(language, ""))
        else:
            say(dispatcher, tracker, "utter_shipping_region", region=region, courier=named(standard.courier, language),
                days_min=standard.days[0], days_max=standard.days[1])
        if hurried and courier_id is None:
            fast = logistics.fastest_option(data, region_id)
            if fast and fast.courier["id"] != standard.courier["id"]:
                say(dispatcher, tracker, "utter_shipping_fast", courier=named(fast.courier, language), region=region,
                    days_min=fast.days[0], days_max=fast.days[1], surcharge=f"{fast.surcharge:g}",
                    note=fast.courier.get("reason_expensive", {}).get(language, ""))
        say(dispatcher, tracker, "utter_courier_disclaimer")
        return [SlotSet("region", region_id)]

    def answer_for_courier(self, dispatcher: CollectingDispatcher, tracker: Tracker, courier_id: str,
                           region_id: str, region: str, standard: logistics.Option) -> None:
        language = language_of(tracker)
        courier = shop().courier_table[courier_id]
        terms = (courier.get("zones") or {}).get(logistics.zone_of(shop(), region_id))
        if not terms:
            say(dispatcher, tracker, "utter_shipping_courier_unavailable", courier=named(courier, language),
                region=region, alternative=named(standard.courier, language),
                days_min=standard.days[0], days_max=standard.days[1])
            return
        surcharge = float(terms.get("surcharge", 0))
        if surcharge:
            text = (f"需要补运费差价{surcharge:g}元。{courier.get('reason_expensive', {}).get('zh', '')}" if language == "zh"
                    else f"with a {surcharge:g} yuan surcharge. {courier.get('reason_expensive', {}).get('en', '')}")
        else:
            text = "无需加价。" if language == "zh" else "at no extra charge."
        say(dispatcher, tracker, "utter_shipping_courier", courier=named(courier, language), region=region,
            days_min=terms["days"][0], days_max=terms["days"][1], surcharge_text=text)

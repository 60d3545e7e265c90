"""Orders and logistics (seed 003 §4-§6): tracking behind a privacy check, the courier
disclaimer, urging the courier, address changes and cancellations with confirmation,
and delivery answers before buying (SF Express for the hurried, EMS for remote regions).

The privacy check: an order id of the right shape is always answered the same way (the
bot asks for the last 4 digits of the order's phone), whether the order exists or not,
so order ids cannot be enumerated. Wrong digits are counted per order and per
conversation in the shop store; too many lock the order for a while
(VERIFY_MAX_FAILURES, VERIFY_LOCK_MINUTES), whatever conversation or channel tries.
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from bot import settings
from bot.actions.common import (
    entity_text,
    entity_value,
    entity_values,
    fmt,
    format_day,
    format_time,
    intent_of,
    language_of,
    off_loop,
    say,
    shop,
)
from bot.actions.forms import ShopFormValidation
from bot.actions.redirects import about_delivery, hand_over
from bot.shop import logistics
from bot.shop.orders import OrderRecord, OrderSourceUnavailable, order_source
from bot.shop.store import default_store

ORDER_INTENTS = ("check_order_status", "complain_delivery_delay", "change_address", "cancel_order")
STATUS_RESPONSES = {
    "unpaid": "utter_order_unpaid",
    "paid": "utter_order_paid",
    "returned": "utter_order_returned",
    "cancelled": "utter_order_cancelled",
}
CONFIRM_QUESTIONS = {
    "cancel": ("utter_confirm_cancel", "utter_confirm_cancel_paid"),
    "address": ("utter_confirm_address", "utter_confirm_address_remote"),
}
SF_MAX_KG = 30  # couriers.yml: SF takes items under 30 kg only


def named(item: Optional[Dict[str, Any]], language: str) -> str:
    return (item or {}).get("name", {}).get(language, "")


def courier_name(courier_id: Optional[str], language: str) -> str:
    return named(shop().courier_table.get(courier_id or ""), language)


def state_name(status: str, language: str) -> str:
    return shop().policies["order_states"][status][language]


async def lookup(order_id: str) -> Optional[OrderRecord]:
    return await off_loop(order_source(shop()).get, order_id)


def _limits() -> Dict[str, int]:
    return {
        "order": int(settings.get("VERIFY_MAX_FAILURES")),
        "conversation": int(settings.get("VERIFY_MAX_FAILURES_PER_CONVERSATION")),
        "minutes": int(settings.get("VERIFY_LOCK_MINUTES")),
    }


def _lock_minutes(order_id: str, conversation_id: str) -> int:
    limits, store = _limits(), default_store()
    return max(
        store.verification_lock_minutes(f"order:{order_id}", limits["order"], limits["minutes"]),
        store.verification_lock_minutes(f"conversation:{conversation_id}", limits["conversation"], limits["minutes"]),
    )


class ValidateOrderForm(ShopFormValidation):
    """Identify the order, then the customer: nothing about an order is shown, not even
    whether it exists, before the last 4 digits of its phone match."""

    def name(self) -> Text:
        return "validate_order_form"

    async def required_slots(
        self, domain_slots: List[Text], dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[Text]:
        if tracker.get_slot("order_flow_stopped"):
            return []
        order_id = tracker.get_slot("order_id")
        if order_id and order_id == tracker.get_slot("verified_order"):
            return ["order_id"]
        return domain_slots

    async def extract_order_id(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        """What the customer gave instead of an order id: say what it is, ask again."""
        if not self.requested(tracker, "order_id") or entity_value(tracker, "order_id") or not self.answering(tracker):
            return {}
        tracking = entity_value(tracker, "tracking_no")
        other = entity_text(tracker, "reference", "phone_number", "phone_last4", "number")  # digits of another kind
        if tracking:
            say(dispatcher, tracker, "utter_tracking_not_order_id", value=tracking)
        elif other:
            say(dispatcher, tracker, "utter_order_id_invalid", value=str(other)[:40])
        elif intent_of(tracker) not in ORDER_INTENTS:
            return {}  # something else: the form steps aside and the question is answered
        return {"order_id": None}  # asked again below

    async def validate_order_id(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        if not value:
            return {"order_id": None}
        order_id = str(value).upper()
        minutes = await off_loop(_lock_minutes, order_id, tracker.sender_id)
        if minutes:
            say(dispatcher, tracker, "utter_order_locked", minutes=minutes)
            return {"order_id": None, "order_flow_stopped": True}
        slots: Dict[Text, Any] = {"order_id": order_id}
        if order_id != tracker.get_slot("verified_order") and not self.digits_given(tracker):
            slots["phone_last4"] = None  # a new order is checked anew
        return slots

    @staticmethod
    def digits_given(tracker: Tracker) -> Optional[str]:
        digits = entity_value(tracker, "phone_last4") or entity_value(tracker, "phone_number")
        return str(digits)[-4:] if digits else None

    async def extract_phone_last4(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        together = bool(entity_value(tracker, "order_id"))  # "SO20261114 7704": both at once
        if not (self.requested(tracker, "phone_last4") or together) or not self.answering(tracker):
            return {}
        digits = self.digits_given(tracker)
        if digits:
            return {"phone_last4": digits}
        if intent_of(tracker) in ORDER_INTENTS and not entity_value(tracker, "order_id"):
            # "到底到哪了啊" while the digits are asked: the details come once they match.
            say(dispatcher, tracker, "utter_order_verify_first")
            return {"phone_last4": None}
        return {}

    async def validate_phone_last4(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        if not value:
            return {"phone_last4": None}
        order_id = tracker.get_slot("order_id")
        minutes = await off_loop(_lock_minutes, order_id, tracker.sender_id)
        if minutes:
            say(dispatcher, tracker, "utter_order_locked", minutes=minutes)
            return {"phone_last4": None, "order_id": None, "order_flow_stopped": True}
        try:
            order = await lookup(order_id) if order_id else None
        except OrderSourceUnavailable:
            say(dispatcher, tracker, "utter_order_source_down")
            return {"phone_last4": None, "order_flow_stopped": True}
        store = default_store()
        if order is not None and order.phone_matches(value):
            await off_loop(store.clear_verification_failures, f"order:{order_id}")
            return {"phone_last4": value, "verified_order": order_id}
        await off_loop(store.record_verification_failure, f"order:{order_id}", f"conversation:{tracker.sender_id}")
        minutes = await off_loop(_lock_minutes, order_id, tracker.sender_id)
        if minutes:
            say(dispatcher, tracker, "utter_order_locked", minutes=minutes)
            return {"phone_last4": None, "order_id": None, "order_flow_stopped": True}
        say(dispatcher, tracker, "utter_phone_mismatch")
        return {"phone_last4": None}


class ActionOrderFollowup(Action):
    """The verified order, then what the customer came for: status, delay, address, cancel.
    At most three messages: the facts, the disclaimer or the complaint, what we do."""

    def name(self) -> Text:
        return "action_order_followup"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[Dict[Text, Any]]:
        if tracker.get_slot("order_flow_stopped"):
            return [SlotSet("order_flow_stopped", None)]
        order_id = tracker.get_slot("order_id")
        if not order_id or order_id != tracker.get_slot("verified_order"):
            return []
        try:
            order = await lookup(order_id)
        except OrderSourceUnavailable:
            say(dispatcher, tracker, "utter_order_source_down")
            return []
        if order is None:
            return []
        purpose = tracker.get_slot("order_purpose") or "status"
        events: List[EventType] = [SlotSet("topic", "order")]
        if purpose == "address":
            return events + self.change_address(dispatcher, tracker, order)
        if purpose == "cancel":
            return events + self.cancel(dispatcher, tracker, order)
        overdue = logistics.is_overdue(shop(), order)
        self.tell_status(dispatcher, tracker, order, with_estimate=not overdue)
        if purpose == "delay" or overdue:
            return events + await self.handle_delay(dispatcher, tracker, order, overdue)
        if order.status in ("in_transit", "delayed", "out_for_delivery"):
            say(dispatcher, tracker, "utter_courier_disclaimer")
        return events

    def tell_status(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, order: OrderRecord, with_estimate: bool = True
    ) -> None:
        language = language_of(tracker)
        dispatch_days = shop().couriers.get("dispatch_days", 2)
        courier = courier_name(order.courier or shop().couriers["default"], language)
        if order.status in ("in_transit", "delayed", "out_for_delivery"):
            scan = (order.scans or [{}])[-1]
            last_scan = (
                fmt(
                    "scan",
                    language,
                    time=format_time(scan["at"], language),
                    location=scan["location"][language],
                    text=scan["text"][language],
                )
                if scan
                else "-"
            )
            window = logistics.promised_window(shop(), order)
            facts = dict(
                order_id=order.id,
                state=state_name(order.status, language),
                courier=courier,
                tracking_no=order.tracking_no,
                last_scan=last_scan,
            )
            if with_estimate and window:
                say(
                    dispatcher,
                    tracker,
                    "utter_order_shipped",
                    start=format_day(window[0], language),
                    end=format_day(window[1], language),
                    **facts,
                )
            else:  # past the promised days: the apology that follows says the rest
                say(dispatcher, tracker, "utter_order_shipped_overdue", **facts)
        elif order.status == "delivered":
            say(
                dispatcher,
                tracker,
                "utter_order_delivered",
                order_id=order.id,
                delivered=format_day(order.delivered_at, language),
            )
        elif order.status in STATUS_RESPONSES:
            say(
                dispatcher,
                tracker,
                STATUS_RESPONSES[order.status],
                order_id=order.id,
                dispatch_days=dispatch_days,
                courier=courier,
            )

    async def handle_delay(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, order: OrderRecord, overdue: bool
    ) -> List[EventType]:
        """Facts first (already said), then the shop's disclaimer and what the shop does:
        urge the courier; past the courier's promised days, the complaint sequence."""
        language = language_of(tracker)
        if order.status in ("unpaid", "paid"):
            say(
                dispatcher,
                tracker,
                "utter_not_shipped_yet",
                order_id=order.id,
                dispatch_days=shop().couriers.get("dispatch_days", 2),
            )
            return []
        if order.status not in ("in_transit", "delayed", "out_for_delivery"):
            return []
        courier = courier_name(order.courier, language)
        common = dict(
            conversation_id=tracker.sender_id,
            channel=tracker.get_latest_input_channel(),
            language=language,
            order_id=order.id,
        )
        store = default_store()
        if overdue:
            days_late = max(1, logistics.days_late(shop(), order))
            ticket = await off_loop(
                store.open_ticket,
                kind="delivery_complaint",
                reason="overdue",
                category="delay",
                summary=f"{order.id} overdue by {days_late} day(s)",
                **common,
            )
            position = next(p for p in shop().policies["complaint_policies"] if p["category"] == "delay")
            say(
                dispatcher,
                tracker,
                "utter_order_overdue",
                courier=courier,
                ticket=ticket,
                days_late=days_late,
                position=position["position"][language],
            )
            # Past the promised date the delay is a complaint: the remedies come next.
            return [
                SlotSet("complaint_category", "delay"),
                SlotSet("remedies_offered", position["remedies"]),
                FollowupAction("remedy_form"),
            ]
        say(dispatcher, tracker, "utter_courier_disclaimer")
        ticket = await off_loop(
            store.open_ticket,
            kind="urge_courier",
            reason="customer asked",
            category="delay",
            summary=f"Urge {order.courier} for {order.id}",
            **common,
        )
        say(dispatcher, tracker, "utter_courier_urged", courier=courier, ticket=ticket)
        return []

    def change_address(self, dispatcher: CollectingDispatcher, tracker: Tracker, order: OrderRecord) -> List[EventType]:
        language = language_of(tracker)
        if order.status in shop().policies["order_rules"]["address_change_allowed_states"]:
            return [SlotSet("new_address", None), FollowupAction("address_form")]
        if order.status in ("cancelled", "returned", "delivered"):
            say(dispatcher, tracker, "utter_order_closed", order_id=order.id, state=state_name(order.status, language))
        else:
            say(
                dispatcher,
                tracker,
                "utter_address_change_shipped",
                order_id=order.id,
                courier=courier_name(order.courier, language),
                tracking_no=order.tracking_no,
            )
        return []

    def cancel(self, dispatcher: CollectingDispatcher, tracker: Tracker, order: OrderRecord) -> List[EventType]:
        language = language_of(tracker)
        if order.status in shop().policies["order_rules"]["cancel_allowed_states"]:
            return ask_confirmation("cancel")
        if order.status in ("cancelled", "returned"):
            say(dispatcher, tracker, "utter_order_closed", order_id=order.id, state=state_name(order.status, language))
            return []
        say(
            dispatcher,
            tracker,
            "utter_cancel_not_possible",
            order_id=order.id,
            days=shop().policies["returns"]["no_reason_days"],
        )
        return []


def _ranges(courier: Dict[str, Any]) -> Dict[str, Any]:
    ranges = logistics.courier_ranges(courier)
    return {key: f"{value:g}" if key.startswith("surcharge") else value for key, value in ranges.items()}


def region_in_latest_message(tracker: Tracker) -> Optional[str]:
    """The region named in the latest message. An address may name several places
    ("8 Beijing Road, Urumqi, Xinjiang"): Chinese addresses start with the province,
    English ones end with it."""
    regions = entity_values(tracker, "region")
    if not regions:
        return None
    return regions[0] if language_of(tracker) == "zh" else regions[-1]


class ValidateAddressForm(ShopFormValidation):
    """The new address: a reply that reads as an address (the NLU's `address` entity).
    Anything else is a question or a change of mind, answered outside the form."""

    def name(self) -> Text:
        return "validate_address_form"

    async def extract_new_address(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        address = entity_value(tracker, "address")
        if not self.requested(tracker, "new_address") or not address or not self.answering(tracker):
            return {}
        return {"new_address": str(address).strip()[:300]}

    def validate_new_address(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        # (an extract_ method may only set its own slot; the region is set here)
        return {"new_address": value, "new_address_region": region_in_latest_message(tracker) if value else None}


def ask_confirmation(what: str) -> List[EventType]:
    """Open confirm_form (bot.policies predicts it once `pending_confirmation` is set): it asks
    (action_ask_confirmed), takes only a yes or a no, answers questions in between and asks
    again, and lets the customer leave."""
    return [SlotSet("pending_confirmation", what), SlotSet("confirmed", None)]


class ActionConfirmAddress(Action):
    """The new address is read back before it is saved (seed 003 §4, §6)."""

    def name(self) -> Text:
        return "action_confirm_address"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[Dict[Text, Any]]:
        if logistics.zone_of(shop(), tracker.get_slot("new_address_region")) == "unserved":
            language = language_of(tracker)
            region = named(shop().regions.get(tracker.get_slot("new_address_region")), language)
            say(dispatcher, tracker, "utter_shipping_unserved", region=region)
            return [SlotSet("new_address", None)]
        return ask_confirmation("address")


class ValidateConfirmForm(ShopFormValidation):
    """A yes or a no to "cancel this order?" / "save this address?". Saying again what one
    asked for ("嗯 取消吧", "yes change it") is a yes; anything else is answered outside the
    form, which then asks again."""

    AGAIN = {"cancel": "cancel_order", "address": "change_address"}

    def name(self) -> Text:
        return "validate_confirm_form"

    async def extract_confirmed(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        if not self.requested(tracker, "confirmed"):
            return {}
        intent = intent_of(tracker)
        if intent == "affirm" or intent == self.AGAIN.get(tracker.get_slot("pending_confirmation")):
            return {"confirmed": True}
        if intent == "deny":
            return {"confirmed": False}
        return {}


class ActionAskConfirmed(Action):
    """confirm_form's question: cancel this order? save this address (and the courier
    that reaches it when it is remote)?"""

    def name(self) -> Text:
        return "action_ask_confirmed"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[Dict[Text, Any]]:
        language = language_of(tracker)
        order_id = tracker.get_slot("order_id")
        if tracker.get_slot("pending_confirmation") == "cancel":
            try:
                order = await lookup(order_id)
            except OrderSourceUnavailable:
                order = None
            paid = bool(order and order.paid_at)
            say(dispatcher, tracker, "utter_confirm_cancel_paid" if paid else "utter_confirm_cancel", order_id=order_id)
            return []
        address = tracker.get_slot("new_address") or ""
        region_id = tracker.get_slot("new_address_region")
        if logistics.zone_of(shop(), region_id) == "remote":
            option = logistics.standard_option(shop(), region_id)
            say(
                dispatcher,
                tracker,
                "utter_confirm_address_remote",
                address=address,
                courier=named(option.courier, language),
                surcharge=f"{option.surcharge:g}",
            )
        else:
            say(dispatcher, tracker, "utter_confirm_address", address=address)
        return []


class ActionResolveConfirmation(Action):
    """The customer's yes or no (confirm_form's slot `confirmed`); only a yes changes anything."""

    def name(self) -> Text:
        return "action_resolve_confirmation"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[Dict[Text, Any]]:
        yes = tracker.get_slot("confirmed") is True
        pending = tracker.get_slot("pending_confirmation")
        order_id = tracker.get_slot("order_id")
        reset: List[EventType] = [SlotSet("pending_confirmation", None), SlotSet("confirmed", None)]
        if not order_id or order_id != tracker.get_slot("verified_order") or pending not in ("cancel", "address"):
            return reset
        source = order_source(shop())
        try:
            order = await off_loop(source.get, order_id)
            if order is None:
                return reset
            if pending == "cancel":
                if yes:
                    await off_loop(source.cancel, order_id)
                    say(
                        dispatcher,
                        tracker,
                        "utter_cancel_done_paid" if order.paid_at else "utter_cancel_done",
                        order_id=order_id,
                    )
                else:
                    say(dispatcher, tracker, "utter_cancel_kept", order_id=order_id)
            else:
                address = tracker.get_slot("new_address")
                if yes and address:
                    await off_loop(
                        source.update_address,
                        order_id,
                        {"region": tracker.get_slot("new_address_region") or "", "detail": address},
                    )
                    say(dispatcher, tracker, "utter_address_changed", order_id=order_id, address=address)
                else:
                    say(dispatcher, tracker, "utter_address_kept", order_id=order_id)
                reset.append(SlotSet("new_address", None))
        except OrderSourceUnavailable:
            say(dispatcher, tracker, "utter_order_source_down")
        return reset


def too_big_for(courier_id: str, tracker: Tracker) -> bool:
    """SF Express takes parcels under SF_MAX_KG; the product under discussion may be heavier."""
    product = shop().products.get(tracker.get_slot("product") or "")
    return courier_id == "sf" and bool(product) and product["weight_kg"] >= SF_MAX_KG


class ActionShippingInfo(Action):
    """Before buying: which courier, how long to a region, SF for the hurried, EMS for
    remote regions and why it costs more. Days are the courier's, never a promise."""

    def name(self) -> Text:
        return "action_shipping_info"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[Dict[Text, Any]]:
        language = language_of(tracker)
        data = shop()
        if await self.about_the_order(dispatcher, tracker):
            return []
        if (
            entity_values(tracker, "product")
            and entity_values(tracker, "attribute")
            and not about_delivery(tracker)
            and not entity_values(tracker, "topic")
        ):  # "沙发能送货上楼吗": a question about that product's delivery
            return await hand_over(dispatcher, tracker, domain, instead_of=self.name()) or []
        events: List[EventType] = [SlotSet("topic", "shipping")]
        if "free_shipping" in entity_values(tracker, "topic"):
            free = next(p for p in data.promotions if p.get("type") == "free_shipping")
            say(dispatcher, tracker, "utter_free_shipping", details=free["summary"][language])
            return events
        region_id = region_in_latest_message(tracker) or tracker.get_slot("region")
        # A courier asked about a moment ago stays under discussion ("能发顺丰吗" … "发四川"),
        # unless it cannot carry the product ("…顺丰只接30公斤以下" … "新疆能到吗").
        kept = tracker.get_slot("courier") if tracker.get_slot("topic") == "shipping" else None
        if kept and too_big_for(kept, tracker):
            kept = None
        courier_id = entity_value(tracker, "courier") or kept
        hurried = bool(entity_values(tracker, "urgency"))
        if courier_id and courier_id != data.couriers["default"]:
            self.answer_for_courier(dispatcher, tracker, courier_id, region_id)
        elif not region_id:
            default = data.courier_table[data.couriers["default"]]
            say(
                dispatcher,
                tracker,
                "utter_shipping_general",
                warehouse=data.couriers["warehouse"][language],
                dispatch_days=data.couriers.get("dispatch_days", 2),
                courier=named(default, language),
            )
            if hurried:
                self.fast_option(dispatcher, tracker, None)
            return events
        else:
            if not self.answer_for_region(dispatcher, tracker, region_id):
                return events
            if hurried:
                self.fast_option(dispatcher, tracker, region_id)
        say(dispatcher, tracker, "utter_courier_disclaimer")
        return events + ([SlotSet("region", region_id)] if region_id else [])

    @staticmethod
    async def about_the_order(dispatcher: CollectingDispatcher, tracker: Tracker) -> bool:
        """ "How long?" right after the status of a verified order: that order's estimate."""
        order_id = tracker.get_slot("verified_order")
        if (
            tracker.get_slot("topic") != "order"
            or not order_id
            or order_id != tracker.get_slot("order_id")
            or any(entity_values(tracker, e) for e in ("region", "courier", "urgency", "topic"))
        ):
            return False
        try:
            order = await lookup(order_id)
        except OrderSourceUnavailable:
            return False
        if order is None or order.status not in ("in_transit", "delayed", "out_for_delivery", "paid"):
            return False
        ActionOrderFollowup().tell_status(dispatcher, tracker, order)
        return True

    def answer_for_region(self, dispatcher: CollectingDispatcher, tracker: Tracker, region_id: str) -> bool:
        language = language_of(tracker)
        data = shop()
        region = named(data.regions.get(region_id), language)
        zone = logistics.zone_of(data, region_id)
        if zone == "unserved":
            say(dispatcher, tracker, "utter_shipping_unserved", region=region)
            return False
        standard = logistics.standard_option(data, region_id)
        if zone == "remote":
            say(
                dispatcher,
                tracker,
                "utter_shipping_remote",
                region=region,
                courier=named(standard.courier, language),
                days_min=standard.days[0],
                days_max=standard.days[1],
                surcharge=f"{standard.surcharge:g}",
                reason=standard.courier.get("reason_short", {}).get(language, ""),
            )
        else:
            say(
                dispatcher,
                tracker,
                "utter_shipping_region",
                region=region,
                courier=named(standard.courier, language),
                days_min=standard.days[0],
                days_max=standard.days[1],
            )
        return True

    def fast_option(self, dispatcher: CollectingDispatcher, tracker: Tracker, region_id: Optional[str]) -> None:
        """Seed 003 §5: the very anxious buyer is offered SF Express with its surcharge."""
        language = language_of(tracker)
        data = shop()
        if region_id:
            fast = logistics.fastest_option(data, region_id)
            standard = logistics.standard_option(data, region_id)
            if fast and fast.courier["id"] != standard.courier["id"]:
                say(
                    dispatcher,
                    tracker,
                    "utter_shipping_fast",
                    courier=named(fast.courier, language),
                    region=named(data.regions[region_id], language),
                    days_min=fast.days[0],
                    days_max=fast.days[1],
                    surcharge=f"{fast.surcharge:g}",
                    reason=fast.courier.get("reason_short", {}).get(language, ""),
                )
            return
        fastest = logistics.fastest_courier(data)
        say(dispatcher, tracker, "utter_shipping_fast_no_region", courier=named(fastest, language), **_ranges(fastest))

    def answer_for_courier(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, courier_id: str, region_id: Optional[str]
    ) -> None:
        """A courier asked by name (SF, EMS): its days and surcharge; the region only if needed."""
        language = language_of(tracker)
        data = shop()
        courier = data.courier_table[courier_id]
        product = data.products.get(tracker.get_slot("product") or "")
        if too_big_for(courier_id, tracker):
            say(
                dispatcher,
                tracker,
                "utter_shipping_courier_too_big",
                product=named(product, language),
                weight=f"{product['weight_kg']:g}",
                courier=named(courier, language),
                default=named(data.courier_table[data.couriers["default"]], language),
            )
            return
        reason = courier.get("reason_short", {}).get(language, "")
        if not region_id:
            ranges = _ranges(courier)
            response = (
                "utter_shipping_courier_no_region"
                if ranges["surcharge_max"] != "0"
                else "utter_shipping_courier_free_no_region"
            )
            say(dispatcher, tracker, response, courier=named(courier, language), **ranges)
            return
        region = named(data.regions.get(region_id), language)
        zone = logistics.zone_of(data, region_id)
        if zone == "unserved":
            say(dispatcher, tracker, "utter_shipping_unserved", region=region)
            return
        terms = (courier.get("zones") or {}).get(zone)
        if not terms:
            standard = logistics.standard_option(data, region_id)
            say(
                dispatcher,
                tracker,
                "utter_shipping_courier_unavailable",
                courier=named(courier, language),
                region=region,
                alternative=named(standard.courier, language),
                days_min=standard.days[0],
                days_max=standard.days[1],
            )
            return
        surcharge = float(terms.get("surcharge", 0))
        response = "utter_shipping_courier_surcharge" if surcharge else "utter_shipping_courier_free"
        say(
            dispatcher,
            tracker,
            response,
            courier=named(courier, language),
            region=region,
            days_min=terms["days"][0],
            days_max=terms["days"][1],
            surcharge=f"{surcharge:g}",
            reason=reason,
        )

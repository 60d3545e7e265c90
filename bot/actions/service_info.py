"""Answers from the shop's own policies: payment, invoices, returns and exchanges,
after-sales help (a product that does not work: troubleshooting, then repair, exchange or
refund by the policy), price protection.

A `topic` entity (price protection, return shipping, exchange, repair, …) picks the
answer within an intent: "能换个颜色吗" is a return question answered with the exchange rules.
"""

from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from bot.actions.common import entity_value, entity_values, join, language_of, last_bot_response, say, shop
from bot.actions.routing import OFFERS_REGISTRATION
from bot.shop import catalog


class ActionPaymentMethods(Action):
    def name(self) -> Text:
        return "action_payment_methods"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[Dict[Text, Any]]:
        language = language_of(tracker)
        payment = shop().info["payment"]
        say(
            dispatcher,
            tracker,
            "utter_payment_methods",
            methods=join(payment["methods"][language], language),
            note=payment["note"][language],
        )
        return []


class ActionInvoicePolicy(Action):
    def name(self) -> Text:
        return "action_invoice_policy"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[Dict[Text, Any]]:
        say(dispatcher, tracker, "utter_invoice_policy", invoice=shop().info["invoice"][language_of(tracker)])
        return []


class ActionReturnPolicy(Action):
    """Returns, and within them exchanges, return shipping and refund progress."""

    def name(self) -> Text:
        return "action_return_policy"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[Dict[Text, Any]]:
        if entity_values(tracker, "remedy") and last_bot_response(tracker) in OFFERS_REGISTRATION:
            # "换货吧" answering "shall I register it?": the registration, not the rules
            return [SlotSet("complaint_category", "quality"), FollowupAction("complaint_form")]
        language = language_of(tracker)
        returns = shop().policies["returns"]
        topics = entity_values(tracker, "topic")
        if "price_protection" in topics:
            return ActionPriceProtection().run(dispatcher, tracker, domain)
        if "refund_progress" in topics:
            say(dispatcher, tracker, "utter_refund_progress", details=returns["refund_progress"][language])
        elif "freight_insurance" in topics:
            say(dispatcher, tracker, "utter_freight_insurance", details=returns["freight_insurance"][language])
        elif "exchange" in topics:
            say(dispatcher, tracker, "utter_exchange_policy", details=returns["exchange"][language])
        else:
            say(
                dispatcher,
                tracker,
                "utter_return_policy",
                days=returns["no_reason_days"],
                summary=returns["summary"][language],
            )
        return []


class ActionPriceProtection(Action):
    def name(self) -> Text:
        return "action_price_protection"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[Dict[Text, Any]]:
        policy = shop().pricing_policy
        say(
            dispatcher,
            tracker,
            "utter_price_protection",
            days=policy["price_protection_days"],
            details=policy["price_protection"][language_of(tracker)],
        )
        return []


class ActionAfterSalesInfo(Action):
    """After-sales help. A product that does not work gets the product's own checks
    first, then what the policy offers (new one, refund, repair) and a way to register it."""

    def name(self) -> Text:
        return "action_after_sales_info"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[Dict[Text, Any]]:
        language = language_of(tracker)
        data = shop()
        topics = entity_values(tracker, "topic")
        product = data.products.get(entity_value(tracker, "product") or tracker.get_slot("product") or "")
        if entity_value(tracker, "complaint_category") == "quality" and product:
            category = data.categories[product["category"]]
            tips = product.get("troubleshooting") or category.get("troubleshooting")
            if tips:
                say(
                    dispatcher,
                    tracker,
                    "utter_fault_tips",
                    product=catalog.name(product, language),
                    tips="\n".join(f"• {tip}" for tip in tips[language]),
                )
            say(
                dispatcher,
                tracker,
                "utter_fault_options",
                options=data.policies["after_sales"]["fault_options"][language],
            )
            return [SlotSet("product", product["id"]), SlotSet("complaint_category", "quality")]
        if "installation_booking" in topics:
            say(
                dispatcher,
                tracker,
                "utter_installation_booking",
                details=data.policies["after_sales"]["installation_booking"][language],
            )
        elif "repair" in topics:
            say(dispatcher, tracker, "utter_repair_policy", details=data.policies["after_sales"]["repair"][language])
        elif "exchange" in topics or "refund_progress" in topics or "freight_insurance" in topics:
            return ActionReturnPolicy().run(dispatcher, tracker, domain)
        else:
            say(dispatcher, tracker, "utter_after_sales_info")
        return []

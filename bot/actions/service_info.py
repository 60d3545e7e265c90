"""Answers from the shop's own policies: payment, invoices, returns, after-sales help."""
from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from bot.actions.common import language_of, say, shop

LIST_SEPARATOR = {"zh": "、", "en": ", "}


class ActionPaymentMethods(Action):
    def name(self) -> Text:
        return "action_payment_methods"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
            domain: Dict[Text, Any]) -> List[Dict[Text, Any]]:
        language = language_of(tracker)
        payment = shop().info["payment"]
        methods = LIST_SEPARATOR[language].join(payment["methods"][language])
        say(dispatcher, tracker, "utter_payment_methods", methods=methods, note=payment["note"][language])
        return []


class ActionInvoicePolicy(Action):
    def name(self) -> Text:
        return "action_invoice_policy"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
            domain: Dict[Text, Any]) -> List[Dict[Text, Any]]:
        say(dispatcher, tracker, "utter_invoice_policy", invoice=shop().info["invoice"][language_of(tracker)])
        return []


class ActionReturnPolicy(Action):
    def name(self) -> Text:
        return "action_return_policy"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
            domain: Dict[Text, Any]) -> List[Dict[Text, Any]]:
        language = language_of(tracker)
        returns = shop().policies["returns"]
        say(dispatcher, tracker, "utter_return_policy", days=returns["no_reason_days"],
            condition=returns["condition"][language], shipping=returns["return_shipping"][language])
        return []


class ActionAfterSalesInfo(Action):
    def name(self) -> Text:
        return "action_after_sales_info"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
            domain: Dict[Text, Any]) -> List[Dict[Text, Any]]:
        say(dispatcher, tracker, "utter_after_sales_info")
        return []

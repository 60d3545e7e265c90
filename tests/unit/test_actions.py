"""Actions on Tracker fixtures (the financial-demo way): what they say, in which language."""

import asyncio
import inspect

from bot.actions.etiquette import ActionFallback, ActionGoodbye, ActionGreet
from bot.actions.service_info import ActionInvoicePolicy, ActionPaymentMethods, ActionReturnPolicy


def run(action, dispatcher, tracker):
    events = action.run(dispatcher, tracker, {})
    if inspect.isawaitable(events):
        events = asyncio.run(events)
    return events, dispatcher.messages


def test_greet_passes_the_agent_name_for_the_language(tracker, dispatcher):
    _, messages = run(ActionGreet(), dispatcher, tracker("hello", slots={"language": "en"}))
    assert messages[0]["response"] == "utter_greet" and messages[0]["agent_name"] == "Ann"


def test_greet_name_comes_from_env(tracker, dispatcher, monkeypatch):
    monkeypatch.setenv("AGENT_NAME_ZH", "小美")
    _, messages = run(ActionGreet(), dispatcher, tracker("你好", slots={"language": "zh"}))
    assert messages[0]["agent_name"] == "小美"


def test_goodbye_points_to_after_sales_in_the_language(tracker, dispatcher, shop):
    _, messages = run(ActionGoodbye(), dispatcher, tracker("bye", slots={"language": "en"}))
    assert messages[0]["after_sales"] == shop.info["after_sales_contact"]["en"]


def test_language_defaults_to_chinese(tracker, dispatcher, shop):
    _, messages = run(ActionGoodbye(), dispatcher, tracker("88"))
    assert messages[0]["after_sales"] == shop.info["after_sales_contact"]["zh"]


def miss(text, intent="nlu_fallback"):
    return {"event": "user", "text": text, "parse_data": {"intent": {"name": intent}}}


def test_first_miss_asks_to_rephrase(tracker, dispatcher):
    _, messages = run(
        ActionFallback(), dispatcher, tracker("asdf qwer", intent="nlu_fallback", events=[miss("你好", "greet")])
    )
    assert messages[0]["response"] == "utter_fallback_rephrase"


def test_second_miss_in_a_row_offers_a_human(tracker, dispatcher):
    _, messages = run(ActionFallback(), dispatcher, tracker("zzz", intent="nlu_fallback", events=[miss("qqq")]))
    assert messages[0]["response"] == "utter_fallback_offer_human"


def test_out_of_scope_and_empty_messages_get_their_own_answer(tracker, dispatcher):
    _, messages = run(ActionFallback(), dispatcher, tracker("tell me a joke", intent="out_of_scope"))
    assert messages[0]["response"] == "utter_out_of_scope"
    dispatcher.messages.clear()
    _, messages = run(ActionFallback(), dispatcher, tracker("😀😀", intent="nlu_fallback"))
    assert messages[0]["response"] == "utter_empty_message"


def test_policy_answers_come_from_shop_data(tracker, dispatcher, shop):
    run(ActionPaymentMethods(), dispatcher, tracker("how to pay", slots={"language": "en"}))
    run(ActionInvoicePolicy(), dispatcher, tracker("invoice", slots={"language": "en"}))
    run(ActionReturnPolicy(), dispatcher, tracker("退货", slots={"language": "zh"}))
    payment, invoice, returns = dispatcher.messages
    assert all(m in payment["methods"] for m in shop.info["payment"]["methods"]["en"])
    assert invoice["invoice"] == shop.info["invoice"]["en"]
    assert returns["days"] == shop.policies["returns"]["no_reason_days"]


def test_session_start_takes_the_language_from_channel_metadata(tracker, dispatcher):
    from bot.actions.session import ActionSessionStart

    started = tracker("", slots={"session_started_metadata": {"language": "en-US"}})
    events = ActionSessionStart().run(dispatcher, started, {})
    assert {"event": "slot", "name": "language", "value": "en", "timestamp": None} in events
    assert events[0]["event"] == "session_started" and events[-1]["name"] == "action_listen"


def test_a_new_session_starts_clean_except_the_language(tracker, dispatcher):
    """A returning customer: an old verification, form state or goodbye never leaks in."""
    from bot.actions.session import ActionSessionStart

    old = {
        "language": "en",
        "verified_order": "SO20261101",
        "order_id": "SO20261101",
        "conversation_closed": True,
        "requested_slot": "phone_last4",
        "pending_confirmation": "cancel",
        "product": "air-fryer",
    }
    events = ActionSessionStart().run(dispatcher, tracker("", slots=old), {})
    assert [(e["name"], e["value"]) for e in events if e["event"] == "slot"] == [("language", "en")]


def test_control_characters_and_markup_are_no_words(tracker, dispatcher):
    _, messages = run(ActionFallback(), dispatcher, tracker("\x00\x01\x07\x1b[31m", intent="nlu_fallback"))
    assert messages[0]["response"] == "utter_empty_message"


def test_a_need_right_after_the_picks_refines_them_though_the_message_was_not_understood(tracker, dispatcher):
    context = {"category": "lighting", "needs": [], "budget": {"amount": 300.0, "currency": "CNY"}}
    _, messages = run(
        ActionFallback(),
        dispatcher,
        tracker(
            "for my son to do homework",
            intent="out_of_scope",
            slots={"language": "en", "topic": "recommendation", "rec_context": context},
        ),
    )
    assert messages[0]["response"] != "utter_out_of_scope" and "Eye-Care Desk Lamp" in str(messages[0])

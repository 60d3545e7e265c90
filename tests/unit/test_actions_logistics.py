"""Logistics actions on Tracker fixtures, against a fresh embedded store."""

import asyncio

from bot.actions.logistics import (
    ActionAskConfirmed,
    ActionOrderFollowup,
    ActionResolveConfirmation,
    ActionShippingInfo,
    ValidateOrderForm,
)
from bot.shop.orders import order_source


def responses(dispatcher):
    return [m["response"] for m in dispatcher.messages]


def slots_of(events):
    return {e["name"]: e["value"] for e in events if e.get("event") == "slot"}


def asking_digits(tracker, text, order_id="SO20261101", sender_events=None, **slots):
    return tracker(
        text, "inform", slots={"order_id": order_id, "requested_slot": "phone_last4", **slots}, events=sender_events
    )


def test_wrong_digits_lock_the_order_for_every_conversation(tracker, dispatcher, test_store, monkeypatch):
    """Five misses lock the order in the store: naming it again, or trying from another
    conversation, does not reset the count (issue: 0000, 0001, order id, 0002 … never locked)."""
    monkeypatch.setenv("VERIFY_MAX_FAILURES", "5")
    form = ValidateOrderForm()
    for attempt in range(4):
        result = asyncio.run(
            form.validate_phone_last4(f"000{attempt}", dispatcher, asking_digits(tracker, f"000{attempt}"), {})
        )
        assert result == {"phone_last4": None}
        again = asyncio.run(form.validate_order_id("SO20261101", dispatcher, tracker("SO20261101", "inform"), {}))
        assert again["order_id"] == "SO20261101"  # naming the order again changes nothing
    result = asyncio.run(form.validate_phone_last4("0009", dispatcher, asking_digits(tracker, "0009"), {}))
    assert result["order_flow_stopped"] is True and result["order_id"] is None
    assert responses(dispatcher) == ["utter_phone_mismatch"] * 4 + ["utter_order_locked"]
    from rasa_sdk import Tracker

    other = Tracker(
        "another-sender",
        {"requested_slot": "phone_last4"},
        {"text": "SO20261101", "intent": {"name": "inform"}, "entities": []},
        [],
        False,
        None,
        {},
        "action_listen",
    )
    locked = asyncio.run(form.validate_order_id("SO20261101", dispatcher, other, {}))
    assert locked == {"order_id": None, "order_flow_stopped": True}
    # even the right digits are refused while the lock lasts
    right = asyncio.run(form.validate_phone_last4("4608", dispatcher, asking_digits(tracker, "4608"), {}))
    assert right["order_flow_stopped"] is True


def test_unknown_and_existing_orders_are_answered_alike(tracker, dispatcher, test_store):
    form = ValidateOrderForm()
    known = asyncio.run(form.validate_order_id("SO20261101", dispatcher, tracker("SO20261101", "inform"), {}))
    unknown = asyncio.run(form.validate_order_id("SO29999999", dispatcher, tracker("SO29999999", "inform"), {}))
    assert known == {"order_id": "SO20261101", "phone_last4": None}
    assert unknown == {"order_id": "SO29999999", "phone_last4": None}
    assert dispatcher.messages == []  # both: the digits are asked next, nothing else is said
    miss = asyncio.run(
        form.validate_phone_last4("1234", dispatcher, asking_digits(tracker, "1234", order_id="SO29999999"), {})
    )
    assert miss == {"phone_last4": None} and responses(dispatcher) == ["utter_phone_mismatch"]


def test_right_digits_verify_the_order(tracker, dispatcher, test_store):
    result = asyncio.run(
        ValidateOrderForm().validate_phone_last4("4608", dispatcher, asking_digits(tracker, "尾号4608"), {})
    )
    assert result == {"phone_last4": "4608", "verified_order": "SO20261101"}


def test_digits_are_taken_from_the_reply_and_from_a_whole_phone_number(tracker, dispatcher):
    form = ValidateOrderForm()
    for text in ("尾号4608", "手机号13857214608", "the last four are 4608"):
        extracted = asyncio.run(form.extract_phone_last4(dispatcher, asking_digits(tracker, text), {}))
        assert extracted == {"phone_last4": "4608"}, text


def test_order_id_and_digits_given_together_are_both_taken(tracker, dispatcher):
    form = ValidateOrderForm()
    message = tracker("SO20261114 后四位7704", "inform", slots={"requested_slot": "order_id"})
    assert asyncio.run(form.extract_phone_last4(dispatcher, message, {})) == {"phone_last4": "7704"}


def test_a_question_in_the_digit_step_is_answered_and_the_digits_asked_again(tracker, dispatcher):
    form = ValidateOrderForm()
    message = tracker(
        "到底到哪了啊", "check_order_status", slots={"order_id": "SO20261101", "requested_slot": "phone_last4"}
    )
    assert asyncio.run(form.extract_phone_last4(dispatcher, message, {})) == {"phone_last4": None}
    assert responses(dispatcher) == ["utter_order_verify_first"]


def test_other_numbers_are_recognised_for_what_they_are(tracker, dispatcher):
    form = ValidateOrderForm()
    tracking = tracker("SF1432087654219", "inform", slots={"requested_slot": "order_id"})
    assert asyncio.run(form.extract_order_id(dispatcher, tracking, {})) == {"order_id": None}
    other = tracker("订单号是 202611301234567", "inform", slots={"requested_slot": "order_id"})
    assert asyncio.run(form.extract_order_id(dispatcher, other, {})) == {"order_id": None}
    assert responses(dispatcher) == ["utter_tracking_not_order_id", "utter_order_id_invalid"]
    # a question of another kind is left to the rest of the bot
    question = tracker("能发顺丰吗", "ask_shipping", slots={"requested_slot": "order_id"})
    assert asyncio.run(form.extract_order_id(dispatcher, question, {})) == {}


def verified(order_id, purpose, **extra):
    return {"order_id": order_id, "verified_order": order_id, "order_purpose": purpose, "language": "zh", **extra}


def test_status_of_a_shipped_order(tracker, dispatcher, test_store, run):
    run(ActionOrderFollowup(), dispatcher, tracker("", slots=verified("SO20261101", "status")))
    assert responses(dispatcher) == ["utter_order_shipped", "utter_courier_disclaimer"]
    message = dispatcher.messages[0]
    assert message["tracking_no"] == "75361248097531" and message["start"] and message["end"]


def test_delay_records_an_urge_ticket(tracker, dispatcher, test_store, run):
    run(ActionOrderFollowup(), dispatcher, tracker("", slots=verified("SO20261101", "delay")))
    assert responses(dispatcher) == ["utter_order_shipped", "utter_courier_disclaimer", "utter_courier_urged"]
    assert [t.kind for t in test_store.tickets()] == ["urge_courier"]


def test_an_overdue_parcel_is_told_in_three_messages_at_most(tracker, dispatcher, test_store, run, shop):
    events = run(ActionOrderFollowup(), dispatcher, tracker("", slots=verified("SO20261103", "delay")))
    assert responses(dispatcher) == ["utter_order_shipped_overdue", "utter_order_overdue"]
    delay = next(p for p in shop.policies["complaint_policies"] if p["category"] == "delay")
    assert dispatcher.messages[1]["position"] == delay["position"]["zh"]
    assert {"event": "followup", "name": "remedy_form", "timestamp": None} in events  # the third: the remedies
    assert [t.kind for t in test_store.tickets()] == ["delivery_complaint"]


def test_cancel_asks_then_cancels(tracker, dispatcher, test_store, run):
    events = run(ActionOrderFollowup(), dispatcher, tracker("", slots=verified("SO20261104", "cancel")))
    assert slots_of(events)["pending_confirmation"] == "cancel"
    assert slots_of(events)["confirmed"] is None  # confirm_form follows (bot.policies), asking afresh
    asking = verified("SO20261104", "cancel", pending_confirmation="cancel")
    run(ActionAskConfirmed(), dispatcher, tracker("", slots=asking))
    run(ActionResolveConfirmation(), dispatcher, tracker("好的", "affirm", slots={**asking, "confirmed": True}))
    assert responses(dispatcher) == ["utter_confirm_cancel", "utter_cancel_done"]
    from bot.actions.common import shop

    assert order_source(shop()).get("SO20261104").status == "cancelled"


def test_a_no_keeps_the_order(tracker, dispatcher, test_store, run):
    asking = verified("SO20261106", "cancel", pending_confirmation="cancel", confirmed=False)
    run(ActionResolveConfirmation(), dispatcher, tracker("算了", "deny", slots=asking))
    assert responses(dispatcher) == ["utter_cancel_kept"]
    from bot.actions.common import shop

    assert order_source(shop()).get("SO20261106").status == "paid"


def test_shipping_for_a_remote_region_is_ems_with_reason(tracker, dispatcher, shop, run):
    run(ActionShippingInfo(), dispatcher, tracker("发西藏几天", "ask_shipping", slots={"language": "zh"}))
    remote = dispatcher.messages[0]
    assert remote["response"] == "utter_shipping_remote"
    assert remote["surcharge"] == f"{shop.courier_table['ems']['zones']['remote']['surcharge']:g}"
    assert remote["reason"] == shop.courier_table["ems"]["reason_short"]["zh"]
    assert responses(dispatcher)[-1] == "utter_courier_disclaimer"


def test_sf_asked_by_name_gets_its_days_and_surcharge_before_the_region_is_known(tracker, dispatcher, run):
    run(ActionShippingInfo(), dispatcher, tracker("能发顺丰吗？多少钱", "ask_shipping", slots={"language": "zh"}))
    message = dispatcher.messages[0]
    assert message["response"] == "utter_shipping_courier_no_region"
    # couriers.yml: SF 1-7 days and 12-45 yuan over the zones it serves
    assert (message["days_min"], message["days_max"]) == (1, 7)
    assert (message["surcharge_min"], message["surcharge_max"]) == ("12", "45")


def test_sf_to_a_region_and_the_courier_carried_to_the_follow_up(tracker, dispatcher, run):
    run(
        ActionShippingInfo(),
        dispatcher,
        tracker("发四川", "ask_shipping", slots={"language": "zh", "courier": "sf", "topic": "shipping"}),
    )
    message = dispatcher.messages[0]
    assert message["response"] == "utter_shipping_courier_surcharge"
    assert (message["days_min"], message["days_max"], message["surcharge"]) == (1, 3, "18")


def test_the_hurried_customer_is_offered_sf(tracker, dispatcher, run):
    run(ActionShippingInfo(), dispatcher, tracker("急用 发广东 最快几天", "ask_shipping", slots={"language": "zh"}))
    assert responses(dispatcher) == ["utter_shipping_region", "utter_shipping_fast", "utter_courier_disclaimer"]


def test_sf_does_not_take_a_wardrobe(tracker, dispatcher, run):
    run(
        ActionShippingInfo(),
        dispatcher,
        tracker("can it go by SF", "ask_shipping", slots={"language": "en", "product": "kids-sliding-wardrobe"}),
    )
    assert responses(dispatcher)[0] == "utter_shipping_courier_too_big"

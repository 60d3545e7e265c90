"""Logistics actions on Tracker fixtures, against a fresh embedded store."""
from bot.actions.logistics import ActionOrderFollowup, ActionResolveConfirmation, ActionShippingInfo, ValidateOrderForm
from bot.shop.orders import order_source


def responses(dispatcher):
    return [m["response"] for m in dispatcher.messages]


def slots_of(events):
    return {e["name"]: e["value"] for e in events if e.get("event") == "slot"}


def test_wrong_digits_count_down_then_lock(tracker, dispatcher, test_store):
    form = ValidateOrderForm()
    slots = {"order_id": "SO20261101", "verify_failures": 0}
    for attempt in (1, 2):
        result = form.validate_phone_last4("0000", dispatcher, tracker("0000", "inform", slots=slots), {})
        assert result == {"phone_last4": None, "verify_failures": attempt}
        slots["verify_failures"] = attempt
    result = form.validate_phone_last4("0000", dispatcher, tracker("0000", "inform", slots=slots), {})
    assert result["locked_orders"] == ["SO20261101"] and result["order_flow_stopped"] is True
    assert responses(dispatcher) == ["utter_phone_mismatch", "utter_phone_mismatch", "utter_order_locked"]


def test_right_digits_verify_the_order(tracker, dispatcher, test_store):
    result = ValidateOrderForm().validate_phone_last4(
        "尾号4608", dispatcher, tracker("尾号4608", "inform", slots={"order_id": "SO20261101"}), {})
    assert result == {"phone_last4": "4608", "verified_order": "SO20261101", "verify_failures": 0}


def test_locked_order_is_refused_before_any_lookup(tracker, dispatcher, test_store):
    result = ValidateOrderForm().validate_order_id(
        "SO20261101", dispatcher, tracker("SO20261101", "inform", slots={"locked_orders": ["SO20261101"]}), {})
    assert result == {"order_id": None, "order_flow_stopped": True}
    assert responses(dispatcher) == ["utter_order_locked"]


def verified(order_id, purpose, **extra):
    return {"order_id": order_id, "verified_order": order_id, "order_purpose": purpose, "language": "zh", **extra}


def test_status_of_a_shipped_order(tracker, dispatcher, test_store):
    ActionOrderFollowup().run(dispatcher, tracker("", slots=verified("SO20261101", "status")), {})
    message = dispatcher.messages[0]
    assert message["response"] == "utter_order_shipped" and message["tracking_no"] == "75361248097531"
    assert "至" in message["window"]


def test_delay_records_an_urge_ticket(tracker, dispatcher, test_store):
    ActionOrderFollowup().run(dispatcher, tracker("", slots=verified("SO20261101", "delay")), {})
    assert responses(dispatcher) == ["utter_order_shipped", "utter_courier_disclaimer", "utter_courier_urged"]
    assert [t.kind for t in test_store.tickets()] == ["urge_courier"]


def test_cancel_asks_then_cancels(tracker, dispatcher, test_store):
    events = ActionOrderFollowup().run(dispatcher, tracker("", slots=verified("SO20261104", "cancel")), {})
    assert slots_of(events) == {"awaiting_confirmation": True, "pending_confirmation": "cancel"}
    slots = verified("SO20261104", "cancel", pending_confirmation="cancel", awaiting_confirmation=True)
    ActionResolveConfirmation().run(dispatcher, tracker("好的", "affirm", slots=slots), {})
    assert responses(dispatcher) == ["utter_confirm_cancel", "utter_cancel_done"]
    from bot.actions.common import shop

    assert order_source(shop()).get("SO20261104").status == "cancelled"


def test_shipping_for_a_remote_region_is_ems_with_reason(tracker, dispatcher, shop):
    entities = [{"entity": "region", "value": "tibet"}]
    ActionShippingInfo().run(dispatcher, tracker("发西藏几天", "ask_shipping", slots={"language": "zh"},
                                                 entities=entities), {})
    remote = dispatcher.messages[0]
    assert remote["response"] == "utter_shipping_remote"
    assert remote["surcharge"] == f"{shop.courier_table['ems']['zones']['remote']['surcharge']:g}"
    assert responses(dispatcher)[-1] == "utter_courier_disclaimer"

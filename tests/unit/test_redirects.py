"""Where a message belongs when its intent's action has nothing to act on (bot/actions/redirects.py):
the entities the NLU found decide, and an action never hands over to itself."""

import pytest

from bot.actions.redirects import action_for


@pytest.mark.parametrize(
    "text,intent,instead_of,slots,expected",
    [
        ("能发顺丰吗？多少钱", "ask_product_info", "action_product_info", {}, "action_shipping_info"),
        ("too slow. any faster option?", "ask_product_info", "action_product_info", {}, "action_shipping_info"),
        ("运费险有没有", "deny", "action_answer_yes_no", {}, "action_return_policy"),
        ("降价了能退差价吗", "inform", "action_route_inform", {}, "action_price_protection"),
        ("no, not this one, the white one", "deny", "action_answer_yes_no", {}, "action_product_info"),
        ("多厚", "inform", "action_route_inform", {"product": "latex-mattress"}, "action_product_info"),
        ("沙发能送货上楼吗", "ask_shipping", "action_shipping_info", {}, "action_product_info"),  # its delivery facts
        ("随便聊聊", "nlu_fallback", "action_fallback", {}, None),
    ],
)
def test_the_entities_say_where_a_message_belongs(tracker, text, intent, instead_of, slots, expected):
    assert action_for(tracker(text, intent, slots=slots), instead_of) == expected


def test_an_action_never_hands_over_to_itself(tracker):
    assert action_for(tracker("能发顺丰吗", "ask_shipping"), "action_shipping_info") is None


def test_every_action_pointed_to_exists():
    from bot.actions.redirects import _actions

    pointed = {"action_product_info", "action_shipping_info", "action_return_policy", "action_price_protection"}
    assert pointed | {"action_after_sales_info"} <= set(_actions())


def test_the_product_answer_hands_a_courier_question_to_shipping_in_the_same_call(tracker, dispatcher, test_store, run):
    from bot.actions.presale import ActionProductInfo

    run(ActionProductInfo(), dispatcher, tracker("能发顺丰吗？多少钱", "ask_product_info", slots={"language": "zh"}))
    said = [m["response"] for m in dispatcher.messages]
    assert said[0].startswith("utter_shipping") and "utter_ask_which_product" not in said

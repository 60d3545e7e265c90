"""Pre-sale actions on Tracker fixtures."""
from bot.actions.presale import ActionBargain, ActionProductInfo, ActionRecommend, asked_attributes


def product_entity(value, text):
    return [{"entity": "product", "value": value, "text": text}]


def test_attributes_are_read_from_the_question():
    assert asked_attributes("多高多宽？怎么安装？运输会不会有问题？送货上门吗") == [
        "size", "installation", "transport", "door_delivery"]
    assert asked_attributes("how much is it and is it in stock") == ["price", "stock"]


def test_all_attributes_answered_in_one_message(tracker, dispatcher, test_store):
    text = "咖啡壶多少钱 保修多久"
    ActionProductInfo().run(dispatcher, tracker(text, "ask_product_info", slots={"language": "zh"},
                                                entities=product_entity("coffee-pot-keep-warm", "咖啡壶")), {})
    (message,) = dispatcher.messages
    assert message["response"] == "utter_product_facts"
    assert "价格" in message["facts"] and "保修" in message["facts"]


def test_follow_up_uses_the_product_under_discussion(tracker, dispatcher, test_store):
    ActionProductInfo().run(dispatcher, tracker("how heavy is it", "ask_product_info",
                                                slots={"language": "en", "product": "air-fryer"}), {})
    assert dispatcher.messages[0]["facts"].startswith("Weight:")


def test_unknown_question_is_recorded(tracker, dispatcher, test_store):
    from bot.shop.store import UnansweredQuestion

    ActionProductInfo().run(dispatcher, tracker("空气炸锅能做蛋糕吗", "ask_product_info", slots={"language": "zh"},
                                                entities=product_entity("air-fryer", "空气炸锅")), {})
    assert dispatcher.messages[0]["response"] == "utter_product_question_unknown"
    with test_store.session() as session:
        assert session.query(UnansweredQuestion).filter_by(product_id="air-fryer").count() == 1


def test_recommendation_reasons_tie_to_the_needs(shop):
    line = ActionRecommend.reason(shop.products["eye-care-desk-lamp"], 300.0, ["kids"], "en")
    assert "within your 300 yuan budget" in line and "suited to kids" in line


def test_bargaining_again_is_consistent(tracker, dispatcher, shop):
    bargain = {"event": "user", "text": "cheaper?", "parse_data": {"intent": {"name": "bargain"}}}
    ActionBargain().run(dispatcher, tracker("cheaper please", "bargain", slots={"language": "en"},
                                            events=[bargain]), {})
    message = dispatcher.messages[0]
    assert message["response"] == "utter_bargain_again"
    assert message["days"] == shop.pricing_policy["price_protection_days"]

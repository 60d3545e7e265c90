"""Pre-sale actions on Tracker fixtures: the tracker carries the entities the NLU finds."""

import asyncio

from bot.actions.presale import ActionBargain, ActionProductInfo, ActionRecommend, ValidateRecommendationForm, reason


def responses(dispatcher):
    return [m["response"] for m in dispatcher.messages]


def test_all_attributes_answered_in_one_message(tracker, dispatcher, test_store, run):
    run(ActionProductInfo(), dispatcher, tracker("咖啡壶多少钱 保修多久", "ask_product_info", slots={"language": "zh"}))
    (message,) = dispatcher.messages
    assert message["response"] == "utter_product_facts"
    assert "价格" in message["facts"] and "保修" in message["facts"]


def test_facts_are_found_by_the_words_customers_use(tracker, dispatcher, test_store, run):
    """多厚, capacity, power, what is in the box: the catalog's specs."""
    run(ActionProductInfo(), dispatcher, tracker("床垫多厚？", "ask_product_info", slots={"language": "zh"}))
    run(
        ActionProductInfo(),
        dispatcher,
        tracker("how many litres is the kettle and what's in the box", "ask_product_info", slots={"language": "en"}),
    )
    thickness, kettle = dispatcher.messages
    assert thickness["facts"] == "厚度：22厘米"
    assert "Capacity: 1.7 litres" in kettle["facts"] and "In the box: the kettle and its base" in kettle["facts"]


def test_follow_up_uses_the_product_under_discussion(tracker, dispatcher, test_store, run):
    run(
        ActionProductInfo(),
        dispatcher,
        tracker("how heavy is it", "ask_product_info", slots={"language": "en", "product": "air-fryer"}),
    )
    assert dispatcher.messages[0]["facts"].startswith("Weight:")


def test_a_category_lists_its_products_and_the_cheapest_is_picked_from_them(tracker, dispatcher, test_store, run):
    events = run(
        ActionProductInfo(), dispatcher, tracker("do you sell lamps?", "ask_product_info", slots={"language": "en"})
    )
    listed = next(e["value"] for e in events if e.get("name") == "candidates")
    assert responses(dispatcher) == ["utter_category_products"] and len(listed) == 4
    run(
        ActionProductInfo(),
        dispatcher,
        tracker("the cheapest one?", "ask_product_info", slots={"language": "en", "candidates": listed}),
    )
    assert responses(dispatcher)[1] == "utter_product_overview"
    assert dispatcher.messages[1]["product"] == "Kids' Night Light"  # 99 yuan, the cheapest of the four


def test_not_this_one_but_the_white_one(tracker, dispatcher, test_store, run):
    asked = {"attributes": ["size"], "text": "儿童衣柜多高", "open": False}
    run(
        ActionProductInfo(),
        dispatcher,
        tracker(
            "不是这个 是白色那款",
            "ask_product_info",
            slots={"language": "zh", "product": "kids-sliding-wardrobe", "pending_question": asked},
        ),
    )
    message = dispatcher.messages[0]
    assert message["response"] == "utter_product_facts" and message["product"] == "白色双门儿童衣柜"
    assert message["facts"].startswith("尺寸")


def test_and_the_table_asks_the_last_question_about_the_table(tracker, dispatcher, test_store, run):
    asked = {"attributes": ["colours"], "text": "什么颜色", "open": False}
    slots = {"language": "zh", "product": "nordic-fabric-sofa", "pending_question": asked}
    run(ActionProductInfo(), dispatcher, tracker("那餐桌呢", "ask_product_info", slots=slots))
    message = dispatcher.messages[0]
    assert message["response"] == "utter_product_facts" and message["product"] == "橡木实木餐桌"
    assert message["facts"].startswith("颜色")


def test_what_about_a_product_with_nothing_asked_before_is_its_overview(tracker, dispatcher, test_store, run):
    run(ActionProductInfo(), dispatcher, tracker("what about the kettle", "ask_product_info", slots={"language": "en"}))
    assert responses(dispatcher)[0] == "utter_product_overview"  # not "a good question … I've recorded it"


def test_not_this_one_when_there_is_no_other_says_so(tracker, dispatcher, test_store, run):
    slots = {"language": "zh", "product": "natural-latex-mattress"}
    run(ActionProductInfo(), dispatcher, tracker("不是这个，另一款", "ask_product_info", slots=slots))
    assert responses(dispatcher) == ["utter_only_this_one"]  # not the same overview again
    assert dispatcher.messages[0]["product"] == "天然乳胶床垫"


def test_products_the_shop_does_not_sell(tracker, dispatcher, test_store, run):
    run(ActionProductInfo(), dispatcher, tracker("你们有卖电视吗", "ask_product_info", slots={"language": "zh"}))
    assert responses(dispatcher) == ["utter_not_carried"]


def test_unknown_question_is_recorded(tracker, dispatcher, test_store, run):
    from bot.shop.store import UnansweredQuestion

    run(ActionProductInfo(), dispatcher, tracker("空气炸锅能做蛋糕吗", "ask_product_info", slots={"language": "zh"}))
    assert dispatcher.messages[0]["response"] == "utter_product_question_unknown"
    with test_store.session() as session:
        assert session.query(UnansweredQuestion).filter_by(product_id="air-fryer").count() == 1


def test_kind_and_budget_are_enough_to_recommend(tracker, dispatcher):
    form = ValidateRecommendationForm()
    message = tracker("can you recommend a kettle under 200 yuan", "request_recommendation", slots={"language": "en"})
    assert asyncio.run(form.extract_rec_category(dispatcher, message, {})) == {"rec_category": "kitchen"}
    assert asyncio.run(form.extract_budget(dispatcher, message, {})) == {"budget": {"amount": 200.0, "currency": "CNY"}}


def test_an_order_id_in_the_budget_step_is_not_a_budget(tracker, dispatcher):
    form = ValidateRecommendationForm()
    for text in ("SO20261101", "20261101", "13857214608"):
        message = tracker(text, "inform", slots={"requested_slot": "budget", "rec_category": "furniture"})
        assert asyncio.run(form.extract_budget(dispatcher, message, {})) == {}, text
    message = tracker("300", "inform", slots={"requested_slot": "budget", "rec_category": "furniture"})
    assert asyncio.run(form.extract_budget(dispatcher, message, {})) == {"budget": {"amount": 300.0, "currency": "CNY"}}
    no_limit = tracker("no limit", "deny", slots={"requested_slot": "budget", "rec_category": "furniture"})
    assert asyncio.run(form.extract_budget(dispatcher, no_limit, {})) == {"budget": {"amount": None, "currency": "CNY"}}


def test_a_way_out_is_never_a_slot_value(tracker, dispatcher):
    form = ValidateRecommendationForm()
    for text, intent in (("不用了，我再看看", "deny"), ("转人工", "request_human"), ("bye", "goodbye")):
        message = tracker(text, intent, slots={"requested_slot": "rec_category"})
        assert asyncio.run(form.extract_rec_category(dispatcher, message, {})) == {}, text


def test_recommendation_reasons_tie_to_the_needs(shop):
    line = reason(shop.products["eye-care-desk-lamp"], 300.0, ["kids"], "en")
    assert "within your 300 yuan budget" in line and "suited to kids" in line


def test_picks_and_the_refinement_for_who_it_is_for(tracker, dispatcher, test_store, run):
    request = {
        "event": "user",
        "text": "推荐个200以内的烧水壶",
        "parse_data": {"intent": {"name": "request_recommendation"}, "entities": []},
    }
    events = run(
        ActionRecommend(),
        dispatcher,
        tracker(
            "200以内",
            "inform",
            slots={"language": "zh", "rec_category": "kitchen", "budget": {"amount": 200, "currency": "CNY"}},
            events=[request],
        ),
    )
    assert responses(dispatcher)[0] == "utter_recommend"
    context = next(e["value"] for e in events if e.get("name") == "rec_context")
    assert context["category"] == "kitchen" and context["budget"] == {"amount": 200, "currency": "CNY"}


def test_bargaining_again_is_consistent(tracker, dispatcher, shop):
    bargain = {"event": "user", "text": "cheaper?", "parse_data": {"intent": {"name": "bargain"}}}
    ActionBargain().run(
        dispatcher, tracker("cheaper please", "bargain", slots={"language": "en"}, events=[bargain]), {}
    )
    message = dispatcher.messages[0]
    assert message["response"] == "utter_bargain_again"
    assert message["days"] == shop.pricing_policy["price_protection_days"]


def test_a_colour_asked_about_the_product_under_discussion_gets_its_colours(tracker, dispatcher, test_store, run):
    """ "有灰色的吗" after the sofa's price: its colours, not the price again."""
    asked = tracker(
        "有灰色的吗",
        "ask_product_info",
        slots={"language": "zh", "product": "nordic-fabric-sofa", "pending_question": {"attributes": ["price"]}},
    )
    run(ActionProductInfo(), dispatcher, asked)
    (message,) = dispatcher.messages
    assert message["response"] == "utter_product_facts" and message["facts"].startswith("颜色：")

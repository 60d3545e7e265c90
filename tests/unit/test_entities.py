"""The spaCy entity matcher and the jieba dictionary, built from the real shop data."""

import jieba
import pytest

from bot.nlu.tokenizer import add_words
from bot.shop.vocabulary import segmentation_words
from tests.support import understanding


@pytest.fixture(scope="module")
def matcher():
    return understanding.matcher()


def found(matcher, text):
    return {(e["entity"], str(e["value"])) for e in matcher.match(text)}


@pytest.mark.parametrize(
    "text,amount,currency",
    [
        ("推荐一个500元以内的儿童衣柜", 500, "CNY"),
        ("五百块以下的台灯有吗", 500, "CNY"),
        ("under 500 yuan please", 500, "CNY"),
        ("something below $80", 80, "USD"),
        ("预算两千五", 2500, "CNY"),
        ("1.5万以内的空调", 15000, "CNY"),
    ],
)
def test_budget_is_normalised_to_amount_and_currency(matcher, text, amount, currency):
    budgets = [e["value"] for e in matcher.match(text) if e["entity"] == "budget"]
    assert budgets == [{"amount": float(amount), "currency": currency}]


def test_products_regions_couriers_and_order_ids(matcher):
    assert ("product", "kids-sliding-wardrobe") in found(matcher, "那个白色的儿童衣柜多高")
    assert ("product", "kids-sliding-wardrobe") in found(matcher, "how tall is the kids wardrobe")
    assert {("courier", "sf"), ("region", "xinjiang")} <= found(matcher, "SF能到新疆吗")
    assert {("courier", "ems"), ("region", "tibet")} <= found(matcher, "ems to lhasa?")
    assert ("order_id", "SO20261101") in found(matcher, "我的订单so20261101到哪了")


def test_quantity(matcher):
    assert ("quantity", "2") in found(matcher, "买2台空调")
    assert ("quantity", "3") in found(matcher, "i need 3 pcs")


def test_a_short_name_inside_a_product_name_is_not_a_separate_mention(matcher):
    labels = [e["entity"] for e in matcher.match("床头柜多少钱") if e["entity"] in ("product", "category")]
    assert labels == ["product"]


def test_no_false_order_ids_and_nothing_from_empty_text(matcher):
    assert not any(e["entity"] == "order_id" for e in matcher.match("SO2026 or 20261101"))
    assert matcher.match("") == [] and matcher.match("   ") == []


def test_entity_offsets_point_at_the_text(matcher):
    text = "请问 SF 能到乌鲁木齐吗"
    for entity in matcher.match(text):
        assert text[entity["start"] : entity["end"]] == entity["text"]


def test_jieba_keeps_shop_names_whole(shop):
    add_words(segmentation_words(shop))
    tokens = jieba.lcut("我想看看儿童房推拉门板式衣柜和保温电咖啡壶")
    assert "儿童房推拉门板式衣柜" in tokens and "保温电咖啡壶" in tokens


def test_tokenizer_drops_whitespace_tokens():
    from rasa.shared.nlu.training_data.message import Message

    from bot.nlu.tokenizer import ShopJiebaTokenizer

    tokenizer = ShopJiebaTokenizer(ShopJiebaTokenizer.get_default_config(), None, None, [])
    tokens = tokenizer.tokenize(Message(data={"text": "how tall is  the   wardrobe"}), "text")
    assert [t.text for t in tokens] == ["how", "tall", "is", "the", "wardrobe"]


@pytest.mark.parametrize(
    "text,expected",
    [
        # what is asked about a product, by the words customers use
        ("床垫多厚？", {("attribute", "thickness")}),
        ("how thick is the mattress", {("attribute", "thickness")}),
        ("水壶容量多大 几瓦的", {("attribute", "capacity"), ("attribute", "power")}),
        ("what's in the box", {("attribute", "in_box")}),
        ("有现货吗", {("attribute", "stock")}),
        ("is it in stock", {("attribute", "stock")}),
        # who it is for, colours, picking from a list
        ("给我爸妈用的", {("need", "elderly")}),
        ("for my kids", {("need", "kids")}),
        ("白色那款", {("colour", "white")}),
        ("the white one", {("colour", "white")}),
        ("最便宜的那个", {("rank", "cheapest")}),
        ("the cheapest one?", {("rank", "cheapest")}),
        ("第二个", {("ordinal", "2")}),
        ("the second one", {("ordinal", "2")}),
        ("不是这个", {("correction", "other")}),
        ("not this one", {("correction", "other")}),
        ("有卖电视吗", {("other_product", "other")}),
        ("do you have iphones", {("other_product", "other")}),
        # complaints, mood, the hurried customer, services with their own answer
        ("到货就压坏了", {("complaint_category", "transport_damage")}),
        ("you sent me the wrong colour", {("complaint_category", "wrong_item")}),
        ("我要投诉你们 打12315", {("mood", "upset")}),
        ("急用 明天能到吗", {("urgency", "hurry")}),
        ("need it within 3 days", {("urgency", "hurry")}),
        ("降价了能退差价吗", {("topic", "price_protection")}),
        ("who pays the return postage", {("topic", "freight_insurance")}),
        ("不限", {("preference", "none")}),
        ("no limit", {("preference", "none")}),
        ("换货吧", {("remedy", "exchange")}),
    ],
)
def test_the_vocabulary_becomes_entities_in_both_languages(matcher, text, expected):
    assert expected <= found(matcher, text), found(matcher, text)


def test_a_word_inside_a_name_is_not_a_separate_mention(matcher):
    """滚 (go away!) inside 滚筒洗衣机 is the washing machine, not an angry customer."""
    labels = {e["entity"] for e in matcher.match("滚筒洗衣机坏了")}
    assert "mood" not in labels and {"product", "complaint_category"} <= labels


@pytest.mark.parametrize(
    "text,label,value",
    [
        ("SF1432087654219", "tracking_no", "SF1432087654219"),
        ("13857214608", "phone_number", "13857214608"),
        ("订单号 202611301234567", "reference", "202611301234567"),
        ("so2026110", "reference", "so2026110"),
        ("300", "number", 300.0),
        ("五百", "number", 500.0),
    ],
)
def test_numbers_of_every_shape_are_told_apart(matcher, text, label, value):
    entities = matcher.match(text)
    assert (label, value) in {(e["entity"], e["value"]) for e in entities}
    assert not any(e["entity"] in ("order_id", "budget") for e in entities)


def test_a_time_is_not_a_budget_and_a_lone_numeral_is_a_word(matcher):
    assert not any(e["entity"] == "budget" for e in matcher.match("within 3 days please"))
    assert not any(e["entity"] == "number" for e in matcher.match("我想改一下地址"))


def test_an_address_is_recognised_as_a_whole(matcher):
    for text in ("广东省广州市天河区天河北路233号1502室 陈静", "12 Xinhua Road, Hohhot, Inner Mongolia, Li Wei"):
        assert any(e["entity"] == "address" and e["value"] == text for e in matcher.match(text)), text
    assert not any(e["entity"] == "address" for e in matcher.match("能发顺丰吗"))


@pytest.mark.parametrize(
    "text,name",
    [
        ("有台灯吗", ("product", "eye-care-desk-lamp")),
        ("有灯吗", ("category", "lighting")),
        ("你们有儿童床卖吗", ("product", "kids-guardrail-bed")),
        ("有保温杯吗", ("other_product", "other")),
        ("any lamps?", ("category", "lighting")),
    ],
)
def test_do_you_have_wraps_the_name(matcher, text, name):
    """ "有{name}吗": asking whether the shop has a thing, not an open question about it."""
    assert {("attribute", "availability"), name} <= found(matcher, text)


def test_a_name_phrase_needs_the_name_right_there(matcher):
    assert ("attribute", "availability") not in found(matcher, "有护眼台灯的优惠吗")
    assert ("attribute", "availability") not in found(matcher, "有白色的吗")


@pytest.mark.parametrize(
    "text,name",
    [
        ("那餐桌呢", ("product", "oak-dining-table")),
        ("and the dining table?", ("product", "oak-dining-table")),
        ("how about the desk lamp", ("product", "eye-care-desk-lamp")),
    ],
)
def test_and_the_other_one_asks_the_last_question_again(matcher, text, name):
    assert {("question", "about"), name} <= found(matcher, text)

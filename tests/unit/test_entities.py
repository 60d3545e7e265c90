"""The spaCy entity matcher and the jieba dictionary, built from the real shop data."""
import jieba
import pytest

from bot.nlu.entities import PHRASE_LABELS, ShopMatcher
from bot.nlu.tokenizer import add_words
from bot.shop.vocabulary import segmentation_words, terms


@pytest.fixture(scope="module")
def matcher(shop):
    return ShopMatcher([t._asdict() for t in terms(shop) if t.label in PHRASE_LABELS])


def found(matcher, text):
    return {(e["entity"], str(e["value"])) for e in matcher.match(text)}


@pytest.mark.parametrize("text,amount,currency", [
    ("推荐一个500元以内的儿童衣柜", 500, "CNY"),
    ("五百块以下的台灯有吗", 500, "CNY"),
    ("under 500 yuan please", 500, "CNY"),
    ("something below $80", 80, "USD"),
    ("预算两千五", 2500, "CNY"),
    ("1.5万以内的空调", 15000, "CNY"),
])
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
    labels = [e["entity"] for e in matcher.match("床头柜多少钱")]
    assert labels == ["product"]


def test_no_false_order_ids_and_nothing_from_empty_text(matcher):
    assert not any(e["entity"] == "order_id" for e in matcher.match("SO2026 or 20261101"))
    assert matcher.match("") == [] and matcher.match("   ") == []


def test_entity_offsets_point_at_the_text(matcher):
    text = "请问 SF 能到乌鲁木齐吗"
    for entity in matcher.match(text):
        assert text[entity["start"]:entity["end"]] == entity["text"]


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

"""Pre-sale through the real bot over HTTP: product answers, recommendations,
promotions and bargaining, in both languages."""

import datetime as dt
import uuid

from bot.shop.store import UnansweredQuestion
from tests.support.voice import CJK

# The shop's promotions as bot/shop/data/promotions.yml states them: name, a piece of the
# conditions, first and last day (inclusive, shop time). Written out here so that the test
# does not compute its expectation with the code under test.
PROMOTIONS = [
    ("冬季暖家节", "床上用品和家用电器全场9折", dt.date(2026, 11, 20), dt.date(2026, 12, 5)),
    ("满300减30优惠券", "每单限用1张", dt.date(2026, 11, 15), dt.date(2026, 11, 30)),
    ("咖啡壶+磨豆机组合套餐", "套餐价389元", dt.date(2026, 11, 1), dt.date(2026, 12, 31)),
    ("满99元包邮", "实付满99元免基础运费", dt.date(2026, 1, 1), dt.date(2026, 12, 31)),
    ("双十一狂欢节", "全店85折", dt.date(2026, 11, 1), dt.date(2026, 11, 12)),
    ("双十二年终大促", "全店每单满400元立减50元", dt.date(2026, 12, 10), dt.date(2026, 12, 12)),
]
NO_PROMOTIONS_ZH = "目前店里暂时没有进行中的优惠活动"  # utter_no_promotions


def new():
    return f"presale-{uuid.uuid4().hex[:10]}"


def say(rest, who, text):
    return rest.send(who, text)


def texts(messages):
    return "\n".join(m.get("text", "") for m in messages)


def today():
    from zoneinfo import ZoneInfo

    return dt.datetime.now(ZoneInfo("Asia/Shanghai")).date()


def test_one_attribute_of_a_named_product(rest):
    reply = texts(say(rest, new(), "儿童衣柜多高呀"))
    assert "高200厘米" in reply


def test_several_questions_are_all_answered_in_one_message(rest, shop):
    """Seed 003: how tall and wide, how to install, transport problems, door delivery."""
    product = shop.products["kids-sliding-wardrobe"]
    messages = say(rest, new(), "这个儿童房推拉门板式衣柜多高多宽？怎么安装？运输会不会有问题？快递能送货上门吗？")
    assert len(messages) == 1
    reply = messages[0]["text"]
    for expected in (
        "宽120",
        "高200",
        product["installation"]["note"]["zh"],
        product["transport"]["note"]["zh"],
        product["door_delivery"]["note"]["zh"],
    ):
        assert expected in reply


def test_follow_up_question_about_the_product_under_discussion(rest):
    who = new()
    overview = texts(say(rest, who, "tell me about the nordic fabric sofa"))
    assert "Nordic Fabric Sofa" in overview and "Price: 2699 yuan (was 3299 yuan)" in overview
    assert "85 cm high" in texts(say(rest, who, "how tall is it?"))
    assert "not real leather" in texts(say(rest, who, "is it real leather"))


def test_ambiguous_product_gets_a_choice_list_then_the_answer(rest, shop):
    who = new()
    messages = say(rest, who, "那个白色的衣柜多少钱")
    buttons = [b for m in messages for b in m.get("buttons", [])]
    titles = " ".join(b["title"] for b in buttons)
    assert "儿童房推拉门板式衣柜" in titles and "白色双门儿童衣柜" in titles and "实木四门衣柜" not in titles
    choice = next(b["payload"] for b in buttons if "白色双门儿童衣柜" in b["title"])
    assert "价格：499元" in texts(say(rest, who, choice))


def test_unknown_question_is_said_honestly_and_recorded(rest, bot_store):
    who = new()
    reply = texts(say(rest, who, "保温电咖啡壶支持110V电压吗"))
    assert "暂时没有相关信息" in reply and "记录" in reply and "转人工" in reply
    with bot_store.session() as session:
        rows = session.query(UnansweredQuestion).filter_by(conversation_id=who).all()
    assert len(rows) == 1 and rows[0].product_id == "coffee-pot-keep-warm" and "110V" in rows[0].question
    assert rows[0].language == "zh"


def test_recommendation_filled_at_once(rest, shop):
    messages = say(rest, new(), "推荐一个500元以内的儿童衣柜")
    reply = texts(messages)
    # Kind and budget are enough: the picks at once, then who it is for can refine them.
    assert "1. 白色双门儿童衣柜，499元，在500元预算内" in reply and "告诉我是给谁用的" in reply
    assert "儿童房推拉门板式衣柜" not in reply  # 1299 yuan is over budget
    assert any(m.get("buttons") for m in messages) and len(messages) <= 3


def test_recommendation_step_by_step_in_english(rest):
    who = new()
    assert "What kind of product" in texts(say(rest, who, "can you recommend something for me"))
    assert "budget" in texts(say(rest, who, "lighting"))
    picks = texts(say(rest, who, "below 300 yuan"))
    assert "1. Kids' Night Light, 89 yuan; within your 300 yuan budget" in picks and "Eye-Care Desk Lamp" in picks
    reply = texts(say(rest, who, "for my son to do homework"))  # who it is for refines the picks
    assert "1. Eye-Care Desk Lamp, 249 yuan; within your 300 yuan budget" in reply


def test_no_match_offers_the_closest_and_says_what_it_relaxes(rest):
    who = new()
    reply = texts(say(rest, who, "recommend a sofa under 100 yuan"))
    assert "The closest option is this one, 2599 yuan over budget" in reply and "Nordic Fabric Sofa, 2699 yuan" in reply


def test_promotions_valid_today_with_conditions(rest, shop):
    assert [p["name"]["zh"] for p in shop.promotions] == [name for name, *_ in PROMOTIONS]  # the table is current
    day = today()
    reply = texts(say(rest, new(), "最近有什么优惠活动吗"))
    valid = [(name, condition) for name, condition, first, last in PROMOTIONS if first <= day <= last]
    for name, condition, *_ in PROMOTIONS:
        if (name, condition) in valid:
            assert name in reply and condition in reply, (day, name)
        else:
            assert name not in reply, (day, name)
    if not valid:
        assert NO_PROMOTIONS_ZH in reply, (day, reply)


def test_bargaining_twice_stays_consistent_and_invents_nothing(rest, shop):
    who = new()
    first = texts(say(rest, who, "能便宜点不 亲"))
    assert "所有顾客看到的都是同一个价格，客服也没有权限单独改价" in first and "现在可以用上的优惠" in first
    second = texts(say(rest, who, "再便宜点嘛 少50行不行"))  # said differently, the same position
    assert "我确实没办法单独改价" in second and "付款后7天内降价可以申请退差价" in second
    for reply in (first, second):
        assert "50元" not in reply.replace("减50元", "")  # the customer's own number is never granted


def test_bargaining_in_english(rest, shop):
    reply = texts(say(rest, new(), "can you give me a discount if i order the coffee pot now"))
    assert "Every customer sees the same price, and we can't change it for one order" in reply
    assert "Coffee Pot + Grinder Bundle" in reply  # the offer for what they are buying comes first
    assert not CJK.search(reply.replace("申请售后", "").replace("领券", ""))

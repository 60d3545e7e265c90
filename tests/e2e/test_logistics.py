"""Orders and logistics through the real bot over HTTP, in both languages."""

import uuid

import pytest
import yaml

from bot import settings
from bot.shop.store import Order, Ticket
from tests.support.voice import CJK

# The shop's prescribed courier disclaimer (seed 003 §5), as the domain says it.
_DOMAIN = yaml.safe_load((settings.ROOT / "bot" / "domain.yml").read_text(encoding="utf-8"))
DISCLAIMER = {
    ("zh" if not v.get("condition") else "en"): v["text"] for v in _DOMAIN["responses"]["utter_courier_disclaimer"]
}

ASK_DIGITS = {"zh": "请告诉我下单手机号的后4位", "en": "please tell me the last 4 digits of the phone number"}
ASK_ADDRESS = {"zh": "请把新的收货地址完整发给我", "en": "please send me the full new delivery address"}


def chat(rest, who, message):
    """One customer message; the bot's replies to it, joined. Every test checks every turn."""
    return "\n".join(rest.texts(who, message))


def new():
    return f"order-{uuid.uuid4().hex[:10]}"


def test_status_needs_the_phone_digits_first(rest, shop):
    who = new()
    first = chat(rest, who, "我的订单SO20261101到哪了")
    assert "后4位" in first and "75361248097531" not in first and "天河" not in first
    reply = chat(rest, who, "4608")
    assert "中通" in reply and "75361248097531" in reply and "广州转运中心" in reply
    assert "天河北路" not in reply and "13857214608" not in reply  # never the address or the phone


def test_status_in_english(rest):
    who = new()
    assert "last 4 digits" in chat(rest, who, "where is my order SO20261107")
    reply = chat(rest, who, "3054")
    assert "China Post EMS" in reply and "1178093456128" in reply and not CJK.search(reply)


def test_missing_then_bad_then_unknown_order_id(rest):
    """Digits that are no order id are said to be none; an unknown order is answered like
    a real one (the digits are asked), so nobody learns which order ids exist."""
    who = new()
    assert "SO开头加8位数字" in chat(rest, who, "帮我查下订单")
    bad = chat(rest, who, "12345")
    assert "“12345”不是我们的订单号" in bad and "SO开头加8位数字" in bad
    assert ASK_DIGITS["zh"] in chat(rest, who, "SO99999999")
    assert "手机号后4位与订单信息不一致" in chat(rest, who, "1234")


def test_wrong_digit_answers_lock_the_order(rest):
    """VERIFY_MAX_FAILURES (5) misses lock the order: the right digits then show nothing."""
    who = new()
    assert ASK_DIGITS["en"] in chat(rest, who, "check order SO20261113 please")
    for attempt in ("1111", "2222", "3333", "4444"):
        assert "those digits don't match the phone number on the order" in chat(rest, who, attempt)
    locked = chat(rest, who, "5555")
    assert "can't be looked up here for the next 60 minutes" in locked and "SF1432087654219" not in locked
    again = chat(rest, who, "where is SO20261113")
    assert "can't be looked up here" in again
    assert "SF1432087654219" not in chat(rest, who, "6621")


@pytest.mark.parametrize(
    "order_id,last4,expected",
    [
        ("SO20261104", "2019", "还未付款"),
        ("SO20261106", "6470", "仓库正在备货"),
        ("SO20261105", "8853", "正在派送中"),
        ("SO20261103", "7726", "出现了延误"),
        ("SO20261102", "8341", "签收"),
        ("SO20261110", "0495", "已办理退货"),
        ("SO20261111", "7736", "已经取消"),
    ],
)
def test_each_order_state(rest, order_id, last4, expected):
    who = new()
    assert ASK_DIGITS["zh"] in chat(rest, who, f"查一下订单{order_id}")
    assert expected in chat(rest, who, last4)


def test_delay_gives_facts_then_the_disclaimer_then_urges_the_courier(rest, shop, bot_store):
    who = new()
    assert ASK_DIGITS["zh"] in chat(rest, who, "SO20261101 咋还没到啊 都好几天了")
    reply = chat(rest, who, "尾号4608")
    disclaimer = DISCLAIMER["zh"]
    assert reply.index("75361248097531") < reply.index(disclaimer) < reply.index("催件")
    with bot_store.session() as session:
        assert session.query(Ticket).filter_by(conversation_id=who, kind="urge_courier").count() == 1


def test_overdue_delivery_moves_to_the_complaint_path(rest, shop, bot_store):
    """Past the courier's promised days: the facts with the disclaimer, the apology with the
    ticket and our position, the remedy question: three messages."""
    who = new()
    assert ASK_DIGITS["en"] in chat(rest, who, "my parcel SO20261108 is so late, it's been two weeks")
    replies = rest.texts(who, "0267")
    assert len(replies) <= 3, replies
    reply = "\n".join(replies)
    assert DISCLAIMER["en"] in reply and "past China Post EMS's promised delivery time" in reply
    assert (
        "I've logged a delivery complaint" in reply
        and "Under our after-sales policy, here is what we can do for you" in reply
    )
    with bot_store.session() as session:
        assert session.query(Ticket).filter_by(conversation_id=who, kind="delivery_complaint").count() == 1


def test_hurried_buyer_gets_sf_with_the_exact_surcharge(rest, shop):
    sf = shop.courier_table["sf"]["zones"]["standard"]
    reply = chat(rest, new(), "I need it by friday, how long does shipping to chengdu take")
    assert "ZTO Express" in reply and "SF Express" in reply and f"{sf['surcharge']} yuan surcharge" in reply
    assert DISCLAIMER["en"] in reply


def test_sf_asked_by_name(rest, shop):
    sf = shop.courier_table["sf"]["zones"]["standard"]
    reply = chat(rest, new(), "发广州的话SF能到吗 几天")
    assert "顺丰速运可以送到广东" in reply and f"{sf['surcharge']}元" in reply


def test_remote_region_gets_ems_and_the_reason(rest, shop):
    reply = chat(rest, new(), "发新疆乌鲁木齐几天能到")
    assert "新疆属于偏远地区" in reply and "默认发中国邮政EMS" in reply and "5-10天" in reply
    assert "需补运费差价25元" in reply and "只有邮政能送到乡镇" in reply and "我们不从中赚钱" in reply


def test_no_delivery_to_unserved_regions(rest):
    assert "暂不支持配送到香港" in chat(rest, new(), "能寄到香港吗")


def test_address_change_before_shipping_is_confirmed_then_saved(rest, bot_store):
    who = new()
    assert ASK_DIGITS["zh"] in chat(rest, who, "订单SO20261106地址填错了 要改一下")
    assert ASK_ADDRESS["zh"] in chat(rest, who, "6470")
    confirm = chat(rest, who, "浙江省杭州市西湖区文三路100号 张三 13800000000")
    assert "请您确认新的收货地址：浙江省杭州市西湖区文三路100号" in confirm
    assert "已为订单SO20261106改好收货地址" in chat(rest, who, "对的")
    with bot_store.session() as session:
        assert "文三路100号" in session.get(Order, "SO20261106").address["detail"]


def test_address_change_to_a_remote_region_names_the_courier(rest):
    who = new()
    assert ASK_DIGITS["en"] in chat(rest, who, "I need to change the shipping address of SO20261114")
    assert ASK_ADDRESS["en"] in chat(rest, who, "7704")
    confirm = chat(rest, who, "No. 8 Beijing Road, Urumqi, Xinjiang, Li Wei 13900000000")
    assert "remote region" in confirm and "China Post EMS" in confirm
    assert "haven't changed anything" in chat(rest, who, "no")


def test_address_change_after_shipping_is_explained(rest):
    who = new()
    assert ASK_DIGITS["zh"] in chat(rest, who, "帮我改一下SO20261101的收货地址")
    assert "已经发出" in chat(rest, who, "4608")


def test_cancel_allowed_with_confirmation(rest, bot_store):
    who = new()
    assert ASK_DIGITS["en"] in chat(rest, who, "cancel my order SO20261120")
    assert "shall I cancel order SO20261120" in chat(rest, who, "5590")
    assert "Order SO20261120 is cancelled" in chat(rest, who, "yes please")
    with bot_store.session() as session:
        assert session.get(Order, "SO20261120").status == "cancelled"


def test_cancel_declined_keeps_the_order(rest, bot_store):
    who = new()
    assert ASK_DIGITS["zh"] in chat(rest, who, "订单SO20261123不想要了 取消吧")
    assert "请确认：要取消订单SO20261123吗？" in chat(rest, who, "6630")
    assert "没有取消" in chat(rest, who, "算了不取消了")
    with bot_store.session() as session:
        assert session.get(Order, "SO20261123").status == "paid"


def test_cancel_refused_after_shipping_explains_the_return_route(rest, shop):
    who = new()
    assert ASK_DIGITS["zh"] in chat(rest, who, "取消订单SO20261105")
    reply = chat(rest, who, "8853")
    assert "无法直接取消" in reply and f"{shop.policies['returns']['no_reason_days']}天无理由退货" in reply

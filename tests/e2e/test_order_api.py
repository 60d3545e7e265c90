"""The HTTP order source against a local stand-in over real HTTP, and what the customer
hears when it fails (the action in-process, its order API a real HTTP server)."""

import asyncio

import pytest

from bot.actions.logistics import ValidateOrderForm
from bot.shop.orders import HttpOrderSource, OrderSourceUnavailable
from tests.support.order_api_standin import OrderApiStandIn

ORDER = {
    "id": "SO20260001",
    "status": "in_transit",
    "phone": "13912345678",
    "customer_name": "王芳",
    "address": {"region": "jiangsu", "city": "南京", "detail": "鼓楼区中山路1号"},
    "courier": "zto",
    "tracking_no": "75300000000001",
    "items": [{"product": "electric-kettle", "qty": 1}],
    "created_at": "2026-11-20T08:00:00Z",
    "paid_at": "2026-11-20T08:05:00Z",
    "shipped_at": "2026-11-21T10:00:00Z",
    "delivered_at": None,
    "scans": [],
}


@pytest.fixture
def api():
    with OrderApiStandIn({"SO20260001": dict(ORDER)}) as standin:
        yield standin


def test_reads_updates_and_cancels(api):
    source = HttpOrderSource(api.url)
    order = source.get("SO20260001")
    assert order.status == "in_transit" and order.phone_matches("5678") and not order.phone_matches("1234")
    assert order.shipped_at.day == 21
    source.update_address("SO20260001", {"region": "zhejiang", "detail": "杭州"})
    assert source.get("SO20260001").address["detail"] == "杭州"
    source.cancel("SO20260001")
    assert source.get("SO20260001").status == "cancelled"
    assert source.get("SO20269999") is None


def test_5xx_and_timeouts_raise_a_clear_error(api):
    api.mode = "error"
    with pytest.raises(OrderSourceUnavailable, match="500"):
        HttpOrderSource(api.url).get("SO20260001")
    api.mode = "slow"
    api.stall_seconds = 1.5
    with pytest.raises(OrderSourceUnavailable):
        HttpOrderSource(api.url, timeout=0.3).get("SO20260001")


@pytest.mark.parametrize("mode", ["error", "slow"])
def test_customer_gets_an_apology_and_a_human_option(api, mode, monkeypatch, tracker, dispatcher, test_store):
    """The order is looked up once the phone digits are given: a failing API is an apology
    (with the way to after-sales), the order flow stops, and no attempt is counted."""
    api.mode, api.stall_seconds = mode, 1.5
    monkeypatch.setenv("ORDER_API_URL", api.url)
    monkeypatch.setenv("ORDER_API_TIMEOUT", "0.3")
    asking = tracker("5678", intent="inform", slots={"order_id": "SO20260001", "requested_slot": "phone_last4"})
    slots = asyncio.run(ValidateOrderForm().validate_phone_last4("5678", dispatcher, asking, {}))
    assert slots == {"phone_last4": None, "order_flow_stopped": True}
    assert [m["response"] for m in dispatcher.messages] == ["utter_order_source_down"]


def test_the_bot_uses_the_api_when_configured(api, monkeypatch, tracker, dispatcher, test_store):
    monkeypatch.setenv("ORDER_API_URL", api.url)
    asking = tracker("5678", intent="inform", slots={"order_id": "SO20260001", "requested_slot": "phone_last4"})
    slots = asyncio.run(ValidateOrderForm().validate_phone_last4("5678", dispatcher, asking, {}))
    assert slots == {"phone_last4": "5678", "verified_order": "SO20260001"}
    assert api.requests == ["GET /orders/SO20260001"]


# -- the real bot with ORDER_API_URL -------------------------------------------------------


@pytest.fixture(scope="module")
def shop_api():
    """The stand-in for the whole module: the bot below reads its orders from it."""
    with OrderApiStandIn({"SO20260001": dict(ORDER)}) as standin:
        yield standin


@pytest.fixture(scope="module")
def api_bot(bot_factory, shop_api):
    return bot_factory.started_bot("order-api", ORDER_API_URL=shop_api.url, ORDER_API_TIMEOUT="0.5")


def test_the_running_bot_reads_orders_from_the_api(api_bot, shop_api):
    from tests.support.rest import RestClient

    rest, who = RestClient.of(api_bot), "order-api-status"
    shop_api.mode = "ok"
    assert "请告诉我下单手机号的后4位" in "\n".join(rest.texts(who, "我的订单SO20260001到哪了"))
    reply = "\n".join(rest.texts(who, "5678"))
    assert "75300000000001" in reply and "中通" in reply
    assert "鼓楼区中山路1号" not in reply and "13912345678" not in reply  # never the address or the phone
    assert "GET /orders/SO20260001" in shop_api.requests


def test_the_running_bot_apologises_when_the_api_fails(api_bot, shop_api):
    from tests.support.rest import RestClient

    rest = RestClient.of(api_bot)
    for mode in ("error", "slow"):
        shop_api.mode, shop_api.stall_seconds = mode, 1.5
        who = f"order-api-{mode}"
        try:
            asked = "\n".join(rest.texts(who, "where is my order SO20260001"))
            reply = "\n".join(rest.texts(who, "5678"))
        finally:
            shop_api.mode = "ok"
        assert "last 4 digits" in asked and shop_api.requests.count("GET /orders/SO20260001") >= 1
        assert "our order system isn't responding right now" in reply, (mode, reply)  # utter_order_source_down

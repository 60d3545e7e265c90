"""Hand-off through WeChat (issue 6, "Hand-off through WeChat"), over real HTTP.

A WeChat customer asks for a person; while the bot is paused their messages reach the
agent, and until an agent claims the conversation the bot only acknowledges them; the
agent, logged into the console with its CSRF token, claims the conversation and replies;
the reply reaches the customer through the stand-in's customer-service API; a closed
48-hour window (45015) is reported to the agent; ending the hand-off brings the bot back,
whose rating question goes out through the same API.

A bot of this module with WeChat in safe mode against the local WeChat stand-in, and
the agent console.
"""

from __future__ import annotations

import json
import re
from typing import Any, Dict, List, Optional, Tuple

import pytest

from bot.channels.console import MESSAGES
from tests.support.bots import store_of
from tests.support.rest import RestClient
from tests.support.waiting import wait_until
from tests.support.web import Http, handoff_ticket
from tests.support.wechat import bot_env, openid, pusher
from tests.support.wechat_standin import Delivery, WeChatPusher, WeChatServer

QUEUED_ZH = "正在为您转接人工客服"  # utter_handoff_queued
BACK_ZH = "人工客服已经结束了本次服务"  # utter_handoff_back
RATING_ZH = "想请您为本次服务打个分（1-5分"  # utter_ask_rating
WAITING_ZH = "您的消息已收到，客服同事接入后会马上回复您"  # utter_handoff_waiting
TURN_TIMEOUT = 15.0


@pytest.fixture(scope="module")
def bot(bot_factory, wechat_api: WeChatServer) -> Any:
    handoff_bot = bot_factory.started_bot("wechat-handoff", **bot_env(wechat_api.base, "safe"))
    RestClient.of(handoff_bot).texts("warm-up", "你好")  # the first turn of a fresh server is the slowest
    return handoff_bot


@pytest.fixture(scope="module")
def wechat(bot: Any) -> WeChatPusher:
    return pusher(bot, "safe")


def bot_events_since(bot: Any, who: str, count: int) -> List[Dict[str, Any]]:
    """The conversation's bot messages after its first `count` events."""
    return [e for e in RestClient.of(bot).tracker(who)["events"][count:] if e["event"] == "bot"]


def turn(wechat: WeChatPusher, api: WeChatServer, bot: Any, who: str, text: str) -> Tuple[Delivery, List[str]]:
    """One customer message: WeChat's delivery and what reached the customer for it, in
    order (the passive reply, then customer-service messages), once the bot's turn is
    done (its message is in the tracker) and every message it said has arrived."""
    rest = RestClient.of(bot)
    users_before = len(rest.user_texts(who))
    sent_before = len(api.messages_to(who))
    delivery = wechat.text(who, text)
    assert delivery.status == 200, (delivery.status, delivery.body)
    passive = [delivery.text] if delivery.text else []

    def arrived() -> Optional[Tuple[List[str]]]:
        events = rest.tracker(who)["events"]
        users = [i for i, e in enumerate(events) if e["event"] == "user"]
        if len(users) <= users_before:
            return None  # the turn is not saved yet
        said = [e for e in events[users[-1] :] if e["event"] == "bot"]
        received = passive + api.messages_to(who)[sent_before:]
        return (received,) if len(received) >= len(said) else None

    (received,) = wait_until(arrived, TURN_TIMEOUT, interval=0.1, message=f"the answer to {text!r} did not arrive")
    return delivery, received


class Console:
    """The agent console over HTTP, logged in as the browser is (session cookie + CSRF token)."""

    def __init__(self, bot: Any) -> None:
        self.http = Http(bot.url)
        self.csrf = self.http.login()

    def tickets(self) -> List[Dict[str, Any]]:
        status, _, raw = self.http.request("GET", "/agent/api/tickets")
        assert status == 200, status
        return json.loads(raw)["tickets"]

    def ticket(self, ticket_id: int) -> Optional[Dict[str, Any]]:
        return next((t for t in self.tickets() if t["id"] == ticket_id), None)

    def post(self, ticket_id: int, verb: str, body: Optional[Dict[str, Any]] = None) -> Tuple[int, Any]:
        return self.http.post_json(f"/agent/api/tickets/{ticket_id}/{verb}", body or {}, csrf=self.csrf)


def handed_off(wechat: WeChatPusher, api: WeChatServer, bot: Any, who: str) -> Tuple[List[str], Any]:
    """The customer asks for a person on WeChat: what they got, and the hand-off ticket."""
    _, answer = turn(wechat, api, bot, who, "转人工")
    return answer, handoff_ticket(bot, who)


def test_handoff_through_wechat_agent_reply_reaches_the_user(bot, wechat, wechat_api):
    who = openid()

    # 1. The customer asks for a person: told an agent is coming, a WeChat ticket, the bot paused.
    answer, ticket = handed_off(wechat, wechat_api, bot, who)
    assert len(answer) == 1 and QUEUED_ZH in answer[0], answer
    assert (ticket.kind, ticket.channel, ticket.conversation_id, ticket.status, ticket.language) == (
        "handoff",
        "wechat",
        who,
        "waiting",
        "zh",
    )
    assert RestClient.of(bot).tracker(who)["paused"] is True
    sent = wechat_api.messages_to(who)  # what the customer-service API has delivered so far

    # 2. The customer writes again: it reaches the conversation (the agent sees it); until an
    # agent claims it the bot only acknowledges, in the passive reply (bot/handoff_waiting.py).
    waiting = "我买的衣柜门板是坏的，麻烦尽快处理"
    delivery, answer = turn(wechat, wechat_api, bot, who, waiting)
    assert len(answer) == 1 and WAITING_ZH in answer[0] and delivery.text == answer[0], answer
    assert wechat_api.messages_to(who) == sent
    assert RestClient.of(bot).user_texts(who) == ["转人工", waiting]
    console = Console(bot)
    shown = console.ticket(ticket.id)
    assert shown is not None and shown["channel"] == "wechat" and shown["paused"] is True
    customer, acknowledged = shown["transcript"][-2:]  # the message, then the bot's acknowledgement
    assert (customer["sender"], customer["text"]) == ("customer", waiting)
    assert acknowledged["sender"] == "bot" and WAITING_ZH in acknowledged["text"]

    # 3. The agent claims and replies: the customer gets exactly that text through the API.
    assert console.post(ticket.id, "claim") == (200, {"ok": True})
    reply = "您好，我是人工客服小王，非常抱歉门板有损坏，请问您的订单号是多少？"
    assert console.post(ticket.id, "reply", {"text": reply}) == (200, {"ok": True})
    assert wechat_api.messages_to(who) == sent + [reply]  # sent before the console answered
    assert wechat_api.attempts_to(who)[-1]["message"] == {"touser": who, "msgtype": "text", "text": {"content": reply}}
    last = console.ticket(ticket.id)["transcript"][-1]
    assert (last["sender"], last["text"], last["agent"]) == ("agent", reply, "agent")
    sent = wechat_api.messages_to(who)

    # 4. WeChat refuses (45015, 48 hours without a customer message): the agent is told,
    # in both languages; the customer gets nothing and the transcript does not claim it was sent.
    wechat_api.window_closed.add(who)
    late = "请问您还在吗？方便的话把订单号发给我。"
    status, body = console.post(ticket.id, "reply", {"text": late})
    assert (status, body) == (409, {"error": MESSAGES["window_closed"]})
    assert "48" in body["error"] and "微信" in body["error"] and "WeChat" in body["error"]
    assert wechat_api.attempts_to(who)[-1]["errcode"] == 45015
    assert wechat_api.messages_to(who) == sent
    assert late not in [line["text"] for line in console.ticket(ticket.id)["transcript"]]
    # The customer writing again is what reopens the window; the agent's retry goes through.
    wechat_api.window_closed.discard(who)
    delivery, answer = turn(wechat, wechat_api, bot, who, "在的，订单号稍后发您")
    assert delivery.reply is None and answer == []
    assert console.post(ticket.id, "reply", {"text": late}) == (200, {"ok": True})
    assert wechat_api.messages_to(who) == sent + [late]
    sent = wechat_api.messages_to(who)

    # 5. The agent ends the hand-off: the bot is back and its rating question reaches the
    # customer through the customer-service API (there is no HTTP request to answer).
    events_before_end = len(RestClient.of(bot).tracker(who)["events"])
    assert console.post(ticket.id, "end") == (200, {"ok": True})
    said = wait_until(
        lambda: bot_events_since(bot, who, events_before_end),
        TURN_TIMEOUT,
        message="the bot said nothing after the hand-off ended",
    )
    after = wait_until(
        lambda: len(wechat_api.messages_to(who)) >= len(sent) + len(said) and wechat_api.messages_to(who)[len(sent) :],
        TURN_TIMEOUT,
    )
    assert len(said) == 2 and len(after) == 2, (said, after)
    assert BACK_ZH in after[0]
    assert after[1].startswith(RATING_ZH), after[1]
    assert RestClient.of(bot).tracker(who)["paused"] is False
    closed = store_of(bot).tickets(id=ticket.id)[0]
    assert (closed.status, closed.agent) == ("closed", "agent") and closed.closed_at is not None
    assert console.ticket(ticket.id) is None  # no longer in the console's queue


def test_wechat_customer_can_answer_the_rating_question(bot, wechat, wechat_api):
    """WeChat has no buttons: the options arrive as numbered lines and the customer types.
    The number in front of a line must be the score it stands for, and a typed score is taken."""
    from bot.shop.store import Rating

    who = openid()
    _, ticket = handed_off(wechat, wechat_api, bot, who)
    console = Console(bot)
    assert console.post(ticket.id, "claim") == (200, {"ok": True})
    before = len(wechat_api.messages_to(who))
    assert console.post(ticket.id, "end") == (200, {"ok": True})
    question = wechat_api.wait_for_messages(who, before + 2)[-1]
    assert question.startswith(RATING_ZH), question
    options = re.findall(r"^(\d+)\. (⭐+)$", question, flags=re.M)
    assert len(options) == 5, question
    assert all(int(number) == len(stars) for number, stars in options), question

    delivery, answer = turn(wechat, wechat_api, bot, who, "5")
    assert answer and "5分" in answer[0], answer
    with store_of(bot).session() as session:
        scores = [r.score for r in session.query(Rating).filter(Rating.conversation_id == who)]
    assert scores == [5]

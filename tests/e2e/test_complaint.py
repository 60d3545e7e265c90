"""The complaint sequence and the hand-off through the real bot over HTTP."""

import uuid

import pytest

from bot.shop.store import Ticket


def new():
    return f"complaint-{uuid.uuid4().hex[:10]}"


def turn(rest, who, text):
    return rest.send(who, text)


def texts(messages):
    return [m.get("text", "") for m in messages]


CASES = [
    # (category, first message, order given when asked, chosen remedy, language)
    ("quality", "我买的保温电咖啡壶不保温了 质量太差", "SO20261102", "exchange", "zh"),
    ("wrong_item", "you sent me the wrong colour, i ordered pink", "SO20261117", "reship", "en"),
    ("missing_item", "收到的学习桌少发了一个配件", "SO20261112", "reship", "zh"),
    ("transport_damage", "the lamp arrived broken, the shade is smashed", "SO20261122", "return_refund", "en"),
]


@pytest.mark.parametrize("category,first,order_id,remedy,language", CASES)
def test_five_steps_in_order(rest, shop, bot_store, category, first, order_id, remedy, language):
    who = new()
    rule = next(p for p in shop.policies["complaint_policies"] if p["category"] == category)
    step1 = texts(turn(rest, who, first))
    appease = "非常抱歉" if language == "zh" else "truly sorry"
    assert appease in step1[0] and len(step1) == 2  # 1. appease; 2. the missing detail: the order
    assert "SO" in step1[1]
    step3 = turn(rest, who, order_id)
    assert rule["position"][language] in step3[0]["text"]  # 3. our position from policies.yml
    offered = {b["payload"] for b in step3[1]["buttons"]}
    assert offered == {f'/inform{{"remedy": "{r}"}}' for r in rule["remedies"]} | {'/inform{"remedy": "rejected"}'}
    step4 = texts(turn(rest, who, f'/inform{{"remedy": "{remedy}"}}'))
    remedy_name = next(r for r in shop.policies["remedies"] if r["id"] == remedy)["name"][language]
    assert remedy_name in step4[0]  # 4. resolved: the remedy carried out as a ticket
    assert ("真诚地向您道歉" if language == "zh" else "sincerely apologise") in step4[1]  # 5. apology
    with bot_store.session() as session:
        ticket = session.query(Ticket).filter_by(conversation_id=who, kind=remedy).one()
        assert ticket.order_id == order_id and ticket.category == category


def test_category_asked_when_unclear_and_no_order_for_service_attitude(rest, shop):
    who = new()
    first = turn(rest, who, "我对这次购物体验很不满意")
    assert len(first[1]["buttons"]) == 7  # what happened? (only what is missing)
    second = turn(rest, who, '/inform{"complaint_category": "service_attitude"}')
    rule = next(p for p in shop.policies["complaint_policies"] if p["category"] == "service_attitude")
    assert rule["position"]["zh"] in second[0]["text"]  # no order id asked for an attitude complaint


def test_delay_complaint_via_the_category_buttons(rest, shop):
    who = new()
    assert len(turn(rest, who, "i want to make a complaint about my order")[1]["buttons"]) == 7
    assert "order number" in texts(turn(rest, who, '/inform{"complaint_category": "delay"}'))[0]
    reply = texts(turn(rest, who, "SO20261103"))
    rule = next(p for p in shop.policies["complaint_policies"] if p["category"] == "delay")
    assert rule["position"]["en"] in reply[0]


def test_rejected_remedies_hand_off_with_a_ticket_and_pause(rest, bot_store):
    who = new()
    turn(rest, who, "the kettle I got is faulty, it stopped working")
    turn(rest, who, "SO20261117")
    handed = " ".join(texts(turn(rest, who, "none of these are acceptable")))
    assert "connecting you with a human agent" in handed and "number" in handed
    assert rest.tracker(who)["paused"] is True
    with bot_store.session() as session:
        ticket = session.query(Ticket).filter_by(conversation_id=who, kind="handoff").one()
    assert ticket.status == "waiting" and ticket.reason == "remedies rejected" and ticket.order_id == "SO20261117"
    assert ticket.category == "quality" and "exchange" in ticket.remedies and ticket.transcript


def test_very_upset_customer_goes_to_a_person_at_once(rest, bot_store):
    who = new()
    reply = " ".join(texts(turn(rest, who, "你们这什么破东西 我要去12315投诉你们")))
    assert "非常抱歉" in reply and "转接人工客服" in reply
    assert rest.tracker(who)["paused"] is True


def test_handoff_on_request_then_the_bot_only_acknowledges(rest, bot_store):
    who = new()
    turn(rest, who, "我的订单SO20261101到哪了")
    queued = " ".join(texts(turn(rest, who, "转人工")))
    assert "前面还有" in queued and "预计等待约" in queued and "不用再重复说明" in queued
    # The agent sees it; until an agent claims the hand-off the bot only acknowledges it.
    [waiting] = texts(turn(rest, who, "还在吗 怎么没人回"))
    assert "您的消息已收到" in waiting and "您现在排在第" in waiting
    events = rest.tracker(who)["events"]
    assert any(e.get("event") == "user" and e.get("text") == "还在吗 怎么没人回" for e in events)
    with bot_store.session() as session:
        ticket = session.query(Ticket).filter_by(conversation_id=who, kind="handoff").one()
    assert ticket.reason == "customer asked" and ticket.order_id == "SO20261101" and ticket.language == "zh"
    assert "last message: 转人工" in ticket.summary


def test_yes_to_the_offer_of_a_human_hands_off(rest):
    who = new()
    turn(rest, who, "what is the capital of mongolia")
    assert "human agent" in " ".join(texts(turn(rest, who, "tell me a joke about cats")))
    assert "queue" in " ".join(texts(turn(rest, who, "yes please")))


def test_agent_ends_the_handoff_then_the_bot_asks_for_a_rating(rest, bot_store):
    from bot.shop.store import Rating

    who = new()
    assert "queue" in " ".join(texts(turn(rest, who, "i want to talk to a real person")))
    rest.append_events(who, [{"event": "resume"}])
    reply = rest.trigger_intent(who, "EXTERNAL_handoff_ended")
    said = " ".join(m.get("text", "") for m in reply["messages"])
    assert "back to assist you" in said and "rate our service" in said
    closing = " ".join(texts(turn(rest, who, '/inform{"rating": 4}')))
    assert "rating of 4" in closing and "Goodbye" in closing
    with bot_store.session() as session:
        assert session.query(Rating).filter_by(conversation_id=who).one().score == 4


def test_asking_for_a_person_while_a_form_asks_something_hands_off(rest):
    who = new()
    turn(rest, who, "我买的咖啡壶不保温了 质量太差")  # the complaint form now asks for the order
    assert "转接人工客服" in " ".join(texts(turn(rest, who, "转人工")))
    assert rest.tracker(who)["paused"] is True

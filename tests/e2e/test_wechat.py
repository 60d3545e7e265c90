"""The WeChat channel against a local WeChat stand-in, over real HTTP, with the real bot.

Three bots of this module (action server + Rasa server each), one per message mode. The
safe-mode bot reaches its action server through `SlowActions`, a forwarding proxy whose
delay the tests set: that is how a turn becomes slower than the passive-reply window
(2.5 s here) without any sleep in the product code.
"""

from __future__ import annotations

import threading
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Dict, Iterator, List

import pytest

from bot import settings
from bot.channels.wechat import BUSY_NOTE, NON_TEXT_NOTE
from bot.channels.wechat_api import CustomerServiceAPI, ReplyWindowClosed, WeChatAPIError
from tests.support.rest import RestClient
from tests.support.voice import CJK, FORBIDDEN
from tests.support.waiting import holds_for
from tests.support.wechat import AES_KEY, APP_ID, APP_SECRET, GREETING_EN, GREETING_ZH, TOKEN, bot_env, openid, pusher
from tests.support.wechat_standin import WeChatPusher, sign

PASSIVE_TIMEOUT = 2.5  # short, to keep the tests quick; room for a busy test machine
SLOW = 2.0  # per action call: a new conversation makes two (session start + greeting) > PASSIVE_TIMEOUT
MODES = ("compatible", "plain", "safe")


class SlowActions:
    """Between a Rasa server and its action server: forwards each call after `delay` seconds."""

    def __init__(self, target: str) -> None:
        self.target = target
        self.delay = 0.0
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                time.sleep(proxy.delay)
                # The Rasa server's secret goes on to the action server (issue 12).
                headers = {"Content-Type": "application/json", "Authorization": self.headers.get("Authorization", "")}
                request = urllib.request.Request(proxy.target + self.path, data=body, method="POST", headers=headers)
                try:
                    with urllib.request.urlopen(request, timeout=30) as answer:
                        status, raw = answer.status, answer.read()
                except urllib.error.HTTPError as error:
                    status, raw = error.code, error.read()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

            def log_message(self, *args: Any) -> None:
                pass

        self.http = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.http.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.http.server_address[1]}"
        threading.Thread(target=self.http.serve_forever, daemon=True).start()

    @contextmanager
    def slowed(self, delay: float) -> Iterator[None]:
        self.delay = delay
        try:
            yield
        finally:
            self.delay = 0.0


@pytest.fixture(scope="module")
def slow_actions() -> Iterator["SlowActions"]:
    proxy = SlowActions("")  # its target: the safe-mode bot's action server, once that bot exists
    yield proxy
    proxy.http.shutdown()


@pytest.fixture(scope="module")
def bots(bot_factory, wechat_api, slow_actions) -> Dict[str, Any]:
    started = {mode: bot_factory.new(f"wechat-{mode}", **bot_env(wechat_api.base, mode)) for mode in MODES}
    # The safe-mode bot calls its action server through the slowing proxy.
    started["safe"].extra_env.update(
        WECHAT_PASSIVE_TIMEOUT=str(PASSIVE_TIMEOUT), ACTION_ENDPOINT_URL=f"{slow_actions.url}/webhook"
    )
    bot_factory.start(*started.values())
    slow_actions.target = started["safe"].actions_url
    for bot in started.values():  # the first turn of a fresh server is the slowest
        rest_texts(bot, "warm-up", "你好")
    return started


@pytest.fixture(scope="module")
def safe(bots) -> WeChatPusher:
    return pusher(bots["safe"], "safe")


def user_texts(bot: Any, who: str) -> List[str]:
    """What reached the bot from this OpenID (the Rasa HTTP API's view of the conversation)."""
    return RestClient.of(bot).user_texts(who)


def rest_texts(bot: Any, who: str, text: str) -> List[str]:
    """The same bot's answer through the REST channel: what WeChat must deliver, in order."""
    return [reply for reply in RestClient.of(bot).texts(who, text) if reply]


@pytest.mark.parametrize("texts", [NON_TEXT_NOTE, BUSY_NOTE], ids=["non-text", "busy"])
def test_the_channels_own_texts_are_bilingual_and_courteous(texts):
    assert CJK.search(texts["zh"]) and not CJK.search(texts["en"])
    for text in texts.values():
        assert not any(phrase.lower() in text.lower() for phrase in FORBIDDEN)
        assert "抱歉" in text or "sorry" in text.lower()


# -- URL verification and modes ----------------------------------------------------------
@pytest.mark.parametrize("mode", MODES)
def test_url_verification_echoes_echostr(bots, mode):
    wechat = pusher(bots[mode], mode)
    assert wechat.verify_url("7419523184012353541") == (200, "7419523184012353541")
    assert wechat.verify_url("1234", token="not-the-token")[0] == 403
    assert wechat.verify_url("1234", timestamp=int(time.time()) - 3600)[0] == 403


def test_safe_mode_conversation_is_encrypted_both_ways(bots, safe):
    who = openid()
    query, body = safe.signed(safe.message_xml(who, "text", {"Content": "你好"}))
    assert "你好" not in body and query["encrypt_type"] == "aes"
    status, raw = safe.post_once(query, body)
    assert status == 200 and "<Encrypt>" in raw and "您好" not in raw
    reply = safe.read_reply(raw, query)  # verifies msg_signature and decrypts, as WeChat does
    assert reply["Content"] == GREETING_ZH
    assert reply["ToUserName"] == who and reply["FromUserName"] == safe.account


def test_safe_mode_refuses_plaintext(bots, safe):
    who = openid()
    delivery = safe.push(safe.message_xml(who, "text", {"Content": "你好"}), mode="plain")
    assert delivery.status == 403
    assert user_texts(bots["safe"], who) == []


def test_compatible_mode_takes_plaintext_and_encrypted(bots):
    wechat = pusher(bots["compatible"], "compatible")
    who = openid()
    encrypted = wechat.text(who, "你好")
    assert encrypted.status == 200 and "<Encrypt>" in encrypted.body and encrypted.text == GREETING_ZH
    plain = wechat.push(wechat.message_xml(who, "text", {"Content": "hello"}), mode="plain")
    assert plain.status == 200 and "<Encrypt>" not in plain.body and plain.text == GREETING_EN
    assert user_texts(bots["compatible"], who) == ["你好", "hello"]


def test_plain_mode_conversation(bots):
    wechat = pusher(bots["plain"], "plain")
    who = openid()
    delivery = wechat.text(who, "你好")
    assert delivery.status == 200 and delivery.text == GREETING_ZH and "<Encrypt>" not in delivery.body
    # An encrypted message means the account and the server disagree about the mode.
    encrypted = pusher(bots["compatible"], "compatible")
    encrypted.url = wechat.url
    assert encrypted.text(who, "hello").status == 400
    assert user_texts(bots["plain"], who) == ["你好"]


def test_unconfigured_channel_answers_503(running_bot):
    if settings.get("WECHAT_TOKEN"):
        pytest.skip("WECHAT_TOKEN is set in this environment")
    wechat = WeChatPusher(f"{running_bot.url}/webhooks/wechat/webhook", "", APP_ID, "", "plain")
    assert wechat.verify_url("123")[0] == 503
    assert wechat.text(openid(), "你好").status == 503


# -- conversations -----------------------------------------------------------------------
def test_chinese_conversation(bots, safe, shop):
    who = openid()
    assert safe.text(who, "你好").text == GREETING_ZH
    assert shop.info["invoice"]["zh"] in safe.text(who, "能开发票吗").text
    assert "不是真人" in safe.text(who, "你是机器人吗").text
    # The sender is the OpenID: one conversation across messages.
    assert user_texts(bots["safe"], who) == ["你好", "能开发票吗", "你是机器人吗"]


def test_markup_typed_by_the_customer_is_just_text(bots, safe):
    who = openid()
    answer = safe.text(who, "<!DOCTYPE html><!-- hi --> ]]> &amp; 你好").text
    assert answer  # answered by the bot, not refused as hostile XML
    assert user_texts(bots["safe"], who) == ["<!DOCTYPE html><!-- hi --> ]]> &amp; 你好"]


def test_english_conversation(bots, safe, shop):
    who = openid()
    assert safe.text(who, "hello").text == GREETING_EN
    answer = safe.text(who, "how do i return this, i want a refund").text
    assert str(shop.policies["returns"]["no_reason_days"]) in answer
    assert "not a person" in safe.text(who, "am i talking to a bot").text
    assert len(user_texts(bots["safe"], who)) == 3


def test_subscribe_gets_the_greeting(bots, safe):
    who = openid()
    delivery = safe.event(who, "subscribe")
    assert delivery.status == 200 and delivery.text == GREETING_ZH


def test_voice_with_wechat_recognition_is_read_as_text(bots, safe):
    who = openid()
    xml = safe.message_xml(who, "voice", {"MediaId": "m1", "Format": "amr", "Recognition": "hello"})
    assert safe.push(xml).text == GREETING_EN


# -- non-text messages -------------------------------------------------------------------
NON_TEXT = {
    "image": {"PicUrl": "http://mmbiz.qpic.cn/x.jpg", "MediaId": "m1"},
    "voice": {"MediaId": "m2", "Format": "amr"},
    "video": {"MediaId": "m3", "ThumbMediaId": "t3"},
    "shortvideo": {"MediaId": "m4", "ThumbMediaId": "t4"},
    "location": {"Location_X": "23.134521", "Location_Y": "113.358803", "Scale": "20", "Label": "广州"},
    "link": {"Title": "安家优品", "Description": "d", "Url": "https://example.com/a"},
    "hologram": {"Whatever": "a message type WeChat may add one day"},
}


@pytest.mark.parametrize("kind", sorted(NON_TEXT))
def test_non_text_gets_a_polite_note_and_an_offer_of_a_human(bots, safe, kind):
    who = openid()
    note = safe.push(safe.message_xml(who, kind, NON_TEXT[kind])).text
    # A new customer: both languages; the bot itself never saw the message.
    assert NON_TEXT_NOTE["zh"] in note and NON_TEXT_NOTE["en"] in note
    assert "转人工" in note and "human agent" in note
    assert user_texts(bots["safe"], who) == []


def test_non_text_note_follows_the_conversation_language(bots, safe):
    who = openid()
    safe.text(who, "hello")
    assert safe.push(safe.message_xml(who, "image", NON_TEXT["image"])).text == NON_TEXT_NOTE["en"]


def test_events_without_an_answer_get_success(bots, safe):
    who, created = openid(), int(time.time())
    for second, event in enumerate(("unsubscribe", "CLICK", "some_future_event")):
        delivery = safe.event(who, event, create_time=created + second)
        assert delivery.status == 200 and delivery.body == "success"


# -- timing, retries and duplicates ------------------------------------------------------
def test_slow_answer_is_delivered_through_the_api_exactly_once_despite_retries(bots, wechat_api, slow_actions):
    """Every attempt times out (WeChat's 5 s scaled to 1 s), so the API delivers the answer."""
    wechat = pusher(bots["safe"], "safe", timeout=1.0, retries=3)
    who = openid()
    # A new conversation makes two action calls (session start, greeting): 2 x 2.5 s.
    with slow_actions.slowed(2.5):
        delivery = wechat.text(who, "你好", msg_id="900000000000000001")
        assert delivery.attempts == 4 and delivery.timeouts == 4
        assert wechat_api.wait_for_messages(who, 1) == [GREETING_ZH]
    # A late duplicate changes nothing.
    assert wechat.text(who, "你好", msg_id="900000000000000001").body == "success"
    holds_for(lambda: wechat_api.messages_to(who) == [GREETING_ZH], 0.5, message="a duplicate was answered")
    assert user_texts(bots["safe"], who) == ["你好"]


def test_slow_answer_missing_the_window_is_success_then_the_api(bots, safe, wechat_api, slow_actions):
    who = openid()
    with slow_actions.slowed(SLOW):
        delivery = safe.text(who, "hello")
        assert delivery.status == 200 and delivery.body == "success" and delivery.attempts == 1
        assert PASSIVE_TIMEOUT <= delivery.seconds[0] < PASSIVE_TIMEOUT + 1
        assert wechat_api.wait_for_messages(who, 1) == [GREETING_EN]


def test_retry_while_processing_joins_the_run_and_gets_the_passive_answer(bots, wechat_api, slow_actions):
    wechat = pusher(bots["safe"], "safe", timeout=1.0, retries=3)
    who = openid()
    with slow_actions.slowed(1.2):  # done after ~2.4 s: during the third attempt
        delivery = wechat.text(who, "你好")
    assert delivery.timeouts >= 1 and delivery.text == GREETING_ZH
    holds_for(lambda: wechat_api.messages_to(who) == [], 0.5, message="answered through the API as well")
    assert user_texts(bots["safe"], who) == ["你好"]


def test_duplicate_msg_id_is_processed_once(bots, safe, wechat_api):
    who = openid()
    first = safe.text(who, "你好", msg_id="900000000000000002")
    again = safe.text(who, "你好", msg_id="900000000000000002")
    assert first.text == GREETING_ZH and again.body == "success"
    assert user_texts(bots["safe"], who) == ["你好"]
    assert wechat_api.messages_to(who) == []


def test_simultaneous_duplicates_start_one_run_and_answer_once(bots, safe, wechat_api):
    who = openid()
    xml = safe.message_xml(who, "text", {"Content": "hello"})
    with ThreadPoolExecutor(4) as pool:
        deliveries = list(pool.map(lambda _: safe.push(xml), range(4)))
    texts = [d.text for d in deliveries if d.text]
    assert texts == [GREETING_EN] and sum(d.body == "success" for d in deliveries) == 3
    assert user_texts(bots["safe"], who) == ["hello"]
    assert wechat_api.messages_to(who) == []


def test_duplicate_event_is_processed_once(bots, safe):
    who = openid()
    created = int(time.time())
    assert safe.event(who, "subscribe", create_time=created).text == GREETING_ZH
    assert safe.event(who, "subscribe", create_time=created).body == "success"
    assert len(user_texts(bots["safe"], who)) == 1


SEVERAL_MESSAGES = "发新疆乌鲁木齐几天能到"  # EMS for a remote region + the courier disclaimer


def test_several_messages_first_passive_then_the_api_in_order(bots, wechat_api):
    wechat = pusher(bots["compatible"], "compatible")
    expected = rest_texts(bots["compatible"], "rest-" + openid(), SEVERAL_MESSAGES)
    assert len(expected) >= 2, f"the bot answers {SEVERAL_MESSAGES!r} with one message: pick another"
    who = openid()
    delivery = wechat.text(who, SEVERAL_MESSAGES)
    assert delivery.text == expected[0]
    assert wechat_api.wait_for_messages(who, len(expected) - 1) == expected[1:]
    holds_for(lambda: wechat_api.messages_to(who) == expected[1:], 0.3, message="more messages than the turn has")


def test_several_messages_of_a_slow_turn_all_go_through_the_api_in_order(bots, safe, wechat_api, slow_actions):
    expected = rest_texts(bots["safe"], "rest-" + openid(), SEVERAL_MESSAGES)
    who = openid()
    with slow_actions.slowed(SLOW):
        assert safe.text(who, SEVERAL_MESSAGES).body == "success"
        assert wechat_api.wait_for_messages(who, len(expected)) == expected


# -- refusals ----------------------------------------------------------------------------
def test_forged_signature_is_refused_and_reaches_nobody(bots, safe):
    who = openid()
    delivery = safe.push(safe.message_xml(who, "text", {"Content": "你好"}), token="guessed-token")
    assert delivery.status == 403 and delivery.attempts == 1
    assert user_texts(bots["safe"], who) == []


def test_forged_msg_signature_is_refused(bots, safe):
    who = openid()
    query, body = safe.signed(safe.message_xml(who, "text", {"Content": "你好"}))
    query["msg_signature"] = sign("guessed-token", query["timestamp"], query["nonce"], "x")
    assert safe.post_once(query, body)[0] == 403
    assert user_texts(bots["safe"], who) == []


def test_message_encrypted_for_another_account_is_refused(bots):
    who = openid()
    other = WeChatPusher(f"{bots['safe'].url}/webhooks/wechat/webhook", TOKEN, "wxanotheraccount0", AES_KEY, "safe")
    assert other.text(who, "你好").status == 403
    assert user_texts(bots["safe"], who) == []


@pytest.mark.parametrize("skew", [-301, 301, -86400])
def test_timestamp_outside_the_window_is_refused(bots, safe, skew):
    who = openid()
    delivery = safe.push(safe.message_xml(who, "text", {"Content": "你好"}), timestamp=int(time.time()) + skew)
    assert delivery.status == 403
    assert user_texts(bots["safe"], who) == []


BILLION_LAUGHS = (
    '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
    + "".join(f'<!ENTITY lol{i} "{("&lol%s;" % (i - 1 or "")) * 10}">' for i in range(1, 10))
    + "]><xml><ToUserName><![CDATA[gh_anjiahome01]]></ToUserName><FromUserName><![CDATA[{who}]]>"
    "</FromUserName><CreateTime>1</CreateTime><MsgType><![CDATA[text]]></MsgType>"
    "<Content>&lol9;</Content><MsgId>1</MsgId></xml>"
)
EXTERNAL_ENTITY = (
    '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><xml>'
    "<FromUserName><![CDATA[{who}]]></FromUserName><MsgType><![CDATA[text]]></MsgType>"
    "<Content>&e;</Content><MsgId>2</MsgId></xml>"
)


@pytest.mark.parametrize("mode", ["plain", "safe"])
@pytest.mark.parametrize("body", ["bomb", "external", "huge", "garbage", "not-utf8", "empty", "no-sender"])
def test_malformed_or_hostile_xml_is_400_and_the_bot_keeps_serving(bots, mode, body):
    wechat = pusher(bots[mode], mode)
    who = openid()
    xml = {
        "bomb": BILLION_LAUGHS.replace("{who}", who),
        "external": EXTERNAL_ENTITY.replace("{who}", who),
        "huge": wechat.message_xml(who, "text", {"Content": "衣柜" * 40_000}),
        "garbage": "<xml><Content>unclosed",
        "not-utf8": "<xml><Content>\udcff</Content></xml>",
        "empty": "",
        "no-sender": "<xml><MsgType><![CDATA[text]]></MsgType><Content>hi</Content><MsgId>3</MsgId></xml>",
    }[body]
    if body == "not-utf8":
        query, _ = wechat.signed("<xml/>", mode="plain")
        status, _ = wechat.post_once(query, b"<xml><Content>\xff\xfe</Content></xml>")
    elif mode == "plain" or body == "huge":
        query, raw = wechat.signed("<xml/>", mode="plain")
        status, _ = wechat.post_once(query, xml)  # a valid signature: only the body is wrong
    else:
        status = wechat.push(xml).status  # hostile XML inside a correctly encrypted message
    assert status == 400
    assert user_texts(bots[mode], who) == []
    assert wechat.text(openid(), "你好").text == GREETING_ZH


# -- the customer-service API ------------------------------------------------------------
def test_expired_token_mid_send_is_refreshed_once_and_the_send_retried(bots, safe, wechat_api, slow_actions):
    warm_up, who = openid(), openid()
    with slow_actions.slowed(SLOW):
        assert safe.text(warm_up, "你好").body == "success"  # the bot now holds a token
        assert wechat_api.wait_for_messages(warm_up, 1) == [GREETING_ZH]
        assert safe.text(who, "你好").body == "success"
        wechat_api.expire_tokens()  # expires while the bot is still thinking
        fetches = wechat_api.token_fetches
        assert wechat_api.wait_for_messages(who, 1) == [GREETING_ZH]
    codes = [a["errcode"] for a in wechat_api.attempts_to(who)]
    assert codes == [42001, 0]
    assert wechat_api.token_fetches == fetches + 1


def test_token_rejected_again_after_refresh_is_given_up_after_one_retry(bots, safe, wechat_api, slow_actions):
    who = openid()
    wechat_api.always_invalid_token = True
    try:
        with slow_actions.slowed(SLOW):
            assert safe.text(who, "你好").body == "success"
            assert len(wechat_api.wait_for_attempts(who, 2)) == 2
            holds_for(lambda: len(wechat_api.attempts_to(who)) == 2, 0.5, message="a third attempt")
    finally:
        wechat_api.always_invalid_token = False
    codes = [a["errcode"] for a in wechat_api.attempts_to(who)]
    assert codes == [40001, 40001]  # refreshed once, retried once, then logged and dropped
    assert wechat_api.messages_to(who) == []
    assert safe.text(openid(), "hello").text == GREETING_EN  # the channel keeps working


def test_48_hour_window_error_is_not_shown_to_the_customer(bots, safe, wechat_api, slow_actions):
    who = openid()
    wechat_api.window_closed.add(who)
    with slow_actions.slowed(SLOW):
        assert safe.text(who, "你好").body == "success"
        assert len(wechat_api.wait_for_attempts(who, 1)) == 1
        holds_for(lambda: len(wechat_api.attempts_to(who)) == 1, 0.5, message="retried after 45015")
    codes = [a["errcode"] for a in wechat_api.attempts_to(who)]
    assert codes == [45015]  # not retried: only the customer writing again reopens the window
    assert wechat_api.messages_to(who) == []


def test_rasa_pushes_to_a_wechat_customer_through_the_api(bots, wechat_api):
    """What the agent console and Rasa's API use: the channel's output through message/custom/send."""
    wechat = pusher(bots["compatible"], "compatible")
    who = openid()
    assert wechat.text(who, "hello").text == GREETING_EN
    RestClient.of(bots["compatible"]).trigger_intent(who, "greet", output_channel="latest")
    assert wechat_api.wait_for_messages(who, 1) == [GREETING_EN]


def test_token_is_cached_and_shared(wechat_api):
    api = CustomerServiceAPI(APP_ID, APP_SECRET, wechat_api.base)
    before = wechat_api.token_fetches
    who = openid()
    with ThreadPoolExecutor(4) as pool:
        list(pool.map(lambda i: api.send_text(who, f"第{i}条"), range(8)))
    assert wechat_api.token_fetches == before + 1
    assert sorted(wechat_api.messages_to(who)) == sorted(f"第{i}条" for i in range(8))


def test_send_text_for_the_console_reports_the_48_hour_window(wechat_api, monkeypatch):
    from bot.channels.wechat_api import send_text

    monkeypatch.setenv("WECHAT_APP_ID", APP_ID)
    monkeypatch.setenv("WECHAT_APP_SECRET", APP_SECRET)
    monkeypatch.setenv("WECHAT_API_BASE", wechat_api.base)
    who = openid()
    send_text(who, "您好，我是人工客服小李。")
    assert wechat_api.messages_to(who) == ["您好，我是人工客服小李。"]
    wechat_api.window_closed.add(who)
    with pytest.raises(ReplyWindowClosed) as closed:
        send_text(who, "还在吗？")
    assert closed.value.errcode == 45015
    monkeypatch.setenv("WECHAT_APP_SECRET", "wrong-secret")
    with pytest.raises(WeChatAPIError) as refused:
        send_text(openid(), "x")
    assert refused.value.errcode == 40125 and not isinstance(refused.value, ReplyWindowClosed)

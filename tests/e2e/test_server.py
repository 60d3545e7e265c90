"""The real bot over real HTTP: greetings, language following, fallback, bad input, the
SQLite tracker store."""

import sqlite3
import uuid

import pytest

from tests.support import responses
from tests.support.voice import CJK


def sender():
    return f"test-{uuid.uuid4().hex[:10]}"


def joined(texts):
    return "\n".join(texts)


def test_greets_in_chinese(rest):
    reply = joined(rest.texts(sender(), "你好"))
    assert "您好，我是客服小安，很高兴为您服务，请问有什么可以帮您？😊" in reply


def test_greets_in_english(rest):
    reply = joined(rest.texts(sender(), "hello"))
    assert "Hello, I'm Ann from customer service, happy to help. What can I do for you? 😊" in reply


def test_reply_language_follows_the_latest_message(rest):
    who = sender()
    assert CJK.search(joined(rest.texts(who, "在吗")))
    english = joined(rest.texts(who, "thanks a lot"))
    assert english and not CJK.search(english)
    assert CJK.search(joined(rest.texts(who, "谢谢亲")))


def test_language_neutral_message_keeps_the_conversation_language(rest):
    who = sender()
    rest.texts(who, "hi there")
    reply = joined(rest.texts(who, "👍👍"))
    assert reply and not CJK.search(reply)


def test_bot_challenge_is_answered_honestly(rest):
    assert "不是真人" in joined(rest.texts(sender(), "你是机器人吗"))
    assert "not a person" in joined(rest.texts(sender(), "am i talking to a bot"))


def test_second_miss_in_a_row_offers_a_human(rest):
    who = sender()
    first = joined(rest.texts(who, "what's the weather like on mars tomorrow"))
    assert "human" not in first.lower()
    second = joined(rest.texts(who, "tell me a joke about penguins"))
    assert "human agent" in second


def test_answers_from_shop_policy(rest, shop):
    reply = joined(rest.texts(sender(), "能开发票吗"))
    assert shop.info["invoice"]["zh"] in reply
    reply = joined(rest.texts(sender(), "how do i return this, i want a refund"))
    assert str(shop.policies["returns"]["no_reason_days"]) in reply


def test_conversations_are_kept_in_the_sqlite_tracker_store(rest, running_bot):
    who = sender()
    rest.texts(who, "你好")
    with sqlite3.connect(running_bot.tracker_db) as db:
        rows = db.execute("select count(*) from events where sender_id = ?", (who,)).fetchone()[0]
    assert rows > 0


def test_what_the_server_saved_is_what_rasa_reads(rest, running_bot):
    """The cached tracker store (bot/patches.py) writes what Rasa's own SQL store reads back."""
    import asyncio

    from rasa.core.tracker_store import SQLTrackerStore
    from rasa.shared.core.domain import Domain

    from bot.settings import ROOT

    who = sender()
    for message in ("你好", "能开发票吗", "thanks a lot"):
        assert rest.texts(who, message)
    served = rest.tracker(who)["events"]
    # Rasa's store reads back the latest session: from its session_started event on.
    served = served[max(i for i, e in enumerate(served) if e["event"] == "session_started") :]
    store = SQLTrackerStore(
        domain=Domain.load(str(ROOT / "bot" / "domain.yml")), dialect="sqlite", db=str(running_bot.tracker_db)
    )
    stored = [event.as_dict() for event in asyncio.run(store.retrieve(who)).events]
    assert [(e["event"], e.get("name"), e.get("text")) for e in stored] == [
        (e["event"], e.get("name"), e.get("text")) for e in served
    ]
    assert [e.get("text") for e in stored if e["event"] == "user"] == ["你好", "能开发票吗", "thanks a lot"]


BAD_INPUTS = {
    "empty": "",
    "whitespace": "   \n\t ",
    "huge": "衣柜" * 10000,
    "emoji": "😀😀😀🎉",
    "control": "\x00\x01\x07\x1b[31m",
    "html": "<script>alert('x')</script><img src=x onerror=alert(1)>",
    "sql": "'; DROP TABLE events; --",
    "mixed": "hello 你好 SO20261101 ¥500",
}


# What each bad input must get: a response of the domain that fits it (written here, not
# derived from the bot), in the language of the message (Chinese when it has none).
EXPECTED_FOR_BAD_INPUT = {
    "empty": ({"utter_empty_message"}, "zh"),
    "whitespace": ({"utter_empty_message"}, "zh"),
    "emoji": ({"utter_empty_message"}, "zh"),
    "control": ({"utter_empty_message"}, "zh"),  # control characters carry no text
    "html": ({"utter_empty_message", "utter_fallback_rephrase"}, "zh"),  # markup, not a request
    "sql": ({"utter_fallback_rephrase", "utter_out_of_scope"}, "en"),
    "huge": ({"utter_fallback_rephrase", "utter_out_of_scope"}, "zh"),
    "mixed": ({"utter_greet"}, "zh"),
}


def test_every_bad_input_has_an_expectation():
    assert set(EXPECTED_FOR_BAD_INPUT) == set(BAD_INPUTS)


@pytest.mark.parametrize("kind", sorted(BAD_INPUTS))
def test_bad_input_gets_a_polite_answer(rest, kind):
    replies = rest.texts(sender(), BAD_INPUTS[kind])
    expected, language = EXPECTED_FOR_BAD_INPUT[kind]
    assert len(replies) == 1, responses.describe(replies)
    assert responses.names(replies[0], language) & expected, (kind, responses.describe(replies))


def test_bad_input_answers_in_the_conversation_language(rest):
    who = sender()
    rest.texts(who, "good morning")
    for message in ("   ", "😀"):
        replies = rest.texts(who, message)
        assert replies, f"no answer to {message!r}"
        for reply in replies:
            assert not CJK.search(reply) and responses.names(reply, "en"), (message, responses.describe(replies))


@pytest.mark.parametrize(
    "body",
    [
        b"{not json",
        b"",
        b"[]",
        b'{"sender": ["x"], "message": "hi"}',
        b'{"sender": "a", "message": 5}',
        b'{"message": "hi"}',
    ],
)
def test_malformed_bodies_get_a_clear_4xx(rest, body):
    status, raw = rest.post_raw("/webhooks/rest/webhook", body)
    assert 400 <= status < 500, (status, raw[:200])


def test_server_keeps_serving_after_bad_input(rest):
    rest.post_raw("/webhooks/rest/webhook", b"{not json")
    assert "您好" in joined(rest.texts(sender(), "你好"))


def test_channel_metadata_presets_the_language(rest):
    """A page in English presets English even before the customer writes a word of it."""
    reply = rest.send(sender(), "👋", metadata={"language": "en"})
    text = joined(m.get("text", "") for m in reply)
    assert text and not CJK.search(text)

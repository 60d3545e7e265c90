from bot.nlu.language import detect as detect_with
from tests.support.understanding import neutral


def detect(text):
    return detect_with(text, neutral())


def test_chinese_and_mixed_messages_are_chinese():
    assert detect("你好") == "zh"
    assert detect("SF能到吗") == "zh"
    assert detect("这个wardrobe多高") == "zh"


def test_english_messages_are_english():
    assert detect("hello") == "en"
    assert detect("where is my order SO20261101") == "en"


def test_messages_without_a_language_signal_keep_the_conversation_language():
    for text in ("", "   ", "SO20261101", "1234", "👍👍", "ok", "SF", "\x00\x07", "???"):
        assert detect(text) is None, text


def test_mostly_english_with_a_chinese_name_is_english():
    assert detect("can i pay with 花呗") == "en"
    assert detect("is the 儿童衣柜 in stock") == "en"
    assert detect("hello在吗") == "zh" and detect("我想买air fryer") == "zh"


def test_markup_is_not_language():
    assert detect("<b></b>") is None and detect("<script>alert(1)</script>") is None
    assert detect("<p>where is my order</p>") == "en"

from bot.nlu.language import detect


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

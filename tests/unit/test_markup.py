"""What in a message is not words (bot/nlu/markup.py) is blanked, keeping offsets."""

import pytest

from bot.nlu.markup import readable


@pytest.mark.parametrize(
    "text",
    [
        "<script>alert('x')</script><img src=x onerror=alert(1)>",
        "<STYLE>body{color:red}</style>",
        "\x00\x01\x07\x1b[31m\x1b[0m",
        "&nbsp;&#160;&#x3000;",
        "<script>never closed",
    ],
)
def test_nothing_readable_is_left(text):
    assert readable(text).strip() == ""
    assert len(readable(text)) == len(text)


def test_words_keep_their_place():
    text = "<b>SO20261101</b> 到哪了&amp;"
    kept = readable(text)
    assert len(kept) == len(text)
    assert kept.index("SO20261101") == text.index("SO20261101")
    assert kept.split() == ["SO20261101", "到哪了"]

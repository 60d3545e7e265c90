import pytest

from bot.nlu.numbers import chinese_to_int, parse_amount


@pytest.mark.parametrize(
    "text,value",
    [
        ("五", 5),
        ("十五", 15),
        ("三十", 30),
        ("五百", 500),
        ("两千五", 2500),
        ("一千五百", 1500),
        ("一万二", 12000),
        ("八百八十八", 888),
    ],
)
def test_chinese_numerals(text, value):
    assert chinese_to_int(text) == value


@pytest.mark.parametrize(
    "text,value",
    [
        ("500", 500),
        ("1.5万", 15000),
        ("3k", 3000),
        ("2千", 2000),
        ("五百", 500),
        ("eight", 8),
    ],
)
def test_amounts(text, value):
    assert parse_amount(text) == value


def test_not_a_number():
    assert parse_amount("衣柜") is None
    assert chinese_to_int("") is None

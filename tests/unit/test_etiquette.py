"""The shop's voice (seeds 002 and 003), checked over every response in the domain."""

import re

import pytest
import yaml

from bot import settings
from tests.support.voice import CJK, FORBIDDEN

DOMAIN = yaml.safe_load((settings.ROOT / "bot" / "domain.yml").read_text(encoding="utf-8"))
RESPONSES = DOMAIN["responses"]
PLACEHOLDER = re.compile(r"{(\w+)}")


def variants(name):
    zh = [v for v in RESPONSES[name] if not v.get("condition")]
    en = [
        v for v in RESPONSES[name] if {"type": "slot", "name": "language", "value": "en"} in (v.get("condition") or [])
    ]
    return zh, en


@pytest.mark.parametrize("name", sorted(RESPONSES))
def test_every_response_has_a_chinese_and_an_english_variant(name):
    zh, en = variants(name)
    assert zh, f"{name} has no Chinese (default) variant"
    assert en, f"{name} has no English variant (condition language=en)"
    for variant in zh:
        assert CJK.search(variant["text"]), f"{name}: default variant is not Chinese"
    for variant in en:
        assert not CJK.search(variant["text"]), f"{name}: English variant contains Chinese"
    # Both languages fill the same values, so one action serves both.
    zh_slots = {p for v in zh for p in PLACEHOLDER.findall(v["text"])}
    en_slots = {p for v in en for p in PLACEHOLDER.findall(v["text"])}
    assert zh_slots == en_slots, f"{name}: placeholders differ {zh_slots} vs {en_slots}"


@pytest.mark.parametrize("name", sorted(RESPONSES))
def test_no_forbidden_phrasing_and_no_one_word_answers(name):
    for variant in RESPONSES[name]:
        text = variant["text"]
        lowered = text.lower()
        for phrase in FORBIDDEN:
            assert phrase.lower() not in lowered, f"{name}: forbidden phrase {phrase!r}"
        if CJK.search(text):
            assert len(PLACEHOLDER.sub("", text)) >= 10, f"{name}: too short to be courteous"
        else:
            assert len(text.split()) >= 5, f"{name}: too short to be courteous"


def test_greeting_follows_the_formula():
    """Seed 003 §1: self-introduction with the agent's name, glad to serve, how can I help, smiley."""
    zh, en = variants("utter_greet")
    for phrase in ("您好", "我是客服{agent_name}", "很高兴为您服务", "请问有什么可以帮您", "😊"):
        assert phrase in zh[0]["text"]
    for phrase in ("Hello", "I'm {agent_name}", "happy to help", "What can I do for you", "😊"):
        assert phrase in en[0]["text"]


def test_valediction_thanks_and_points_to_after_sales():
    zh, en = variants("utter_goodbye")
    assert "感谢" in zh[0]["text"] and "{after_sales}" in zh[0]["text"]
    assert "Thank you" in en[0]["text"] and "{after_sales}" in en[0]["text"]


def test_forbidden_list_catches_the_seed_phrases():
    """The check itself must be able to fail."""
    bad = "好的，慢慢等着吧"
    assert any(p in bad for p in FORBIDDEN)


def bilingual_texts(value, where=""):
    """Every {zh, en} text in a piece of shop data, with where it is."""
    if isinstance(value, dict):
        if set(value) >= {"zh", "en"} and all(isinstance(value[k], (str, list)) for k in ("zh", "en")):
            yield where, value["zh"], value["en"]
        for key, item in value.items():
            if key not in ("zh", "en"):
                yield from bilingual_texts(item, f"{where}.{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from bilingual_texts(item, f"{where}[{index}]")


QUOTED = re.compile(r"「[^」]*」|“[^”]*”|\"[^\"]*\"")


@pytest.mark.parametrize("name", ["shop", "catalog", "promotions", "couriers", "policies"])
def test_texts_in_the_shop_data_keep_the_shop_voice(name):
    """What the bot says from the shop data, too: Chinese and English, no forbidden phrase."""
    data = yaml.safe_load((settings.ROOT / "bot" / "shop" / "data" / f"{name}.yml").read_text(encoding="utf-8"))
    checked = 0
    for where, zh, en in bilingual_texts(data):
        for text in zh if isinstance(zh, list) else [zh]:
            assert not any(p.lower() in text.lower() for p in FORBIDDEN), f"{name}{where}: {text!r}"
        for text in en if isinstance(en, list) else [en]:
            assert not any(p.lower() in text.lower() for p in FORBIDDEN), f"{name}{where}: {text!r}"
            assert not CJK.search(QUOTED.sub("", text)), f"{name}{where}: Chinese in English text {text!r}"
        checked += 1
    assert checked > 5


@pytest.mark.parametrize("name", ["utter_order_shipped_overdue"])
def test_the_courier_disclaimer_keeps_the_shops_words_where_it_is_repeated(name):
    """Seed 003 §5: a response that carries the disclaimer inside it says it word for word."""
    for (disclaimer, *_), (variant, *_) in zip(variants("utter_courier_disclaimer"), variants(name), strict=True):
        assert disclaimer["text"] in variant["text"]

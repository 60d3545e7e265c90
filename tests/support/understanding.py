"""The rule-based half of the NLU, without a trained model: the entities and the
language the bot's pipeline finds in a text (bot.nlu.entities, bot.nlu.language), built
from the shop data. Action tests use it so their trackers carry what the real NLU sends."""

from __future__ import annotations

from functools import lru_cache
from typing import Any, Dict, List

from bot.nlu.entities import ShopMatcher
from bot.nlu.language import detect
from bot.shop.loader import load_shop
from bot.shop.vocabulary import cues, language_neutral, terms


@lru_cache(maxsize=1)
def matcher() -> ShopMatcher:
    shop = load_shop()
    return ShopMatcher([t._asdict() for t in terms(shop) if t.label != "brand"], cues(shop))


@lru_cache(maxsize=1)
def neutral() -> frozenset:
    return frozenset(language_neutral(load_shop()))


def entities(text: str) -> List[Dict[str, Any]]:
    """The entities of `text`, with the `language` entity first as the pipeline sends it."""
    found = matcher().match(text)
    language = detect(text, neutral())
    if language:
        found = [{"entity": "language", "value": language, "start": 0, "end": len(text)}] + found
    return found


def values(text: str, entity: str) -> List[Any]:
    return [e["value"] for e in entities(text) if e["entity"] == entity]

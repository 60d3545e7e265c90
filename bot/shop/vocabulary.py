"""The words customers use for the shop's things and for what they ask, from the shop data.

Names (products, categories, couriers, regions, brands) come from the catalog and the
courier table; everything else (attributes, needs, colours, complaint words, urgency, …)
from vocabulary.yml. One list feeds both the jieba user dictionary (so names stay whole)
and the spaCy entity patterns (so words resolve to ids).
"""

from __future__ import annotations

from typing import Any, Dict, Iterator, List, NamedTuple

from bot.shop.loader import PLACEHOLDER, Shop

NAME_LABELS = ("product", "category", "courier", "region")


class Term(NamedTuple):
    label: str  # entity name: product, category, courier, region, attribute, need, … (brand: segmentation only)
    text: str  # what the customer types; "{n}" stands for a number
    value: str  # the id it resolves to


def _names(item: Dict[str, Any]) -> Iterator[str]:
    for lang in ("zh", "en"):
        name = (item.get("name") or {}).get(lang)
        if name:
            yield name
        aliases = item.get("aliases") or {}
        if isinstance(aliases, dict):
            yield from aliases.get(lang) or []
        else:  # couriers list their aliases without languages
            yield from aliases


def name_terms(shop: Shop) -> List[Term]:
    found: List[Term] = []
    groups = (
        ("product", shop.products.values()),
        ("category", shop.categories.values()),
        ("courier", shop.courier_table.values()),
        ("region", shop.regions.values()),
        ("brand", shop.brands.values()),
    )
    for label, items in groups:
        for item in items:
            for text in _names(item):
                text = str(text).strip()
                if text:
                    found.append(Term(label, text, item["id"]))
    return sorted(set(found))


def vocabulary_terms(shop: Shop) -> List[Term]:
    found = [
        Term(entity, phrase, value)
        for entity, values in shop.vocabulary["entities"].items()
        for value, phrases in values.items()
        for language in ("zh", "en")
        for phrase in phrases[language]
    ]
    return sorted(set(found))


def terms(shop: Shop) -> List[Term]:
    """Every phrase the entity matcher knows: names, then the vocabulary."""
    return name_terms(shop) + vocabulary_terms(shop)


def vocabulary_labels(shop: Shop) -> List[str]:
    return sorted(shop.vocabulary["entities"])


def cues(shop: Shop) -> Dict[str, List[str]]:
    """Cue words of the shapes (budget, currency, quantity), both languages together."""
    return {name: list(phrases["zh"]) + list(phrases["en"]) for name, phrases in shop.vocabulary["cues"].items()}


def language_neutral(shop: Shop) -> List[str]:
    return sorted({word.lower() for word in shop.vocabulary["language_neutral"]})


def segmentation_words(shop: Shop) -> List[str]:
    """Chinese names for jieba's user dictionary (English words split on spaces anyway)."""
    return sorted(
        {
            t.text
            for t in name_terms(shop)
            if PLACEHOLDER not in t.text and any("\u4e00" <= ch <= "\u9fff" for ch in t.text)
        }
    )

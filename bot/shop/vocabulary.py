"""The words customers use for the shop's things, taken from the shop data.

One list feeds both the jieba user dictionary (so names stay whole) and the spaCy
entity patterns (so names resolve to ids).
"""
from __future__ import annotations

from typing import Any, Dict, Iterator, List, NamedTuple

from bot.shop.loader import Shop


class Term(NamedTuple):
    label: str  # entity name: product, category, courier, region (brand: segmentation only)
    text: str  # what the customer types
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


def terms(shop: Shop) -> List[Term]:
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


def segmentation_words(shop: Shop) -> List[str]:
    """Chinese terms for jieba's user dictionary (English words split on spaces anyway)."""
    return sorted({t.text for t in terms(shop) if any("\u4e00" <= ch <= "\u9fff" for ch in t.text)})

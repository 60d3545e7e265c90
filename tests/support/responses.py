"""Which of the domain's responses a text the bot sent is (the variant, with its language)."""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Dict, List, Optional, Set, Tuple

import yaml

from bot import settings

LANGUAGE_EN = {"type": "slot", "name": "language", "value": "en"}


@lru_cache(maxsize=1)
def _patterns() -> List[Tuple[str, str, "re.Pattern[str]"]]:
    domain = yaml.safe_load((settings.ROOT / "bot" / "domain.yml").read_text(encoding="utf-8"))
    patterns = []
    for name, variants in domain["responses"].items():
        for variant in variants:
            language = "en" if LANGUAGE_EN in (variant.get("condition") or []) else "zh"
            parts = re.split(r"{\w+}", variant.get("text") or "")
            patterns.append((name, language, re.compile(".+?".join(map(re.escape, parts)), re.S)))
    return patterns


def identify(text: str) -> Set[Tuple[str, str]]:
    """(response name, language) of every domain response variant that renders as `text`."""
    return {(name, language) for name, language, pattern in _patterns() if pattern.fullmatch(text.strip())}


def names(text: str, language: Optional[str] = None) -> Set[str]:
    return {name for name, lang in identify(text) if language in (None, lang)}


def describe(texts: List[str]) -> Dict[str, Set[Tuple[str, str]]]:
    """For assertion messages: what each text is."""
    return {text[:60]: identify(text) for text in texts}

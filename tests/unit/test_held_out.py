"""Test sets are held out: no test sentence is (a near copy of) a training sentence.

Runs without a trained model and without servers. Two sentences count as the same when
they are equal after `normalise`: lower case, Rasa entity markup `[text](entity)` reduced
to its text, every shop name (product, category, brand, courier, region; names and aliases
from the catalog and the courier table) replaced by one placeholder per label, every number
(digits or Chinese numerals) by one placeholder, and punctuation, spaces and emoji removed.
So "can i get it for 900" and "Can I get it for 400?" are the same sentence, and so are
"空调包安装吗" and "洗衣机包安装吗". A sentence that is nothing but a value — a bare order id,
number, product or place name ("SO20261102", "4608", "护眼台灯", "青海西宁") — has no wording to copy
and every such value would get the same key; it only counts as the same when it is the same
value ("SO20261101" == "so 20261101").

Checked:
* every sentence of every test set (tests/nlu/*.yml, tests/nlu_real/*/*.yml and the `user:`
  texts of tests/stories/*.yml) against every training sentence in bot/data/nlu/*.yml;
* no sentence is in both tests/nlu_real/dev and tests/nlu_real/test.
"""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from functools import lru_cache
from pathlib import Path
from typing import Dict, Iterable, List, Tuple

import yaml

from bot.shop.loader import PLACEHOLDER, load_shop
from bot.shop.vocabulary import name_terms

ROOT = Path(__file__).resolve().parents[2]
TRAINING = sorted((ROOT / "bot" / "data" / "nlu").glob("*.yml"))
OWN_TESTS = sorted((ROOT / "tests" / "nlu").glob("*.yml"))
REAL_DEV = sorted((ROOT / "tests" / "nlu_real" / "dev").glob("*.yml"))
REAL_TEST = sorted((ROOT / "tests" / "nlu_real" / "test").glob("*.yml"))
STORIES = sorted((ROOT / "tests" / "stories").glob("*.yml"))

# Placeholders are private-use characters, so the punctuation/emoji removal keeps them.
NUMBER = "\ue000"
ORDER_ID = "\ue006"  # SO + digits: a number with the shop's prefix
LABEL_MARK = {"product": "\ue001", "category": "\ue002", "brand": "\ue003", "courier": "\ue004", "region": "\ue005"}
PLACEHOLDERS = set(LABEL_MARK.values()) | {NUMBER, ORDER_ID}

ORDER_IDS = re.compile(r"(?<![a-z0-9])so\s*\d+")
MARKUP = re.compile(r"\[([^\[\]]+)\](?:\([^()]*\)|\{[^{}]*\})")
DIGITS = re.compile(r"\d+(?:[.,]\d+)*")
CHINESE_NUMERALS = re.compile(r"[零〇一二两三四五六七八九十百千万亿壹贰叁肆伍陆柒捌玖拾佰仟]+")


def _is_ascii_word(text: str) -> bool:
    return all(ord(ch) < 128 for ch in text)


@lru_cache(maxsize=1)
def _name_pattern() -> Tuple[re.Pattern, Dict[str, str]]:
    """One regex over every shop name, longest first; names in ASCII only match whole words."""
    label_of: Dict[str, str] = {}
    for term in name_terms(load_shop()):
        text = term.text.strip().lower()
        if not text or PLACEHOLDER in text:
            continue
        # A name listed under two labels keeps the first one (sorted: brand < category < …).
        label_of.setdefault(text, term.label)
    parts = []
    for text in sorted(label_of, key=len, reverse=True):
        body = re.escape(text).replace(r"\ ", r"\s*")
        if _is_ascii_word(text):
            body = rf"(?<![a-z0-9]){body}(?![a-z0-9])"
        parts.append(body)
    return re.compile("|".join(parts)), label_of


def normalise(text: str) -> str:
    """The comparison key of a sentence (see the module docstring)."""
    original = text
    text = MARKUP.sub(r"\1", text)
    text = unicodedata.normalize("NFKC", text).lower()
    pattern, label_of = _name_pattern()

    def name(match: re.Match) -> str:
        key = re.sub(r"\s+", " ", match.group(0))
        label = label_of.get(key) or label_of.get(match.group(0)) or "product"
        return LABEL_MARK[label]

    text = pattern.sub(name, text)
    text = ORDER_IDS.sub(ORDER_ID, text)
    text = DIGITS.sub(NUMBER, text)
    text = CHINESE_NUMERALS.sub(NUMBER, text)
    kept = "".join(ch for ch in text if ch in PLACEHOLDERS or unicodedata.category(ch)[0] in "LN")
    # Runs of one placeholder ("SO2026 1101", "一两") count as one.
    kept = re.sub("(" + "|".join(PLACEHOLDERS) + r")\1+", r"\1", kept)
    if not kept or all(ch in PLACEHOLDERS for ch in kept):
        # Nothing but a value (a bare order id, phone number, product or place name) or nothing
        # but punctuation/emoji: no wording of its own, and every such value would have the same
        # key, so these compare as written (lower case, punctuation and spaces removed).
        raw = unicodedata.normalize("NFKC", MARKUP.sub(r"\1", original)).lower()
        return "value:" + ("".join(ch for ch in raw if unicodedata.category(ch)[0] in "LN") or re.sub(r"\s+", "", raw))
    return kept


def _nlu_sentences(path: Path) -> Iterable[Tuple[str, str]]:
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    for block in data.get("nlu") or []:
        if "intent" not in block:
            continue
        for line in str(block.get("examples") or "").splitlines():
            line = line.strip()
            if line.startswith("- "):
                yield block["intent"], line[2:].strip()


def _story_sentences(path: Path) -> Iterable[Tuple[str, str]]:
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    for story in data.get("stories") or []:
        for step in story.get("steps") or []:
            if isinstance(step, dict) and "user" in step:
                text = str(step["user"]).strip()
                if text and not text.startswith("/"):  # "/inform{...}" is an intent, not text
                    yield step.get("intent", "?"), text


Entry = Tuple[str, str, str]  # (file, intent, sentence)


def _collect(paths: List[Path], reader=_nlu_sentences) -> Dict[str, List[Entry]]:
    found: Dict[str, List[Entry]] = defaultdict(list)
    for path in paths:
        for intent, text in reader(path):
            found[normalise(text)].append((str(path.relative_to(ROOT)), intent, text))
    return found


def _report(pairs: List[Tuple[Entry, Entry]], what: str) -> str:
    lines = [f"{len(pairs)} {what}:"]
    for (tfile, tintent, ttext), (ofile, ointent, otext) in pairs:
        lines.append(f"  {tfile} [{tintent}] {ttext!r}  ==  {ofile} [{ointent}] {otext!r}")
    return "\n".join(lines)


def test_normalise_treats_names_and_numbers_as_placeholders():
    assert normalise("can i get it for 900") == normalise("Can I get it for 400?")
    assert normalise("空调包安装吗") == normalise("洗衣机包安装吗？")
    assert normalise("帮我查下[SO20261101](order_id)") == normalise("帮我查下 SO20261117 !!")
    assert normalise("买三个送一个吗") == normalise("买5个送2个吗")
    assert normalise("好的👍") == normalise("好的。")
    assert normalise("is the sofa real leather") != normalise("is the sofa real wood")
    assert normalise("account") != normalise("AC count")  # names in ASCII match whole words only
    assert normalise("SO20261102") != normalise("SO20261117")  # bare values compare as written …
    assert normalise("SO20261101") == normalise("so 20261101")
    assert normalise("护眼台灯") != normalise("意式咖啡机")
    assert normalise("订单号SO20261102") == normalise("订单号SO20261117")  # … values inside wording do not


def test_no_test_sentence_is_a_training_sentence():
    training = _collect(TRAINING)
    tests = [(p, _nlu_sentences) for p in OWN_TESTS + REAL_DEV + REAL_TEST] + [(p, _story_sentences) for p in STORIES]
    pairs = []
    for path, reader in tests:
        for intent, text in reader(path):
            for other in training.get(normalise(text), [])[:1]:
                pairs.append(((str(path.relative_to(ROOT)), intent, text), other))
    assert not pairs, _report(pairs, "test sentences equal a training sentence after normalising")


def test_real_dev_and_test_share_no_sentence():
    dev = _collect(REAL_DEV)
    pairs = []
    for path in REAL_TEST:
        for intent, text in _nlu_sentences(path):
            for other in dev.get(normalise(text), [])[:1]:
                pairs.append(((str(path.relative_to(ROOT)), intent, text), other))
    assert not pairs, _report(pairs, "sentences of tests/nlu_real/test are also in tests/nlu_real/dev")

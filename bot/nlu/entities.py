"""Rule-based entities with spaCy, built from the shop data at train time.

Entities: product, category, courier, region (phrases from the catalog and courier
table), order_id (the documented shape SO + 8 digits), budget (normalised to an amount
and a currency), quantity and phone_last4 (four digits on their own). No statistical model: a blank spaCy vocabulary, a
PhraseMatcher for names and a Matcher for shapes. The phrase patterns are stored with
the model, so the served model matches what it was trained with.

Text is split into ASCII words/numbers and single other characters, so Chinese names
match inside longer runs ("白色的儿童衣柜") while English names match whole words only.
"""
from __future__ import annotations

import re
from typing import Any, Dict, List, Optional, Text, Tuple

import spacy
from spacy.matcher import Matcher, PhraseMatcher
from spacy.tokens import Doc, Span
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import ENTITIES, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.nlu.numbers import NUMERAL_TOKEN, parse_amount
from bot.nlu.shop_data import DEFAULT_SHOP_DATA, load_json, save_json, shop_for
from bot.shop.vocabulary import terms

PATTERNS_FILE = "phrases.json"
PHRASE_LABELS = ("product", "category", "courier", "region")
TOKEN = re.compile(r"[A-Za-z0-9]+(?:[.'][A-Za-z0-9]+)*|[^\sA-Za-z0-9]")

ORDER_ID = [{"TEXT": {"REGEX": r"^[Ss][Oo]\d{8}$"}}]
NUM = {"TEXT": {"REGEX": NUMERAL_TOKEN}, "OP": "+"}
EN_NUM = {"LOWER": {"IN": ["one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten"]}}
CURRENCY_BEFORE = {"LOWER": {"IN": ["$", "¥", "￥", "rmb", "usd", "cny"]}, "OP": "?"}
CURRENCY_AFTER = [{"LOWER": {"IN": ["元", "块", "rmb", "yuan", "kuai", "usd", "dollars", "dollar",
                                    "bucks", "刀", "美", "cny"]}, "OP": "?"},
                  {"LOWER": {"IN": ["钱", "金", "元"]}, "OP": "?"}]
BOUND_AFTER_ZH = [[{"TEXT": {"IN": ["以", "之"]}}, {"TEXT": {"IN": ["内", "下"]}}],
                  [{"TEXT": "左"}, {"TEXT": "右"}], [{"TEXT": "上"}, {"TEXT": "下"}]]
BOUND_BEFORE_ZH = [[{"TEXT": "不"}, {"TEXT": "超"}, {"TEXT": "过"}], [{"TEXT": "预"}, {"TEXT": "算"}],
                   [{"TEXT": "最"}, {"TEXT": "多"}], [{"TEXT": {"IN": ["低", "少"]}}, {"TEXT": "于"}]]
BOUND_BEFORE_EN = [[{"LOWER": {"IN": ["under", "below", "within", "max", "maximum", "around", "about",
                                      "budget", "approx", "approximately", "roughly"]}}],
                   [{"LOWER": {"IN": ["less", "cheaper", "lower"]}}, {"LOWER": "than"}],
                   [{"LOWER": "up"}, {"LOWER": "to"}], [{"LOWER": "no"}, {"LOWER": "more"}, {"LOWER": "than"}],
                   [{"LOWER": "at"}, {"LOWER": "most"}], [{"LOWER": "budget"}, {"LOWER": {"IN": ["is", "of"]}}]]
MEASURE_WORDS_ZH = ["个", "件", "台", "套", "张", "把", "只", "盏", "床", "条", "款"]
MEASURE_WORDS_EN = ["pcs", "pieces", "piece", "units", "unit", "sets", "set", "items"]
USD_WORDS = ("$", "usd", "dollar", "bucks", "刀", "美")


def split(text: str) -> List[Tuple[str, int, int]]:
    """(token, start, end) for matching; whitespace is dropped."""
    return [(m.group(), m.start(), m.end()) for m in TOKEN.finditer(text)]


def _shape_patterns() -> Dict[str, List[List[Dict[str, Any]]]]:
    budget = []
    for after in BOUND_AFTER_ZH:
        budget.append([CURRENCY_BEFORE, NUM, *CURRENCY_AFTER, *after])
    for before in BOUND_BEFORE_ZH + BOUND_BEFORE_EN:
        budget.append([*before, CURRENCY_BEFORE, NUM, *CURRENCY_AFTER])
    quantity = [[NUM, {"TEXT": {"IN": MEASURE_WORDS_ZH}}],
                [NUM, {"LOWER": {"IN": MEASURE_WORDS_EN}}],
                [EN_NUM, {"LOWER": {"IN": MEASURE_WORDS_EN}}]]
    # The last 4 digits of a phone number, as customers give them when asked.
    phone_last4 = [[{"TEXT": {"REGEX": r"^\d{4}$"}}]]
    return {"order_id": [ORDER_ID], "budget": budget, "quantity": quantity, "phone_last4": phone_last4}


def _budget_value(span: Span) -> Optional[Dict[str, Any]]:
    words = [t.text for t in span]
    numeric = [w for w in words if re.match(NUMERAL_TOKEN, w)]
    amount = parse_amount("".join(numeric))
    if amount is None:
        return None
    currency = "USD" if any(w.lower().startswith(USD_WORDS) for w in words) else "CNY"
    return {"amount": amount, "currency": currency}


def _quantity_value(span: Span) -> Optional[int]:
    amount = parse_amount("".join(t.text for t in span[:-1]))
    return int(amount) if amount and amount == int(amount) and amount < 1000 else None


class ShopMatcher:
    """The matching itself, free of Rasa so it can be tested and reused directly."""

    def __init__(self, phrases: List[Dict[str, str]]) -> None:
        self.nlp = spacy.blank("xx")
        self.phrases = phrases
        self.values: Dict[str, str] = {}
        self.phrase_matcher = PhraseMatcher(self.nlp.vocab, attr="LOWER")
        for index, phrase in enumerate(phrases):
            key = f"{phrase['label']}|{phrase['value']}"
            self.phrase_matcher.add(key, [self._doc(phrase["text"])])
        self.shape_matcher = Matcher(self.nlp.vocab)
        for label, patterns in _shape_patterns().items():
            self.shape_matcher.add(label, patterns, greedy="LONGEST")

    def _doc(self, text: str) -> Doc:
        tokens = split(text)
        words = [t for t, _, _ in tokens]
        spaces = [end < len(text) and text[end].isspace() for _, _, end in tokens]
        return Doc(self.nlp.vocab, words=words, spaces=spaces)

    def match(self, text: str) -> List[Dict[str, Any]]:
        if not text or not text.strip():
            return []
        tokens = split(text[:2000])  # names and amounts sit early; a 20k-character paste gains nothing
        if not tokens:
            return []
        doc = Doc(self.nlp.vocab, words=[t for t, _, _ in tokens])
        found: List[Tuple[str, Any, int, int]] = []
        for match_id, start, end in self.phrase_matcher(doc):
            label, value = self.nlp.vocab.strings[match_id].split("|", 1)
            found.append((label, value, start, end))
        found = _drop_nested(found)
        for match_id, start, end in self.shape_matcher(doc):
            label = self.nlp.vocab.strings[match_id]
            span = doc[start:end]
            if label == "order_id":
                value: Any = span.text.upper()
            elif label == "phone_last4":
                value = span.text
            elif label == "budget":
                value = _budget_value(span)
            else:
                value = _quantity_value(span)
            if value is not None:
                found.append((label, value, start, end))
        entities = []
        for label, value, start, end in sorted(found, key=lambda f: (f[2], f[0])):
            char_start, char_end = tokens[start][1], tokens[end - 1][2]
            entities.append({"entity": label, "value": value, "start": char_start, "end": char_end,
                             "text": text[char_start:char_end]})
        return entities


def _drop_nested(found: List[Tuple[str, Any, int, int]]) -> List[Tuple[str, Any, int, int]]:
    """Keep the longest names: a span inside a longer span of the same label, or inside
    any product name ("床" in "床头柜"), is not a separate mention. Equal spans with
    different ids are kept: the mention is ambiguous and the dialogue asks."""
    keep = []
    for item in found:
        label, _, start, end = item
        nested = any(
            (other[2] <= start and end <= other[3]) and (other[3] - other[2] > end - start)
            and (other[0] == label or other[0] == "product")
            for other in found
        )
        if not nested:
            keep.append(item)
    return list(dict.fromkeys(keep))


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR, is_trainable=True)
class ShopEntityMatcher(GraphComponent):
    """Rasa wrapper: builds phrases from the shop data, stores them, matches messages."""

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {"shop_data": DEFAULT_SHOP_DATA}

    def __init__(self, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource,
                 phrases: List[Dict[str, str]]) -> None:
        self._config = config
        self._model_storage = model_storage
        self._resource = resource
        self.matcher = ShopMatcher(phrases)

    @classmethod
    def create(cls, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource,
               execution_context: ExecutionContext) -> "ShopEntityMatcher":
        phrases = [t._asdict() for t in terms(shop_for(config)) if t.label in PHRASE_LABELS]
        return cls(config, model_storage, resource, phrases)

    @classmethod
    def load(cls, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource,
             execution_context: ExecutionContext, **kwargs: Any) -> "ShopEntityMatcher":
        phrases = load_json(model_storage, resource, PATTERNS_FILE)
        if phrases is None:
            return cls.create(config, model_storage, resource, execution_context)
        return cls(config, model_storage, resource, phrases)

    def train(self, training_data: TrainingData) -> Resource:
        save_json(self._model_storage, self._resource, PATTERNS_FILE, self.matcher.phrases)
        return self._resource

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            found = self.matcher.match(message.get(TEXT) or "")
            if found:
                for entity in found:
                    entity["extractor"] = type(self).__name__
                message.set(ENTITIES, message.get(ENTITIES, []) + found, add_to_output=True)
        return messages

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        return training_data

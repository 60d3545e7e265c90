"""Rule-based entities with spaCy, built from the shop data at train time.

Phrase entities: the shop's names (product, category, courier, region) and the customer
vocabulary of bot/shop/data/vocabulary.yml (attribute, need, colour, rank, ordinal,
correction, other_product, question, preference, complaint_category, mood, rejection,
remedy, urgency, topic), each resolving to an id. A vocabulary phrase may wrap a name:
"有{name}吗" matches "有台灯吗" (the words right around a product, category or other product).

Shape entities: address (a whole reply that reads as a delivery address: a number, and a
region or two address words from the vocabulary's cues), order_id (SO + 8 digits),
tracking_no, phone_number (a mobile number), reference (any other order, bill or tracking
number), phone_last4 (four digits on their own), budget (an amount with a bound or
currency cue, normalised to amount + currency), quantity, and number (any other number, as
a value: "300", "五百").

No statistical model: a blank spaCy vocabulary, a PhraseMatcher for phrases and a Matcher
for shapes and phrases with a number in them. What it matches with is stored with the
model, so the served model matches what it was trained with.

Text is split into ASCII words/numbers and single other characters, so Chinese phrases
match inside longer runs ("白色的儿童衣柜") while English phrases match whole words only,
compared in lower case with a plural "s" dropped ("Lamps" matches "lamp").
"""

from __future__ import annotations

import re
from typing import Any, Dict, Iterable, List, Optional, Text, Tuple

import spacy
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import ENTITIES, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData
from spacy.matcher import Matcher, PhraseMatcher
from spacy.tokens import Doc, Span

from bot.nlu.numbers import ENGLISH_NUMBER_WORDS, NUMERAL_TOKEN, parse_amount
from bot.nlu.script import simplified
from bot.nlu.shop_data import DEFAULT_SHOP_DATA, ShopDataComponent, load_json, save_json, shop_for
from bot.shop.loader import NAME_PLACEHOLDER, PLACEHOLDER
from bot.shop.vocabulary import NAME_LABELS, cues, terms

STORED_FILE = "matcher.json"
TOKEN = re.compile(r"[A-Za-z0-9]+(?:[.'][A-Za-z0-9]+)*|[^\sA-Za-z0-9]")
MAX_TEXT = 2000  # names and amounts sit early; a 20k-character paste gains nothing

NUM = {"TEXT": {"REGEX": NUMERAL_TOKEN}, "OP": "+"}
# Numbers of every shape customers type, most specific first (greedy LONGEST per label).
ID_SHAPES = {
    "order_id": r"^[Ss][Oo]\d{8}$",
    "tracking_no": r"^(?:[Ss][Ff]\d{10,15}|[Yy][Tt]\d{10,15}|[Jj][Tt]\d{10,15}|[A-Za-z]{2}\d{9}[A-Za-z]{2})$",
    "phone_number": r"^1[3-9]\d{9}$",
    "phone_last4": r"^\d{4}$",
}
# Any other long number or code: another shop's order number, a bill, a tracking number
# of an unknown shape, one of ours without "SO" or with a digit missing (8+ digits is never
# an amount a customer means).
REFERENCE = r"^(?:\d{8,20}|[A-Za-z]{1,4}\d{6,20})$"
# What a "{name}" in a vocabulary phrase stands for: "有{name}吗" matches "有台灯吗".
NAMED = ("product", "category", "other_product")


def split(text: str) -> List[Tuple[str, int, int]]:
    """(token, start, end) for matching; whitespace is dropped."""
    return [(m.group(), m.start(), m.end()) for m in TOKEN.finditer(text)]


def norm(word: str) -> str:
    """How a token is compared: lower case; an English plural or possessive "s" dropped."""
    word = word.lower()
    if word.endswith("'s"):
        word = word[:-2]
    if len(word) > 3 and word.isascii() and word.isalpha():
        if word.endswith("ies"):
            return word[:-3] + "y"
        if word.endswith("s") and not word.endswith(("ss", "us", "is")):
            return word[:-1]
    return word


def _one_of(words: Iterable[str], op: Optional[str] = None) -> Dict[str, Any]:
    pattern: Dict[str, Any] = {"LOWER": {"IN": sorted({w.lower() for w in words})}}
    if op:
        pattern["OP"] = op
    return pattern


def _sequences(phrases: Iterable[str]) -> List[List[Dict[str, Any]]]:
    """A token pattern per phrase: "以内" -> [以][内]; "{n}天到" -> [number][天][到]."""
    patterns = []
    for phrase in phrases:
        pattern: List[Dict[str, Any]] = []
        for piece in re.split(r"(\{n\})", phrase):
            if piece == PLACEHOLDER:
                pattern.append(dict(NUM))
            elif piece.strip():
                pattern += [{"NORM": norm(token)} for token, _, _ in split(piece)]
        if pattern:
            patterns.append(pattern)
    return patterns


def _currency_after(cue: Dict[str, List[str]]) -> List[Dict[str, Any]]:
    """Up to two optional tokens: "元", "块钱", "dollars"."""
    tokens = [[t for t, _, _ in split(phrase)] for phrase in cue["currency"]]
    first = {t[0] for t in tokens if t}
    second = {t[1] for t in tokens if len(t) > 1}
    return [_one_of(first, "?")] + ([_one_of(second, "?")] if second else [])


def shape_patterns(cue: Dict[str, List[str]]) -> Dict[str, List[List[Dict[str, Any]]]]:
    before = [_one_of(cue["currency_before"], "?")] if cue["currency_before"] else []
    after = _currency_after(cue)
    budget = [[*before, NUM, *after, *bound] for bound in _sequences(cue["budget_after"])]
    budget += [[*bound, *before, NUM, *after] for bound in _sequences(cue["budget_before"])]
    quantity = [
        [NUM, _one_of(cue["measure"])],
        [{"LOWER": {"IN": sorted(ENGLISH_NUMBER_WORDS)}}, _one_of(cue["measure"])],
    ]
    patterns = {label: [[{"TEXT": {"REGEX": shape}}]] for label, shape in ID_SHAPES.items()}
    patterns.update(reference=[[{"TEXT": {"REGEX": REFERENCE}}]], budget=budget, quantity=quantity, number=[[NUM]])
    return patterns


def _budget_value(span: Span, usd_words: List[str]) -> Optional[Dict[str, Any]]:
    words = [t.text for t in span]
    amount = parse_amount("".join(w for w in words if re.match(NUMERAL_TOKEN, w)))
    if amount is None:
        return None
    usd = {w.lower() for w in usd_words}
    currency = "USD" if any(w.lower() in usd for w in words) else "CNY"
    return {"amount": amount, "currency": currency}


def _quantity_value(span: Span) -> Optional[int]:
    amount = parse_amount("".join(t.text for t in span[:-1]))
    return int(amount) if amount and amount == int(amount) and amount < 1000 else None


class ShopMatcher:
    """The matching itself, free of Rasa so it can be tested and reused directly.

    phrases: [{"label", "text", "value"}] (bot.shop.vocabulary.terms);
    cues: the shape cue words (bot.shop.vocabulary.cues).
    """

    def __init__(self, phrases: List[Dict[str, str]], cue: Dict[str, List[str]]) -> None:
        self.nlp = spacy.blank("xx")
        self.phrases = phrases
        self.cues = cue
        self.usd_words = [w.lower() for w in cue.get("usd", [])]
        self.time_units = {w.lower() for w in cue.get("time_unit", [])}
        self.address_markers = {w.lower() for w in cue.get("address_marker", [])}
        self.phrase_matcher = PhraseMatcher(self.nlp.vocab, attr="NORM")
        self.shape_matcher = Matcher(self.nlp.vocab)
        # "有{name}吗": (label, value, the words before the name, the words after it)
        self.around_names: List[Tuple[str, str, List[str], List[str]]] = []
        for phrase in phrases:
            key = f"{phrase['label']}|{phrase['value']}"
            if NAME_PLACEHOLDER in phrase["text"]:
                before, after = phrase["text"].split(NAME_PLACEHOLDER, 1)
                words = [[norm(token) for token, _, _ in split(piece)] for piece in (before, after)]
                self.around_names.append((phrase["label"], phrase["value"], words[0], words[1]))
            elif PLACEHOLDER in phrase["text"]:
                self.shape_matcher.add(key, _sequences([phrase["text"]]))
            else:
                self.phrase_matcher.add(key, [self._doc(phrase["text"])])
        for label, patterns in shape_patterns(cue).items():
            self.shape_matcher.add(label, patterns, greedy="LONGEST")

    def _doc(self, text: str) -> Doc:
        tokens = split(text)
        doc = Doc(self.nlp.vocab, words=[t for t, _, _ in tokens])
        for token in doc:
            token.norm_ = norm(token.text)
        return doc

    def match(self, text: str) -> List[Dict[str, Any]]:
        if not text or not text.strip():
            return []
        text = text[:MAX_TEXT]
        tokens = split(text)
        if not tokens:
            return []
        doc = self._doc(simplified(text))  # same length: the offsets stay those of `text`
        found: List[Tuple[str, Any, int, int]] = []
        for match_id, start, end in self.phrase_matcher(doc):
            label, value = self.nlp.vocab.strings[match_id].split("|", 1)
            found.append((label, value, start, end))
        for match_id, start, end in self.shape_matcher(doc):
            key = self.nlp.vocab.strings[match_id]
            if "|" in key:  # a vocabulary phrase with a number in it
                label, value = key.split("|", 1)
                found.append((label, value, start, end))
                continue
            if key == "budget" and end < len(doc) and doc[end].lower_ in self.time_units:
                continue  # "within 3 days" is a time
            value = self._shape_value(key, doc[start:end])
            if value is not None:
                found.append((key, value, start, end))
        found += self._around_names(doc, found)
        entities = []
        for label, value, start, end in sorted(_drop_nested(found), key=lambda f: (f[2], f[0])):
            char_start, char_end = tokens[start][1], tokens[end - 1][2]
            entities.append(
                {
                    "entity": label,
                    "value": value,
                    "start": char_start,
                    "end": char_end,
                    "text": text[char_start:char_end],
                }
            )
        if self._looks_like_address(doc, entities):
            entities.append({"entity": "address", "value": text.strip(), "start": 0, "end": len(text), "text": text})
        return entities

    def _around_names(self, doc: Doc, found: List[Tuple[str, Any, int, int]]) -> List[Tuple[str, Any, int, int]]:
        """The "{name}" phrases: their words right before and right after a name found."""
        norms = [t.norm_ for t in doc]
        names = {(start, end) for label, _, start, end in found if label in NAMED}
        around = []
        for label, value, before, after in self.around_names:
            for start, end in names:
                first, last = start - len(before), end + len(after)
                if first >= 0 and norms[first:start] == before and norms[end:last] == after:
                    around.append((label, value, first, last))
        return around

    def _looks_like_address(self, doc: Doc, entities: List[Dict[str, Any]]) -> bool:
        """A delivery address: long enough, with a region or at least two address words
        (省/市/区/路/号, road/street/district), and a number (house, room or phone)."""
        if len(doc) < 6 or not any(t.text.isdigit() or re.match(NUMERAL_TOKEN, t.text) for t in doc):
            return False
        markers = sum(1 for t in doc if t.lower_ in self.address_markers)
        return markers >= 2 or (markers >= 1 and any(e["entity"] == "region" for e in entities))

    def _shape_value(self, label: str, span: Span) -> Any:
        if label in ("order_id", "tracking_no"):
            return span.text.upper()
        if label in ("phone_number", "phone_last4", "reference"):
            return span.text
        if label == "budget":
            return _budget_value(span, self.usd_words)
        if label == "number":
            if len(span) == 1 and not span.text[0].isdigit():
                return None  # a lone 一 or 两 is a word ("一下", "两个人"), not an amount
            return parse_amount("".join(t.text for t in span))
        return _quantity_value(span)


def _drop_nested(found: List[Tuple[str, Any, int, int]]) -> List[Tuple[str, Any, int, int]]:
    """Keep the longest mentions: a span inside a longer span of the same label, or inside
    any name ("床" in "床头柜", "滚" in "滚筒洗衣机"), is not a separate mention; a number
    that is part of a longer shape (the 4 digits of a budget) is not one either. Equal spans
    with different ids are kept: the mention is ambiguous and the dialogue asks."""
    shapes = set(ID_SHAPES) | {"reference", "budget", "quantity", "number"}
    keep, seen = [], set()
    for item in found:
        label, _, start, end = item
        nested = any(
            other[2] <= start
            and end <= other[3]
            and (
                (
                    other[3] - other[2] > end - start
                    and (other[0] == label or other[0] in NAME_LABELS or (label in shapes and other[0] in shapes))
                )
                # a number of a known shape is that, not just "a reference" or "a number"
                or (label in ("reference", "number") and other[0] in shapes and other[0] not in ("reference", "number"))
                or (label == "number" and other[0] == "reference")
            )
            for other in found
        )
        key = (label, repr(item[1]), start, end)
        if not nested and key not in seen:
            seen.add(key)
            keep.append(item)
    return keep


def matcher_for(config: Dict[Text, Any]) -> ShopMatcher:
    """A matcher built from the shop data named by a component's config."""
    shop = shop_for(config)
    return ShopMatcher([t._asdict() for t in terms(shop) if t.label != "brand"], cues(shop))


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR, is_trainable=True)
class ShopEntityMatcher(ShopDataComponent, GraphComponent):
    """Rasa wrapper: builds the phrases from the shop data, stores them, matches messages."""

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {"shop_data": DEFAULT_SHOP_DATA}

    def __init__(
        self, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource, stored: Dict[str, Any]
    ) -> None:
        self._config = config
        self._model_storage = model_storage
        self._resource = resource
        self.matcher = ShopMatcher(stored["phrases"], stored["cues"])

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> "ShopEntityMatcher":
        built = matcher_for(config)
        return cls(config, model_storage, resource, {"phrases": built.phrases, "cues": built.cues})

    @classmethod
    def load(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> "ShopEntityMatcher":
        return cls(config, model_storage, resource, load_json(model_storage, resource, STORED_FILE))

    def train(self, training_data: TrainingData) -> Resource:
        save_json(
            self._model_storage,
            self._resource,
            STORED_FILE,
            {"phrases": self.matcher.phrases, "cues": self.matcher.cues},
        )
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

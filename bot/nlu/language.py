"""Tell Chinese from English, so replies follow the customer's latest message.

The result is an entity `language` (zh/en) that fills the `language` slot. Messages
with no language signal (an order id, digits, emoji, "ok") add nothing, so the
conversation keeps the language it had. Chinese wins a mixed message ("hello在吗",
"我想买air fryer") unless it is mostly English with a Chinese name in it ("can I pay
with 花呗"). The Latin words that say nothing about the language ("ok", "SF") are the
shop vocabulary's `language_neutral` list, stored with the model.
"""

from __future__ import annotations

import re
from typing import Any, Collection, Dict, List, Optional, Text

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import ENTITIES, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.nlu.markup import readable
from bot.nlu.shop_data import DEFAULT_SHOP_DATA, ShopDataComponent, load_json, save_json, shop_for
from bot.shop.vocabulary import language_neutral

CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\u3000-\u303f\uff00-\uffef]")
CJK_CHARACTER = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
LATIN_WORD = re.compile(r"^[A-Za-z]+(?:'[A-Za-z]+)?$")
STORED_FILE = "language_neutral.json"


def detect(text: Optional[str], neutral: Collection[str] = ()) -> Optional[str]:
    """'zh', 'en', or None when the text has no language signal (markup is not language)."""
    text = readable(text or "")
    if not text.strip():
        return None
    words = [
        t
        for t in re.split(r"[\s,.!?;:()\"]+", text)
        if len(t) >= 2 and LATIN_WORD.match(t) and t.lower() not in neutral
    ]
    if CJK.search(text):
        chinese = len(CJK_CHARACTER.findall(text))
        return "en" if len(words) >= 3 and chinese <= len(words) else "zh"
    return "en" if words else None


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR, is_trainable=True)
class LanguageDetector(ShopDataComponent, GraphComponent):
    """Adds the entity `language` to every message that has a language signal."""

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {"shop_data": DEFAULT_SHOP_DATA}

    def __init__(self, model_storage: ModelStorage, resource: Resource, neutral: List[str]) -> None:
        self._model_storage = model_storage
        self._resource = resource
        self.neutral = frozenset(neutral)

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> "LanguageDetector":
        return cls(model_storage, resource, language_neutral(shop_for(config)))

    @classmethod
    def load(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> "LanguageDetector":
        return cls(model_storage, resource, load_json(model_storage, resource, STORED_FILE))

    def train(self, training_data: TrainingData) -> Resource:
        save_json(self._model_storage, self._resource, STORED_FILE, sorted(self.neutral))
        return self._resource

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            text = message.get(TEXT) or ""
            language = detect(text, self.neutral)
            if language:
                entity = {
                    "entity": "language",
                    "value": language,
                    "start": 0,
                    "end": len(text),
                    "extractor": type(self).__name__,
                }
                message.set(ENTITIES, message.get(ENTITIES, []) + [entity], add_to_output=True)
        return messages

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        return training_data

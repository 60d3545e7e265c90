"""Tell Chinese from English, so replies follow the customer's latest message.

The result is an entity `language` (zh/en) that fills the `language` slot. Messages
with no language signal (an order id, digits, emoji, "ok") add nothing, so the
conversation keeps the language it had.
"""
from __future__ import annotations

import re
from typing import Any, Dict, List, Optional, Text

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import ENTITIES, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\u3000-\u303f\uff00-\uffef]")
LATIN_WORD = re.compile(r"^[A-Za-z]+(?:'[A-Za-z]+)?$")
# Latin tokens that Chinese customers type too: they say nothing about the language.
NEUTRAL = {"ok", "okay", "k", "sf", "ems", "zto", "yto", "vip", "app", "diy", "led", "ac", "hp", "pls"}


def detect(text: Optional[str]) -> Optional[str]:
    """'zh' if any Chinese character, 'en' if an English word, else None."""
    if not text:
        return None
    if CJK.search(text):
        return "zh"
    for token in re.split(r"[\s,.!?;:()\"]+", text):
        if len(token) >= 2 and LATIN_WORD.match(token) and token.lower() not in NEUTRAL:
            return "en"
    return None


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR, is_trainable=False)
class LanguageDetector(GraphComponent):
    """Adds the entity `language` to every message that has a language signal."""

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> "LanguageDetector":
        return cls()

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            text = message.get(TEXT) or ""
            language = detect(text)
            if language:
                entity = {"entity": "language", "value": language, "start": 0,
                          "end": len(text), "extractor": type(self).__name__}
                message.set(ENTITIES, message.get(ENTITIES, []) + [entity], add_to_output=True)
        return messages

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        return training_data

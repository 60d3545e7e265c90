"""jieba with the shop's vocabulary, and clean tokens for English text.

Stock JiebaTokenizer returns the spaces between English words as tokens
(RasaHQ/rasa#7910); those pollute the features, so they are dropped here. Product,
brand, courier and region names from the shop data are added to jieba's dictionary at
train time and stored with the model, so a trained model segments the same way
wherever it is loaded.
"""

from __future__ import annotations

from typing import Any, Dict, List, Text

import jieba
from rasa.engine.graph import ExecutionContext
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.tokenizers.tokenizer import Token, Tokenizer
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.nlu.markup import readable
from bot.nlu.script import simplified
from bot.nlu.shop_data import DEFAULT_SHOP_DATA, ShopDataComponent, load_json, save_json, shop_for
from bot.shop.vocabulary import segmentation_words

WORDS_FILE = "user_dictionary.json"
jieba.setLogLevel(60)  # jieba prints its cache-building chatter on every start


def add_words(words: List[str]) -> None:
    for word in words:
        # A high frequency makes jieba keep the whole name as one token.
        jieba.add_word(word, freq=200000)


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_TOKENIZER, is_trainable=True)
class ShopJiebaTokenizer(ShopDataComponent, Tokenizer):
    """Chinese segmentation with the shop's names kept whole; no whitespace tokens."""

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {
            "intent_tokenization_flag": False,
            "intent_split_symbol": "_",
            "token_pattern": None,
            "prefix_separator_symbol": None,
            # Folder of the shop's YAML data, relative to the project root.
            "shop_data": DEFAULT_SHOP_DATA,
        }

    @staticmethod
    def supported_languages() -> List[Text]:
        return ["zh"]

    def __init__(
        self, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource, words: List[str]
    ) -> None:
        super().__init__(config)
        self._model_storage = model_storage
        self._resource = resource
        self.words = words
        add_words(words)

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> "ShopJiebaTokenizer":
        return cls(config, model_storage, resource, segmentation_words(shop_for(config)))

    @classmethod
    def load(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> "ShopJiebaTokenizer":
        return cls(config, model_storage, resource, load_json(model_storage, resource, WORDS_FILE))

    def train(self, training_data: TrainingData) -> Resource:
        save_json(self._model_storage, self._resource, WORDS_FILE, self.words)
        return self._resource

    def tokenize(self, message: Message, attribute: Text) -> List[Token]:
        # Markup is not words ("<b>你好</b>", "<script>…"): blanked out, offsets kept;
        # Traditional characters read as Simplified (bot/nlu/script.py).
        text = simplified(readable(message.get(attribute) or ""))
        tokens = [Token(word, start) for word, start, _ in jieba.tokenize(text) if word.strip()]
        return self._apply_token_pattern(tokens)

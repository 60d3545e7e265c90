"""What the shop-aware components share: the shop data they are built from at train
time, and the JSON they store with the model so a served model needs no shop files."""
from __future__ import annotations

import json
from typing import Any, Optional

from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage

from bot.shop.loader import Shop, cached_shop

DEFAULT_SHOP_DATA = "bot/shop/data"


def shop_for(config: dict) -> Shop:
    """The shop data named by the component's `shop_data` setting (relative to the root)."""
    from bot import settings

    return cached_shop(str(settings.ROOT / config.get("shop_data", DEFAULT_SHOP_DATA)))


def save_json(storage: ModelStorage, resource: Resource, name: str, value: Any) -> None:
    with storage.write_to(resource) as directory:
        (directory / name).write_text(json.dumps(value, ensure_ascii=False), encoding="utf-8")


def load_json(storage: ModelStorage, resource: Resource, name: str) -> Optional[Any]:
    """The stored value, or None when the component has not been trained yet (the
    training graph's own run node loads it before training)."""
    try:
        with storage.read_from(resource) as directory:
            return json.loads((directory / name).read_text(encoding="utf-8"))
    except (ValueError, FileNotFoundError):
        return None

"""What the shop-aware components share: the shop data they are built from at train
time, and the JSON they store with the model so a served model needs no shop files.

One loading rule for every component: what a trained component stored must be in the
model; missing or unreadable, loading stops with an error naming the file. Nothing is
silently rebuilt from today's shop files (the model would then understand something
other than what it was trained and tested with).
"""

from __future__ import annotations

import hashlib
import json
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Dict, Iterator, Optional

from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage

from bot.shop.loader import Shop, cached_shop

DEFAULT_SHOP_DATA = "bot/shop/data"


class StoredDataError(RuntimeError):
    """A trained component's stored data is missing or corrupt."""

    def __init__(self, resource: Resource, name: str, problem: str) -> None:
        super().__init__(f"the model's '{resource.name}/{name}' {problem}; retrain the model (make train)")


def shop_for(config: dict) -> Shop:
    """The shop data named by the component's `shop_data` setting (relative to the root)."""
    from bot import settings

    return cached_shop(str(settings.ROOT / config.get("shop_data", DEFAULT_SHOP_DATA)))


def shop_fingerprint(config: Dict[str, Any]) -> str:
    """A hash of the shop data files: Rasa retrains a component (instead of restoring it
    from its training cache) when the shop data it was built from changes."""
    from bot import settings

    digest = hashlib.sha256()
    folder = settings.ROOT / config.get("shop_data", DEFAULT_SHOP_DATA)
    for path in sorted(folder.glob("*.yml")):
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


class ShopDataComponent:
    """Mixin for the components built from the shop data."""

    @classmethod
    def fingerprint_addon(cls, config: Dict[str, Any]) -> Optional[str]:
        return shop_fingerprint(config)


def save_json(storage: ModelStorage, resource: Resource, name: str, value: Any) -> None:
    with storage.write_to(resource) as directory:
        (directory / name).write_text(json.dumps(value, ensure_ascii=False), encoding="utf-8")


@contextmanager
def stored_file(storage: ModelStorage, resource: Resource, name: str) -> Iterator[Path]:
    """The path of a file the component stored with the model, or StoredDataError."""
    try:
        with storage.read_from(resource) as directory:
            path = directory / name
            if not path.is_file():
                raise StoredDataError(resource, name, "is missing")
            yield path
    except ValueError as error:  # Rasa: the resource itself is not in the model
        raise StoredDataError(resource, name, f"is missing ({error})") from error


def load_json(storage: ModelStorage, resource: Resource, name: str) -> Any:
    with stored_file(storage, resource, name) as path:
        try:
            return json.loads(path.read_text(encoding="utf-8"))
        except (ValueError, UnicodeDecodeError) as error:
            raise StoredDataError(resource, name, f"is not valid JSON ({error})") from error

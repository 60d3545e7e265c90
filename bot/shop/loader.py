"""Load the shop's YAML files and refuse them whole when anything is wrong.

A shop owner edits these files by hand, so every error names the file, the item and
the field; the bot never starts half-loaded.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Dict, Iterable, List, Optional

import yaml

FILES = ("shop", "catalog", "promotions", "couriers", "policies", "orders", "vocabulary")

# Required keys per product; nested `{zh, en}` texts are checked by `_text`.
PRODUCT_FIELDS = (
    "id",
    "category",
    "brand",
    "name",
    "aliases",
    "price",
    "dimensions_cm",
    "weight_kg",
    "material",
    "colours",
    "stock",
    "tags",
    "features",
    "installation",
    "transport",
    "door_delivery",
    "warranty",
    "related",
)
INSTALLATION_TYPES = ("self", "free_door_to_door", "paid")


class ShopDataError(ValueError):
    """The shop data is invalid; the message says where and what."""

    def __init__(self, file: str, where: str, problem: str) -> None:
        super().__init__(f"{file}: {where}: {problem}")
        self.file, self.where, self.problem = file, where, problem


@dataclass
class Shop:
    """The validated shop data, indexed by id."""

    info: Dict[str, Any]
    categories: Dict[str, Dict[str, Any]]
    brands: Dict[str, Dict[str, Any]]
    products: Dict[str, Dict[str, Any]]
    promotions: List[Dict[str, Any]]
    pricing_policy: Dict[str, Any]
    couriers: Dict[str, Any]
    policies: Dict[str, Any]
    orders: List[Dict[str, Any]] = field(default_factory=list)
    # vocabulary.yml: {"entities": {entity: {value: {zh: [..], en: [..]}}}, "cues": {..},
    # "language_neutral": [..]}
    vocabulary: Dict[str, Any] = field(default_factory=dict)
    # catalog.yml's texts: fact_formats, spec_labels, tag_names
    catalog_info: Dict[str, Any] = field(default_factory=dict)

    @property
    def regions(self) -> Dict[str, Dict[str, Any]]:
        return {r["id"]: r for r in self.couriers.get("regions", [])}

    @property
    def courier_table(self) -> Dict[str, Dict[str, Any]]:
        return {c["id"]: c for c in self.couriers.get("couriers", [])}

    def text(self, key: str, language: str) -> str:
        """A bilingual text from shop.yml, in the given language."""
        return self.info[key][language]


def _read(directory: Path, name: str) -> Dict[str, Any]:
    path = directory / f"{name}.yml"
    label = str(path)
    if not path.exists():
        raise ShopDataError(label, "file", "is missing")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "file"
        raise ShopDataError(label, where, f"is not valid YAML ({getattr(error, 'problem', error)})") from error
    if not isinstance(data, dict):
        raise ShopDataError(label, "file", "must be a mapping at the top level")
    return data


def _text(file: str, where: str, value: Any, name: str) -> None:
    if not isinstance(value, dict) or not all(
        isinstance(value.get(lang), (str, list)) and value.get(lang) for lang in ("zh", "en")
    ):
        raise ShopDataError(file, where, f"field '{name}' needs both a 'zh' and an 'en' text")


def _number(file: str, where: str, value: Any, name: str) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
        raise ShopDataError(file, where, f"field '{name}' must be a number >= 0, got {value!r}")


def _unique(file: str, items: Iterable[Dict[str, Any]], kind: str) -> Dict[str, Dict[str, Any]]:
    seen: Dict[str, Dict[str, Any]] = {}
    for index, item in enumerate(items):
        if not isinstance(item, dict) or not item.get("id"):
            raise ShopDataError(file, f"{kind} #{index + 1}", "field 'id' is missing")
        if item["id"] in seen:
            raise ShopDataError(file, f"{kind} '{item['id']}'", "id is used twice")
        seen[item["id"]] = item
    return seen


FACT_FORMATS = (
    "size",
    "weight",
    "material",
    "price",
    "price_was",
    "stock_plenty",
    "stock_low",
    "stock_none",
    "colours",
    "installation",
    "transport",
    "door_delivery",
    "warranty",
    "features",
    "spec",
)
FORMATS = (
    "day",
    "time",
    "separator",
    "clause_joiner",
    "list_item",
    "promotion",
    "numbered",
    "scan",
    "pick",
    "pick_in_budget",
    "pick_suits",
    "pick_joiner",
    "button_price",
)


def _check_catalog_texts(file: str, shop: Shop) -> None:
    info = shop.catalog_info
    for key in FACT_FORMATS:
        _text(file, "fact_formats", (info.get("fact_formats") or {}).get(key), f"fact_formats.{key}")
    for key, label in (info.get("spec_labels") or {}).items():
        _text(file, "spec_labels", label, f"spec_labels.{key}")
    for key, label in (info.get("tag_names") or {}).items():
        _text(file, "tag_names", label, f"tag_names.{key}")


def _check_product(file: str, product: Dict[str, Any], shop: Shop) -> None:
    where = f"product '{product['id']}'"
    for key in PRODUCT_FIELDS:
        if key not in product or product[key] is None:
            raise ShopDataError(file, where, f"required field '{key}' is missing")
    for key in ("name", "material"):
        _text(file, where, product[key], key)
    for key in ("price", "weight_kg", "stock"):
        _number(file, where, product[key], key)
    for key in ("width", "depth", "height"):
        _number(file, where, (product["dimensions_cm"] or {}).get(key), f"dimensions_cm.{key}")
    if product["category"] not in shop.categories:
        raise ShopDataError(file, where, f"category '{product['category']}' is not defined")
    if product["brand"] not in shop.brands:
        raise ShopDataError(file, where, f"brand '{product['brand']}' is not defined")
    if not product["colours"]:
        raise ShopDataError(file, where, "field 'colours' needs at least one colour")
    for colour in product["colours"]:
        _text(file, where, colour, "colours")
    installation = product["installation"]
    if installation.get("type") not in INSTALLATION_TYPES:
        raise ShopDataError(file, where, f"field 'installation.type' must be one of {', '.join(INSTALLATION_TYPES)}")
    _number(file, where, installation.get("fee", 0), "installation.fee")
    _text(file, where, installation.get("note"), "installation.note")
    for key in ("packaging", "note"):
        _text(file, where, product["transport"].get(key), f"transport.{key}")
    _text(file, where, product["door_delivery"].get("note"), "door_delivery.note")
    _number(file, where, product["warranty"].get("months"), "warranty.months")
    labels = shop.catalog_info.get("spec_labels") or {}
    for key, value in (product.get("specs") or {}).items():
        if key not in labels:
            raise ShopDataError(file, where, f"spec '{key}' has no label in 'spec_labels'")
        _text(file, where, value, f"specs.{key}")
    if "troubleshooting" in product:
        _text(file, where, product["troubleshooting"], "troubleshooting")
    tag_names = shop.catalog_info.get("tag_names") or {}
    for tag in product["tags"]:
        if tag not in tag_names:
            raise ShopDataError(file, where, f"tag '{tag}' has no name in 'tag_names'")


def _validate(directory: Path, raw: Dict[str, Dict[str, Any]]) -> Shop:
    catalog_file = str(directory / "catalog.yml")
    shop = Shop(
        info=raw["shop"],
        categories=_unique(catalog_file, raw["catalog"].get("categories") or [], "category"),
        brands=_unique(catalog_file, raw["catalog"].get("brands") or [], "brand"),
        products=_unique(catalog_file, raw["catalog"].get("products") or [], "product"),
        promotions=raw["promotions"].get("promotions") or [],
        pricing_policy=raw["promotions"].get("pricing_policy") or {},
        couriers=raw["couriers"],
        policies=raw["policies"],
        orders=raw["orders"].get("orders") or [],
        vocabulary=raw["vocabulary"],
        catalog_info={k: v for k, v in raw["catalog"].items() if k not in ("categories", "brands", "products")},
    )
    shop_file = str(directory / "shop.yml")
    for key in ("name", "agent_name", "after_sales_contact", "invoice", "policy_page"):
        _text(shop_file, "shop", shop.info.get(key), key)
    formats = shop.info.get("formats") or {}
    for key in FORMATS:
        _text(shop_file, "formats", formats.get(key), f"formats.{key}")
    payment = shop.info.get("payment") or {}
    for key in ("methods", "note"):
        _text(shop_file, "shop", payment.get(key), f"payment.{key}")
    _check_catalog_texts(catalog_file, shop)
    for category in shop.categories.values():
        if "troubleshooting" in category:
            _text(catalog_file, f"category '{category['id']}'", category["troubleshooting"], "troubleshooting")
    for product in shop.products.values():
        _check_product(catalog_file, product, shop)
    for product in shop.products.values():
        for related in product["related"]:
            if related not in shop.products:
                raise ShopDataError(
                    catalog_file, f"product '{product['id']}'", f"related product '{related}' is not defined"
                )
    couriers_file = str(directory / "couriers.yml")
    couriers = _unique(couriers_file, shop.couriers.get("couriers") or [], "courier")
    if shop.couriers.get("default") not in couriers:
        raise ShopDataError(couriers_file, "default", "must name a courier defined in 'couriers'")
    _unique(couriers_file, shop.couriers.get("regions") or [], "region")
    _text(couriers_file, "warehouse", shop.couriers.get("warehouse"), "warehouse")
    _check_vocabulary(str(directory / "vocabulary.yml"), shop.vocabulary)
    _check_texts(directory, shop)
    return shop


ORDER_STATES = ("unpaid", "paid", "in_transit", "delayed", "out_for_delivery", "delivered", "returned", "cancelled")


def _check_texts(directory: Path, shop: Shop) -> None:
    """The bilingual texts the bot says from promotions, couriers and policies."""
    promotions_file = str(directory / "promotions.yml")
    for promotion in shop.promotions:
        where = f"promotion '{promotion.get('id')}'"
        for key in ("name", "summary", "conditions"):
            _text(promotions_file, where, promotion.get(key), key)
    for key in ("statement_short", "statement", "price_protection", "gifts"):
        _text(promotions_file, "pricing_policy", shop.pricing_policy.get(key), key)
    _number(
        promotions_file, "pricing_policy", shop.pricing_policy.get("price_protection_days"), "price_protection_days"
    )
    couriers_file = str(directory / "couriers.yml")
    for courier in shop.courier_table.values():
        for key in ("reason_short", "reason_expensive"):
            if key in courier:
                _text(couriers_file, f"courier '{courier['id']}'", courier[key], key)
    policies_file = str(directory / "policies.yml")
    policies = shop.policies
    for key in ("condition", "return_shipping", "summary", "exchange", "freight_insurance", "refund_progress"):
        _text(policies_file, "returns", (policies.get("returns") or {}).get(key), key)
    for key in ("repair", "installation_booking", "fault_options"):
        _text(policies_file, "after_sales", (policies.get("after_sales") or {}).get(key), key)
    for state in ORDER_STATES:
        _text(policies_file, "order_states", (policies.get("order_states") or {}).get(state), state)
    _text(policies_file, "remedy_reject_button", policies.get("remedy_reject_button"), "remedy_reject_button")
    remedies = _unique(policies_file, policies.get("remedies") or [], "remedy")
    for remedy in remedies.values():
        for key in ("name", "summary", "description"):
            _text(policies_file, f"remedy '{remedy['id']}'", remedy.get(key), key)
    categories = {p.get("category") for p in policies.get("complaint_policies") or []}
    if "other" not in categories:
        raise ShopDataError(policies_file, "complaint_policies", "needs a policy for category 'other'")
    for rule in policies.get("complaint_policies") or []:
        where = f"complaint policy '{rule.get('category')}'"
        for key in ("name", "position"):
            _text(policies_file, where, rule.get(key), key)
        for remedy in rule.get("remedies") or []:
            if remedy not in remedies:
                raise ShopDataError(policies_file, where, f"remedy '{remedy}' is not defined in 'remedies'")


PLACEHOLDER = "{n}"  # a number
NAME_PLACEHOLDER = "{name}"  # a product, category or other product's name


def _phrases(file: str, where: str, value: Any) -> None:
    """`{zh: [..], en: [..]}` with non-empty phrases; `{n}` and `{name}` are the only placeholders."""
    if not isinstance(value, dict) or set(value) != {"zh", "en"}:
        raise ShopDataError(file, where, "needs exactly a 'zh' and an 'en' list of phrases")
    for language in ("zh", "en"):
        phrases = value[language]
        if not isinstance(phrases, list):
            raise ShopDataError(file, where, f"'{language}' must be a list of phrases")
        for phrase in phrases:
            if not isinstance(phrase, str) or not phrase.strip() or phrase != phrase.strip():
                raise ShopDataError(
                    file, where, f"'{language}' has an empty phrase or one with outer spaces: {phrase!r}"
                )
            bare = phrase.replace(PLACEHOLDER, "").replace(NAME_PLACEHOLDER, "")
            if "{" in bare or "}" in bare:
                raise ShopDataError(
                    file,
                    where,
                    f"'{language}' phrase {phrase!r}: the only placeholders are {PLACEHOLDER} and {NAME_PLACEHOLDER}",
                )
            if NAME_PLACEHOLDER in phrase and (PLACEHOLDER in phrase or phrase.count(NAME_PLACEHOLDER) > 1):
                raise ShopDataError(
                    file, where, f"'{language}' phrase {phrase!r}: one {NAME_PLACEHOLDER} and no number"
                )


def _check_vocabulary(file: str, vocabulary: Dict[str, Any]) -> None:
    entities = vocabulary.get("entities")
    if not isinstance(entities, dict) or not entities:
        raise ShopDataError(file, "entities", "must map entity names to their values")
    for entity, values in entities.items():
        if not isinstance(values, dict) or not values:
            raise ShopDataError(file, f"entities.{entity}", "must map values to their phrases")
        for value, phrases in values.items():
            where = f"entities.{entity}.{value}"
            _phrases(file, where, phrases)
            if not phrases["zh"] and not phrases["en"]:
                raise ShopDataError(file, where, "needs at least one phrase")
    cues = vocabulary.get("cues")
    if not isinstance(cues, dict):
        raise ShopDataError(file, "cues", "must map cue names to their phrases")
    for name in (
        "budget_after",
        "budget_before",
        "currency_before",
        "currency",
        "usd",
        "time_unit",
        "measure",
        "address_marker",
    ):
        if name not in cues:
            raise ShopDataError(file, f"cues.{name}", "is missing")
        _phrases(file, f"cues.{name}", cues[name])
    neutral = vocabulary.get("language_neutral")
    if not isinstance(neutral, list) or not all(isinstance(w, str) and w.strip() for w in neutral):
        raise ShopDataError(file, "language_neutral", "must be a list of words")


def load_shop(directory: Optional[Path] = None) -> Shop:
    """Read and validate every shop file; raise ShopDataError naming the first problem."""
    if directory is None:
        from bot import settings

        directory = settings.path("SHOP_DATA_DIR")
    directory = Path(directory)
    raw = {name: _read(directory, name) for name in FILES}
    return _validate(directory, raw)


@lru_cache(maxsize=4)
def cached_shop(directory: str) -> Shop:
    """One validated Shop per data folder and process."""
    return load_shop(Path(directory))

"""Questions to the catalog: product facts, needs-based picks, promotions valid today.

Pure functions over the shop data. Every fact the bot states about a product comes from
here, i.e. from bot/shop/data/catalog.yml and promotions.yml; nothing is made up.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any, Dict, Iterable, List, Optional

from bot.shop.loader import Shop

SPEC_ATTRIBUTES = ("thickness", "capacity", "power", "noise", "in_box", "room_size", "load", "battery")
OVERVIEW = ("price", "size", "stock", "features")


def name(item: Dict[str, Any], language: str) -> str:
    return item["name"][language]


def _num(value: float) -> str:
    return f"{value:g}"


def fact(shop: Shop, product: Dict[str, Any], attribute: str, language: str) -> Optional[str]:
    """One fact of a product as a line in the customer's language, from the catalog's
    `fact_formats`; None when the product's data does not have it."""
    formats = shop.catalog_info["fact_formats"]

    def say(key: str, **values: Any) -> str:
        return formats[key][language].format(**values)

    if attribute in SPEC_ATTRIBUTES:
        value = (product.get("specs") or {}).get(attribute)
        if not value:
            return None
        return say("spec", label=shop.catalog_info["spec_labels"][attribute][language], value=value[language])
    if attribute == "size":
        size = product["dimensions_cm"]
        return say("size", width=_num(size["width"]), depth=_num(size["depth"]), height=_num(size["height"]))
    if attribute == "weight":
        return say("weight", weight=_num(product["weight_kg"]))
    if attribute == "material":
        return say("material", material=product["material"][language])
    if attribute == "price":
        list_price = product.get("list_price")
        if list_price and list_price > product["price"]:
            return say("price_was", price=_num(product["price"]), list_price=_num(list_price))
        return say("price", price=_num(product["price"]))
    if attribute == "stock":
        stock = product["stock"]
        return say("stock_plenty") if stock > 5 else say("stock_low", stock=stock) if stock else say("stock_none")
    if attribute == "colours":
        separator = shop.info["formats"]["separator"][language]
        return say("colours", colours=separator.join(c[language] for c in product["colours"]))
    if attribute == "installation":
        return say("installation", installation=product["installation"]["note"][language])
    if attribute == "transport":
        return say(
            "transport",
            packaging=product["transport"]["packaging"][language],
            transport=product["transport"]["note"][language],
        )
    if attribute == "door_delivery":
        return say("door_delivery", door=product["door_delivery"]["note"][language])
    if attribute == "warranty":
        return say("warranty", months=product["warranty"]["months"], warranty=product["warranty"]["note"][language])
    if attribute == "features":
        joiner = shop.info["formats"]["clause_joiner"][language]
        return say("features", features=joiner.join(product["features"][language]))
    return None


def products_in(shop: Shop, category: Optional[str] = None) -> List[Dict[str, Any]]:
    return [p for p in shop.products.values() if category in (None, "any", p["category"])]


def colour_families(shop: Shop, product: Dict[str, Any]) -> List[str]:
    """The vocabulary's colour families ("white", "grey") a product comes in: a family's
    words found in the product's colour names ("奶白+雾蓝" is white and blue)."""
    names = " ".join(c[lang].lower() for c in product["colours"] for lang in ("zh", "en"))
    return [
        family
        for family, words in shop.vocabulary["entities"]["colour"].items()
        if any(w.lower() in names for lang in ("zh", "en") for w in words[lang])
    ]


def _names(product: Dict[str, Any]) -> List[str]:
    aliases = product.get("aliases") or {}
    return [product["name"]["zh"], product["name"]["en"], *(aliases.get("zh") or []), *(aliases.get("en") or [])]


def _shares_name(product: Dict[str, Any], text: str) -> bool:
    """The text uses part of the product's name: a 2-character Chinese run or an English word."""
    lowered = text.lower()
    for alias in _names(product):
        alias = alias.lower()
        if any(
            alias[i : i + 2] in lowered
            for i in range(len(alias) - 1)
            if "\u4e00" <= alias[i] <= "\u9fff" and "\u4e00" <= alias[i + 1] <= "\u9fff"
        ):
            return True
        if any(len(word) >= 4 and word in lowered.split() for word in alias.split()):
            return True
    return False


def narrow(
    shop: Shop, candidates: Iterable[Dict[str, Any]], text: str, tags: Iterable[str] = (), colours: Iterable[str] = ()
) -> List[Dict[str, Any]]:
    """Narrow a list of products by what the customer said: part of a name, a colour
    family (colour entities), a need (tags). Each filter applies only if it keeps something."""
    found = list(candidates)
    wanted_colours = set(colours)
    for keep in (
        lambda p: _shares_name(p, text),
        lambda p: wanted_colours <= set(colour_families(shop, p)),
        lambda p: bool(set(tags) & set(p["tags"])),
    ):
        kept = [p for p in found if keep(p)]
        if kept:
            found = kept
    return found


RANKS = {
    "cheapest": lambda p: p["price"],
    "priciest": lambda p: -p["price"],
    "largest": lambda p: -(p["dimensions_cm"]["width"] * p["dimensions_cm"]["depth"] * p["dimensions_cm"]["height"]),
    "smallest": lambda p: p["dimensions_cm"]["width"] * p["dimensions_cm"]["depth"] * p["dimensions_cm"]["height"],
}


def ranked_first(products: List[Dict[str, Any]], rank: str) -> Optional[Dict[str, Any]]:
    """The cheapest / priciest / largest / smallest of `products`."""
    return min(products, key=RANKS[rank]) if products and rank in RANKS else None


@dataclass
class Picks:
    products: List[Dict[str, Any]]
    relaxed: Optional[str] = None  # "budget" or "needs": what a closest option gave up
    over_budget_by: float = 0.0
    promotions: List[Dict[str, Any]] = field(default_factory=list)


def budget_in_cny(shop: Shop, budget: Optional[Dict[str, Any]]) -> Optional[float]:
    if not budget or budget.get("amount") is None:
        return None
    currency = budget.get("currency", "CNY")
    rate = 1.0 if currency == "CNY" else float(shop.info.get("exchange_rates", {}).get(currency, 0) or 0)
    return float(budget["amount"]) * rate if rate else None


def product_type(product: Dict[str, Any]) -> tuple:
    """What kind of thing it is: Chinese and English names end with it (衣柜, wardrobe)."""
    return product["name"]["zh"][-2:], product["name"]["en"].split()[-1].lower()


def same_type(product: Dict[str, Any], like: Dict[str, Any]) -> bool:
    zh, en = product_type(like)
    return zh in product["name"]["zh"] or en in product["name"]["en"].lower()


def recommend(
    shop: Shop,
    category: Optional[str],
    budget_cny: Optional[float],
    needs: List[str],
    today: dt.date,
    limit: int = 3,
    like: Optional[Dict[str, Any]] = None,
) -> Picks:
    """Up to `limit` in-stock products that fit; otherwise the closest option and what it relaxes.
    `like`: a product the customer named ("a sofa under 1000"): picks are of its type."""
    stocked = [p for p in products_in(shop, category) if p["stock"] > 0]
    if like is not None:
        stocked = [p for p in stocked if same_type(p, like)] or stocked
    needs_set = set(needs)

    def fits_budget(p: Dict[str, Any]) -> bool:
        return budget_cny is None or p["price"] <= budget_cny

    def fits_needs(p: Dict[str, Any]) -> bool:
        return not needs_set or bool(needs_set & set(p["tags"]))

    def rank(p: Dict[str, Any]) -> Any:
        return (-len(needs_set & set(p["tags"])), p["price"])

    fits = sorted((p for p in stocked if fits_budget(p) and fits_needs(p)), key=rank)[:limit]
    picks = Picks(fits)
    if not fits:
        over = sorted((p for p in stocked if fits_needs(p)), key=lambda p: p["price"])
        within = sorted((p for p in stocked if fits_budget(p)), key=rank)
        if over:
            picks = Picks([over[0]], relaxed="budget", over_budget_by=over[0]["price"] - (budget_cny or 0))
        elif within:
            picks = Picks([within[0]], relaxed="needs")
    picks.promotions = promotions_for(shop, today, picks.products)
    return picks


def valid_promotions(shop: Shop, today: dt.date) -> List[Dict[str, Any]]:
    return [p for p in shop.promotions if _date(p["valid_from"]) <= today <= _date(p["valid_to"])]


def promotions_for(shop: Shop, today: dt.date, products: List[Dict[str, Any]]) -> List[Dict[str, Any]]:
    """Valid promotions that apply to any of the products (store-wide ones last)."""
    ids = {p["id"] for p in products}
    categories = {p["category"] for p in products}
    specific, general = [], []
    for promotion in valid_promotions(shop, today):
        applies = promotion.get("applies_to") or {}
        if ids & set(applies.get("products") or []) or categories & set(applies.get("categories") or []):
            specific.append(promotion)
        elif applies.get("all") and products:
            general.append(promotion)
    return specific + general


def _date(value: Any) -> dt.date:
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value))

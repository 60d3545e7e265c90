"""Questions to the catalog: product facts, needs-based picks, promotions valid today.

Pure functions over the shop data. Every fact the bot states about a product comes from
here, i.e. from bot/shop/data/catalog.yml and promotions.yml; nothing is made up.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any, Dict, Iterable, List, Optional

from bot.shop.loader import Shop

# How each product attribute is said, in each language.
FACT_FORMATS = {
    "size": {"zh": "尺寸：宽{width}×深{depth}×高{height}厘米", "en": "Size: {width} cm wide, {depth} cm deep, {height} cm high"},
    "weight": {"zh": "重量：约{weight}公斤", "en": "Weight: about {weight} kg"},
    "material": {"zh": "材质：{material}", "en": "Material: {material}"},
    "price": {"zh": "价格：{price}元{list_price}", "en": "Price: {price} yuan{list_price}"},
    "stock": {"zh": "库存：{stock}", "en": "Stock: {stock}"},
    "colours": {"zh": "颜色：{colours}", "en": "Colours: {colours}"},
    "installation": {"zh": "安装：{installation}", "en": "Installation: {installation}"},
    "transport": {"zh": "运输：{packaging}。{transport}", "en": "Transport: {packaging}. {transport}"},
    "door_delivery": {"zh": "送货上门：{door}", "en": "Door delivery: {door}"},
    "warranty": {"zh": "保修：{months}个月。{warranty}", "en": "Warranty: {months} months. {warranty}"},
    "features": {"zh": "亮点：{features}", "en": "Highlights: {features}"},
}
SEPARATOR = {"zh": "、", "en": ", "}
OVERVIEW = ("price", "size", "material", "stock", "features")


def name(item: Dict[str, Any], language: str) -> str:
    return item["name"][language]


def fact(product: Dict[str, Any], attribute: str, language: str) -> str:
    """One attribute of a product, as a sentence in the customer's language."""
    zh = language == "zh"
    size = product["dimensions_cm"]
    list_price = product.get("list_price")
    values = {
        "width": f"{size['width']:g}", "depth": f"{size['depth']:g}", "height": f"{size['height']:g}",
        "weight": f"{product['weight_kg']:g}", "material": product["material"][language],
        "price": f"{product['price']:g}",
        "list_price": ("" if not list_price or list_price <= product["price"] else
                       (f"（原价{list_price:g}元）" if zh else f" (was {list_price:g} yuan)")),
        "stock": (("现货充足" if zh else "in stock") if product["stock"] > 5 else
                  (f"仅剩{product['stock']}件" if zh else f"only {product['stock']} left") if product["stock"] else
                  ("暂时缺货" if zh else "currently out of stock")),
        "colours": SEPARATOR[language].join(c[language] for c in product["colours"]),
        "installation": product["installation"]["note"][language],
        "packaging": product["transport"]["packaging"][language], "transport": product["transport"]["note"][language],
        "door": product["door_delivery"]["note"][language],
        "months": product["warranty"]["months"], "warranty": product["warranty"]["note"][language],
        "features": ("；" if zh else "; ").join(product["features"][language]),
    }
    return FACT_FORMATS[attribute][language].format(**values)


def products_in(shop: Shop, category: Optional[str] = None) -> List[Dict[str, Any]]:
    return [p for p in shop.products.values() if category in (None, "any", p["category"])]


# Colour families customers name ("白色的", "the white one"), matched against colour names.
COLOUR_FAMILIES = {
    "white": ("白", "white", "cream"), "black": ("黑", "black"), "grey": ("灰", "grey", "gray"),
    "blue": ("蓝", "blue"), "pink": ("粉", "pink"), "green": ("绿", "green"),
    "wood": ("原木", "木色", "natural", "oak"), "walnut": ("胡桃", "walnut"),
}


def _names(product: Dict[str, Any]) -> List[str]:
    aliases = product.get("aliases") or {}
    return [product["name"]["zh"], product["name"]["en"], *(aliases.get("zh") or []), *(aliases.get("en") or [])]


def _shares_name(product: Dict[str, Any], text: str) -> bool:
    """The text uses part of the product's name: a 2-character Chinese run or an English word."""
    lowered = text.lower()
    for alias in _names(product):
        alias = alias.lower()
        if any(alias[i:i + 2] in lowered for i in range(len(alias) - 1) if "\u4e00" <= alias[i] <= "\u9fff"
               and "\u4e00" <= alias[i + 1] <= "\u9fff"):
            return True
        if any(len(word) >= 4 and word in lowered.split() for word in alias.split()):
            return True
    return False


def narrow(candidates: Iterable[Dict[str, Any]], text: str, tags: Iterable[str] = ()) -> List[Dict[str, Any]]:
    """Narrow a category down by what the customer said: part of a name, a colour, a need.
    Each filter applies only if it keeps something."""
    lowered = text.lower()
    found = list(candidates)
    for keep in (
        lambda p: _shares_name(p, text),
        lambda p: all(any(any(w in c[l].lower() for w in words) for c in p["colours"] for l in ("zh", "en"))
                      for words in COLOUR_FAMILIES.values() if any(w in lowered for w in words)),
        lambda p: bool(set(tags) & set(p["tags"])),
    ):
        kept = [p for p in found if keep(p)]
        if kept:
            found = kept
    return found


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


def recommend(shop: Shop, category: Optional[str], budget_cny: Optional[float], needs: List[str],
              today: dt.date, limit: int = 3, like: Optional[Dict[str, Any]] = None) -> Picks:
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

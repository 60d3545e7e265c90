"""Delivery facts from the courier table: zones, days, surcharges, promised windows.

Pure functions over the shop data; every courier name, day count and surcharge the bot
says comes from bot/shop/data/couriers.yml.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, Dict, List, Optional, Tuple

from bot.shop.loader import Shop
from bot.shop.orders import OrderRecord
from bot.shop.store import now

SHIPPED_STATES = ("in_transit", "delayed", "out_for_delivery", "delivered", "returned")


@dataclass
class Option:
    courier: Dict[str, Any]
    days: Tuple[int, int]
    surcharge: float


def zone_of(shop: Shop, region_id: Optional[str]) -> Optional[str]:
    region = shop.regions.get(region_id or "")
    return region["zone"] if region else None


def options(shop: Shop, region_id: str) -> List[Option]:
    """Couriers that reach a region, fastest first."""
    zone = zone_of(shop, region_id)
    found = []
    for courier in shop.courier_table.values():
        terms = (courier.get("zones") or {}).get(zone)
        if terms:
            found.append(Option(courier, tuple(terms["days"]), float(terms.get("surcharge", 0))))
    return sorted(found, key=lambda o: (o.days[1], o.surcharge))


def standard_option(shop: Shop, region_id: str) -> Optional[Option]:
    """The shop's default courier where it reaches, else the cheapest courier that does."""
    reaching = options(shop, region_id)
    default = shop.couriers["default"]
    for option in reaching:
        if option.courier["id"] == default:
            return option
    return min(reaching, key=lambda o: o.surcharge) if reaching else None


def fastest_option(shop: Shop, region_id: str) -> Optional[Option]:
    reaching = options(shop, region_id)
    return reaching[0] if reaching else None


def fastest_courier(shop: Shop) -> Dict[str, Any]:
    """The courier with the shortest delivery days over the zones it serves (SF Express)."""

    def worst_days(courier: Dict[str, Any]) -> int:
        return max(t["days"][1] for t in (courier.get("zones") or {}).values() if t)

    return min(shop.courier_table.values(), key=worst_days)


def courier_ranges(courier: Dict[str, Any]) -> Dict[str, float]:
    """A courier's days and surcharge over every zone it serves: what it costs before the
    region is known ("SF: 1-7 days, 12-45 yuan depending on the region")."""
    terms = [t for t in (courier.get("zones") or {}).values() if t]
    surcharges = [float(t.get("surcharge", 0)) for t in terms]
    return {
        "days_min": min(t["days"][0] for t in terms),
        "days_max": max(t["days"][1] for t in terms),
        "surcharge_min": min(surcharges),
        "surcharge_max": max(surcharges),
    }


def promised_window(shop: Shop, order: OrderRecord) -> Optional[Tuple[dt.datetime, dt.datetime]]:
    """Earliest and latest arrival the courier promises for a shipped order."""
    if not order.shipped_at or not order.courier:
        return None
    zone = zone_of(shop, order.address.get("region"))
    terms = (shop.courier_table.get(order.courier, {}).get("zones") or {}).get(zone)
    if not terms:
        return None
    low, high = terms["days"]
    return order.shipped_at + dt.timedelta(days=low), order.shipped_at + dt.timedelta(days=high)


def is_overdue(shop: Shop, order: OrderRecord, at: Optional[dt.datetime] = None) -> bool:
    """Past the courier's promised latest day and still not delivered."""
    if order.status not in ("in_transit", "delayed", "out_for_delivery"):
        return False
    window = promised_window(shop, order)
    return bool(window) and (at or now()) > window[1]


def days_late(shop: Shop, order: OrderRecord, at: Optional[dt.datetime] = None) -> int:
    window = promised_window(shop, order)
    if not window:
        return 0
    return max(0, ((at or now()) - window[1]).days)

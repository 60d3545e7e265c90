"""Where orders come from: the embedded store, or a shop's own order API over HTTP.

Order ids have one documented shape, `SO` followed by 8 digits (SO20261101); anything
else is refused before any lookup. Both sources return the same `OrderRecord`.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Protocol

from bot.shop.loader import Shop
from bot.shop.store import Order, Store, now

ORDER_ID = re.compile(r"^SO\d{8}$")


def normalise_order_id(text: Optional[str]) -> Optional[str]:
    """'so20261101' -> 'SO20261101'; None if it is not an order id."""
    value = (text or "").strip().upper()
    return value if ORDER_ID.match(value) else None


class OrderSourceUnavailable(RuntimeError):
    """The order source did not answer properly (timeout, 5xx, bad reply)."""


@dataclass
class OrderRecord:
    id: str
    status: str
    phone: str
    customer_name: str
    address: Dict[str, str]
    courier: Optional[str]
    tracking_no: Optional[str]
    items: List[Dict[str, Any]]
    created_at: dt.datetime
    paid_at: Optional[dt.datetime] = None
    shipped_at: Optional[dt.datetime] = None
    delivered_at: Optional[dt.datetime] = None
    scans: List[Dict[str, Any]] = field(default_factory=list)

    def phone_matches(self, last4: Optional[str]) -> bool:
        return bool(last4) and len(str(last4)) == 4 and self.phone.endswith(str(last4))


class OrderSource(Protocol):
    def get(self, order_id: str) -> Optional[OrderRecord]: ...

    def update_address(self, order_id: str, address: Dict[str, str]) -> None: ...

    def cancel(self, order_id: str) -> None: ...


def _record(row: Order) -> OrderRecord:
    return OrderRecord(**{c.name: getattr(row, c.name) for c in Order.__table__.columns})


class StoreOrderSource:
    """Orders in the embedded SQL store, seeded from bot/shop/data/orders.yml."""

    def __init__(self, store: Store, shop: Shop) -> None:
        self.store = store
        self.seed(shop)

    def seed(self, shop: Shop) -> None:
        """Load the demo orders once; their dates are relative to the moment of seeding."""
        moment = now()

        def ago(days: Optional[float]) -> Optional[dt.datetime]:
            return None if days is None else moment - dt.timedelta(days=float(days))

        with self.store.session() as session:
            if session.query(Order).count():
                return
            for order in shop.orders:
                session.add(
                    Order(
                        id=order["id"],
                        status=order["status"],
                        phone=str(order["phone"]),
                        customer_name=(order.get("customer") or {}).get("name", ""),
                        address=order["address"],
                        courier=order.get("courier"),
                        tracking_no=order.get("tracking_no"),
                        items=order["items"],
                        created_at=ago(order["created_days_ago"]),
                        paid_at=ago(order.get("paid_days_ago")),
                        shipped_at=ago(order.get("shipped_days_ago")),
                        delivered_at=ago(order.get("delivered_days_ago")),
                        scans=[
                            {"at": ago(s["days_ago"]).isoformat(), "location": s["location"], "text": s["text"]}
                            for s in order.get("scans") or []
                        ],
                    )
                )

    def get(self, order_id: str) -> Optional[OrderRecord]:
        with self.store.session() as session:
            row = session.get(Order, order_id)
            return _record(row) if row else None

    def update_address(self, order_id: str, address: Dict[str, str]) -> None:
        with self.store.session() as session:
            session.get(Order, order_id).address = address

    def cancel(self, order_id: str) -> None:
        with self.store.session() as session:
            session.get(Order, order_id).status = "cancelled"


def _parse_time(value: Any) -> Optional[dt.datetime]:
    if not value:
        return None
    return dt.datetime.fromisoformat(str(value).replace("Z", "+00:00")).replace(tzinfo=None)


class HttpOrderSource:
    """A shop's order API: GET {base}/orders/{id}, PATCH {base}/orders/{id} {"address"},
    POST {base}/orders/{id}/cancel. JSON with the OrderRecord fields, times in ISO 8601."""

    def __init__(self, base_url: str, timeout: float = 3.0, token: str = "") -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.token = token

    def _call(self, method: str, path: str, body: Optional[Dict[str, Any]] = None) -> Optional[Dict[str, Any]]:
        data = json.dumps(body).encode() if body is not None else None
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        request = urllib.request.Request(self.base_url + path, data=data, method=method, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                raw = response.read()
                return json.loads(raw) if raw else {}
        except urllib.error.HTTPError as error:
            if error.code == 404:
                return None
            raise OrderSourceUnavailable(f"order API answered {error.code} for {method} {path}") from error
        except (urllib.error.URLError, TimeoutError, OSError, ValueError) as error:
            raise OrderSourceUnavailable(f"order API failed for {method} {path}: {error}") from error

    def get(self, order_id: str) -> Optional[OrderRecord]:
        data = self._call("GET", f"/orders/{order_id}")
        if data is None:
            return None
        try:
            return OrderRecord(
                id=data["id"],
                status=data["status"],
                phone=str(data["phone"]),
                customer_name=data.get("customer_name", ""),
                address=data["address"],
                courier=data.get("courier"),
                tracking_no=data.get("tracking_no"),
                items=data.get("items", []),
                created_at=_parse_time(data["created_at"]),
                paid_at=_parse_time(data.get("paid_at")),
                shipped_at=_parse_time(data.get("shipped_at")),
                delivered_at=_parse_time(data.get("delivered_at")),
                scans=data.get("scans", []),
            )
        except (KeyError, TypeError, ValueError) as error:
            raise OrderSourceUnavailable(f"order API sent an unusable order {order_id}: {error}") from error

    def update_address(self, order_id: str, address: Dict[str, str]) -> None:
        self._call("PATCH", f"/orders/{order_id}", {"address": address})

    def cancel(self, order_id: str) -> None:
        self._call("POST", f"/orders/{order_id}/cancel", {})


def order_source(shop: Shop) -> OrderSource:
    """ORDER_API_URL set: the shop's API; otherwise the embedded store. Built once per
    process and configuration (the embedded store is seeded once)."""
    from bot import settings
    from bot.shop.store import store_for

    url = settings.get("ORDER_API_URL")
    key = (id(shop), url, settings.get("ORDER_API_TIMEOUT"), settings.get("ORDER_API_TOKEN"), settings.database_url())
    if key not in _sources:
        _sources[key] = (
            HttpOrderSource(url, timeout=float(key[2]), token=key[3])
            if url
            else StoreOrderSource(store_for(key[4]), shop)
        )
    return _sources[key]


_sources: Dict[tuple, OrderSource] = {}

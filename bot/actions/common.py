"""What every action needs: the customer's language and the shop's data."""
from __future__ import annotations

from typing import Any, Dict

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from bot import settings
from bot.shop.loader import Shop, cached_shop

LANGUAGES = ("zh", "en")


def language_of(tracker: Tracker) -> str:
    """The reply language: the `language` slot, Chinese until the customer shows otherwise."""
    value = tracker.get_slot("language")
    return value if value in LANGUAGES else "zh"


def shop() -> Shop:
    return cached_shop(str(settings.path("SHOP_DATA_DIR")))


def agent_name(language: str) -> str:
    """The greeting name: .env wins, else the shop data."""
    configured = settings.get(f"AGENT_NAME_{language.upper()}")
    return configured or shop().text("agent_name", language)


def shop_text(key: str, language: str) -> str:
    return shop().text(key, language)


def say(dispatcher: CollectingDispatcher, tracker: Tracker, response: str, **values: Any) -> None:
    """Utter a domain response; Rasa picks the variant for the `language` slot.

    `after_sales` is filled in for every response because several of them point the
    customer to after-sales help.
    """
    language = language_of(tracker)
    filled: Dict[str, Any] = {"after_sales": shop_text("after_sales_contact", language)}
    filled.update(values)
    dispatcher.utter_message(response=response, **filled)


def format_day(moment, language: str) -> str:
    """A date in the shop's time zone: 11月24日 / 24 Nov."""
    local = _local(moment)
    return f"{local.month}月{local.day}日" if language == "zh" else local.strftime("%-d %b")


def format_time(moment, language: str) -> str:
    local = _local(moment)
    return f"{local.month}月{local.day}日 {local:%H:%M}" if language == "zh" else local.strftime("%-d %b %H:%M")


def shop_zone():
    """The shop's time zone (shop.yml service_hours.timezone): customers live by it."""
    from zoneinfo import ZoneInfo

    return ZoneInfo(shop().info["service_hours"]["timezone"])


def shop_now():
    import datetime as dt

    return dt.datetime.now(shop_zone())


def _local(moment):
    """Stored times are naive UTC; customers read them in the shop's time zone."""
    import datetime as dt

    if isinstance(moment, str):
        moment = dt.datetime.fromisoformat(moment)
    return moment.replace(tzinfo=dt.timezone.utc).astimezone(shop_zone())

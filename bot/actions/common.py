"""What every action needs: the customer's language, what the NLU found, the shop's data,
and the shop's formats for dates and lists (bot/shop/data/shop.yml `formats`)."""

from __future__ import annotations

import asyncio
import datetime as dt
import functools
from typing import Any, Callable, Dict, List, Optional, TypeVar

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from bot import settings
from bot.shop.loader import Shop, cached_shop

LANGUAGES = ("zh", "en")
# Keyword arguments of CollectingDispatcher.utter_message that are not template values.
RESERVED = {"text", "image", "json_message", "template", "attachment", "elements", "response"}
T = TypeVar("T")


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


# --- what the NLU found in the latest message --------------------------------------
def intent_of(tracker: Tracker) -> str:
    return (tracker.latest_message.get("intent") or {}).get("name") or ""


def entity_values(tracker: Tracker, name: str) -> List[Any]:
    """Values of entity `name` in the latest message, in order, without repeats."""
    values: List[Any] = []
    for entity in tracker.latest_message.get("entities") or []:
        if entity.get("entity") == name and entity.get("value") not in values:
            values.append(entity.get("value"))
    return values


def entity_value(tracker: Tracker, name: str) -> Optional[Any]:
    values = entity_values(tracker, name)
    return values[0] if values else None


def entity_text(tracker: Tracker, *names: str) -> Optional[str]:
    """What the customer typed for the first entity of one of `names` (a value such as
    12345.0 quoted back as they wrote it: "12345")."""
    text = latest_text(tracker)
    for name in names:
        for entity in tracker.latest_message.get("entities") or []:
            if entity.get("entity") == name:
                start, end = entity.get("start"), entity.get("end")
                typed = text[start:end] if isinstance(start, int) and isinstance(end, int) else ""
                return typed or str(entity.get("value"))
    return None


def latest_text(tracker: Tracker) -> str:
    return tracker.latest_message.get("text") or ""


def user_turns(tracker: Tracker) -> List[Dict[str, Any]]:
    """The customer's messages of this session, oldest first (parse data included)."""
    return [e for e in tracker.events if e.get("event") == "user"]


def last_bot_response(tracker: Tracker) -> Optional[str]:
    """The response name of the bot's last message before the customer's latest one:
    the question a "yes", "no" or bare piece of information answers."""
    after_latest_user = False
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            if after_latest_user:
                return None  # two customer messages in a row: nothing was asked
            after_latest_user = True
        elif event.get("event") == "bot" and after_latest_user:
            return (event.get("metadata") or {}).get("utter_action")
    return None


# --- saying things -------------------------------------------------------------------
def say(dispatcher: CollectingDispatcher, tracker: Tracker, response: str, **values: Any) -> None:
    """Utter a domain response; Rasa picks the variant for the `language` slot.

    `after_sales` and `policy_page` are filled in for every response because several
    of them point the customer there.
    """
    clash = RESERVED & set(values)
    if clash:  # utter_message would take them as the message itself, not as template values
        raise ValueError(f"{response}: rename the template value(s) {sorted(clash)}")
    language = language_of(tracker)
    filled: Dict[str, Any] = {
        "after_sales": shop_text("after_sales_contact", language),
        "policy_page": shop_text("policy_page", language),
    }
    filled.update(values)
    dispatcher.utter_message(response=response, **filled)


def fmt(key: str, language: str, /, **values: Any) -> str:
    """A format from shop.yml `formats` ("• {name}：{text}"), filled."""
    return shop().info["formats"][key][language].format(**values)


def join(items: List[str], language: str) -> str:
    return shop().info["formats"]["separator"][language].join(items)


def bullet_list(items: List[Dict[str, str]], language: str) -> str:
    """Lines "• name：text" for [{"name", "text"}]."""
    return "\n".join(fmt("list_item", language, **item) for item in items)


def format_day(moment: Any, language: str) -> str:
    """A date in the shop's time zone: 11月24日 / 24 Nov."""
    return _format("day", moment, language)


def format_time(moment: Any, language: str) -> str:
    return _format("time", moment, language)


def _format(name: str, moment: Any, language: str) -> str:
    local = _local(moment)
    months = shop().info["formats"]["month_names"][language]
    return fmt(
        name,
        language,
        month=local.month,
        day=local.day,
        hour=local.hour,
        minute=local.minute,
        month_name=months[local.month - 1] if months else local.month,
    )


def shop_zone():
    """The shop's time zone (shop.yml service_hours.timezone): customers live by it."""
    from zoneinfo import ZoneInfo

    return ZoneInfo(shop().info["service_hours"]["timezone"])


def shop_now() -> dt.datetime:
    return dt.datetime.now(shop_zone())


def _local(moment: Any) -> dt.datetime:
    """Stored times are naive UTC; customers read them in the shop's time zone."""
    if isinstance(moment, dt.date) and not isinstance(moment, dt.datetime):
        return dt.datetime.combine(moment, dt.time(12))
    if isinstance(moment, str):
        moment = dt.datetime.fromisoformat(moment)
    return moment.replace(tzinfo=dt.timezone.utc).astimezone(shop_zone())


# --- I/O off the event loop ------------------------------------------------------------
async def off_loop(function: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run a blocking call (SQL, the shop's order API) in a worker thread, so one slow
    call never stalls the action server's other conversations."""
    return await asyncio.to_thread(functools.partial(function, *args, **kwargs))

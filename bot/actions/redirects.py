"""Where a message belongs when the action its intent chose has nothing to act on: the
message's entities say it. A courier named in what was read as a product question
("能发顺丰吗？多少钱"), freight insurance asked as "有没有…" (运费险有没有), a product picked
with a "no" ("no, not this one, the white one"), "too slow, any faster option?" after the
delivery times. The action that was chosen hands the message over to the other action in
the same call; actions are found by name among rasa_sdk's Action classes (as the action
server finds them), so this module imports no action module and none imports it in a circle."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from functools import lru_cache
from typing import Any, Dict, List, Optional, Type

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from bot.actions.common import entity_value, entity_values

# What picks a product out ("the white one", "第二个", "the cheapest", "不是这个").
PICKING = ("product", "ordinal", "rank", "colour", "correction")
# What makes a message about delivery.
SHIPPING = ("courier", "region", "urgency")


def about_delivery(tracker: Tracker) -> bool:
    return any(entity_values(tracker, e) for e in SHIPPING)


def action_for(tracker: Tracker, instead_of: str) -> Optional[str]:
    """The action the entities point to, other than `instead_of` (an action name); None
    when they point nowhere else."""
    topics = set(entity_values(tracker, "topic"))
    picking = any(entity_values(tracker, e) for e in PICKING)
    about_a_product = picking or (entity_values(tracker, "attribute") and tracker.get_slot("product"))
    pointed = [
        ("action_product_info", about_a_product and not about_delivery(tracker)),
        ("action_shipping_info", about_delivery(tracker) or "free_shipping" in topics),
        ("action_return_policy", topics & {"exchange", "freight_insurance", "refund_progress"}),
        ("action_price_protection", "price_protection" in topics),
        (
            "action_after_sales_info",
            topics & {"repair", "installation_booking"} or entity_value(tracker, "complaint_category") == "quality",
        ),
    ]
    return next((action for action, points in pointed if points and action != instead_of), None)


@lru_cache(maxsize=1)
def _actions() -> Dict[str, Type[Action]]:
    """Every concrete Action class of bot.actions by its name (its modules imported first,
    as the action server does)."""
    import bot.actions

    for module in pkgutil.iter_modules(bot.actions.__path__):
        importlib.import_module(f"bot.actions.{module.name}")
    found: Dict[str, Type[Action]] = {}
    pending = list(Action.__subclasses__())
    while pending:
        cls = pending.pop()
        pending.extend(cls.__subclasses__())
        if inspect.isabstract(cls):
            continue
        try:
            found.setdefault(cls().name(), cls)
        except NotImplementedError:  # rasa_sdk's own bases name no action
            continue
    return found


async def hand_over(
    dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any], instead_of: str
) -> Optional[List[Dict[str, Any]]]:
    """The events of the action the entities point to, run on this message; None when
    they point nowhere else."""
    target = action_for(tracker, instead_of)
    if target is None:
        return None
    events = _actions()[target]().run(dispatcher, tracker, domain)
    return await events if inspect.isawaitable(events) else events

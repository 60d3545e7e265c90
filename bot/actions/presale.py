"""Pre-sale (seed 003 §2-§4): product answers from the catalog, needs-based picks,
promotions valid today, and bargaining answered warmly without inventing discounts.

What the customer asks comes from the NLU: `attribute` entities (size, thickness,
capacity, …), `need`, `colour`, `rank` ("the cheapest"), `ordinal` ("the second one"),
`other_product` (things the shop does not sell). The products under discussion carry
over: the `product` slot, and `candidates`, the products the bot listed last.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from bot.actions.common import (
    entity_value,
    entity_values,
    fmt,
    format_day,
    intent_of,
    join,
    language_of,
    latest_text,
    off_loop,
    say,
    shop,
    shop_now,
    user_turns,
)
from bot.actions.forms import ShopFormValidation
from bot.actions.redirects import about_delivery, hand_over
from bot.shop import catalog
from bot.shop.store import default_store

MAX_CHOICES = 5
CHOICE_RESPONSES = (
    "utter_which_product",
    "utter_category_products",
    "utter_recommend",
    "utter_recommend_refined",
    "utter_recommend_closest_budget",
    "utter_recommend_closest_needs",
)


def today() -> dt.date:
    return shop_now().date()


def choice_buttons(products: List[Dict[str, Any]], language: str) -> List[Dict[str, str]]:
    return [
        {
            "title": fmt("button_price", language, name=catalog.name(p, language), price=f"{p['price']:g}"),
            "payload": f'/inform{{"product":"{p["id"]}"}}',
        }
        for p in products[:MAX_CHOICES]
    ]


def promotion_lines(promotions: List[Dict[str, Any]], language: str) -> str:
    return "\n".join(
        fmt(
            "promotion",
            language,
            name=p["name"][language],
            text=p["summary"][language],
            until=format_day(catalog._date(p["valid_to"]), language),
        )
        for p in promotions
    )


def say_not_carried(dispatcher: CollectingDispatcher, tracker: Tracker) -> None:
    """We do not sell that kind of product; the kinds we do sell."""
    language = language_of(tracker)
    kinds = join([c["name"][language] for c in shop().categories.values()], language)
    say(dispatcher, tracker, "utter_not_carried", categories=kinds)


def candidates(tracker: Tracker) -> List[Dict[str, Any]]:
    products = shop().products
    return [products[p] for p in tracker.get_slot("candidates") or [] if p in products]


def asks_about_a_colour(tracker: Tracker) -> bool:
    """ "有灰色的吗" / "does it come in grey?" / a bare "white?" about the product under
    discussion: a colour asked with nothing to pick from (no list shown, or the product was
    picked from it already; no "not this one", no other product named)."""
    current = tracker.get_slot("product")
    listed = [p["id"] for p in candidates(tracker)]
    return (
        (intent_of(tracker) == "ask_product_info" or bool(entity_values(tracker, "question")))
        and bool(entity_values(tracker, "colour"))
        and bool(current)
        and (not listed or current in listed)
        and not any(entity_values(tracker, e) for e in ("product", "category", "correction", "ordinal", "rank"))
    )


def selected(tracker: Tracker, among: List[Dict[str, Any]]) -> List[Dict[str, Any]]:
    """The products of `among` that the customer picks out: "第二个", "the cheapest one",
    "the white one", or part of a name; "not this one" leaves out the one under discussion."""
    if entity_values(tracker, "correction"):
        others = [p for p in among if p["id"] != tracker.get_slot("product")]
        among = others or among
    ordinal = entity_value(tracker, "ordinal")
    if ordinal and str(ordinal).isdigit() and 0 < int(ordinal) <= len(among):
        return [among[int(ordinal) - 1]]
    rank = entity_value(tracker, "rank")
    if rank and among:
        return [catalog.ranked_first(among, rank)]
    colours = entity_values(tracker, "colour")
    if colours or entity_values(tracker, "need"):
        return catalog.narrow(shop(), among, latest_text(tracker), entity_values(tracker, "need"), colours)
    return []


class ActionProductInfo(Action):
    """Answer every attribute asked about the product in question, in one reply."""

    def name(self) -> Text:
        return "action_product_info"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[Dict[Text, Any]]:
        language = language_of(tracker)
        data = shop()
        question = self.question(tracker)
        if not question["attributes"] and not entity_values(tracker, "product") and about_delivery(tracker):
            # "too slow, any faster option?" after the delivery times: a question about shipping
            return await hand_over(dispatcher, tracker, domain, instead_of=self.name()) or []
        products, listed = self.products_meant(tracker)
        events: List[EventType] = [SlotSet("topic", "product")]
        if not products:
            if entity_values(tracker, "other_product") and not entity_values(tracker, "category"):
                say_not_carried(dispatcher, tracker)
                return events
            redirected = await hand_over(dispatcher, tracker, domain, instead_of=self.name())
            if redirected is not None:
                return redirected
            say(dispatcher, tracker, "utter_ask_which_product")
            return events + [SlotSet("pending_question", question), SlotSet("candidates", [])]
        if len(products) > 1:
            category = entity_value(tracker, "category")
            if listed and category:
                say(
                    dispatcher,
                    tracker,
                    "utter_category_products",
                    category=data.categories[category]["name"][language],
                    buttons=choice_buttons(products, language),
                )
                question = {**question, "open": False}  # "do you sell lamps?" is answered by the list
            else:
                say(dispatcher, tracker, "utter_which_product", buttons=choice_buttons(products, language))
            return events + [
                SlotSet("pending_question", question),
                SlotSet("candidates", [p["id"] for p in products[:MAX_CHOICES]]),
            ]
        product = products[0]
        if (
            entity_values(tracker, "correction")
            and not entity_values(tracker, "product")
            and product["id"] == tracker.get_slot("product")
        ):
            # "不是这个，另一款" when there is no other one of its kind
            say(dispatcher, tracker, "utter_only_this_one", product=catalog.name(product, language))
            return events
        # The question stays: "不是这个，是白色那款" asks it again about another product.
        events += [
            SlotSet("product", product["id"]),
            SlotSet("category", product["category"]),
            SlotSet("pending_question", question),
        ]
        facts = [catalog.fact(data, product, a, language) for a in question["attributes"]]
        known = [f for f in facts if f]
        if known:
            say(
                dispatcher,
                tracker,
                "utter_product_facts",
                product=catalog.name(product, language),
                facts="\n".join(known),
            )
        if len(known) < len(facts) or (not facts and question["open"]):
            await self.record_unanswered(dispatcher, tracker, product, question["text"])
        elif not facts:
            self.overview(dispatcher, tracker, product)
        return events

    @staticmethod
    def question(tracker: Tracker) -> Dict[str, Any]:
        """What is asked: the attributes named, the text, and whether it is an open
        question the data may not answer ("防潮吗?"). A message that only picks a product
        from a list keeps the question asked before it."""
        attributes = [a for a in entity_values(tracker, "attribute") if a != "availability"]
        if asks_about_a_colour(tracker) and not attributes:
            attributes = ["colours"]  # "有灰色的吗" about the product under discussion
        selecting = any(entity_values(tracker, e) for e in ("ordinal", "rank", "colour", "correction"))
        pending = tracker.get_slot("pending_question")
        if not attributes and (selecting or intent_of(tracker) == "inform") and isinstance(pending, dict):
            return pending
        text = latest_text(tracker)[:2000]
        about = "about" in entity_values(tracker, "question")  # "那餐桌呢": the last question, about it
        if not attributes and about and isinstance(pending, dict) and pending.get("attributes"):
            return {**pending, "text": text}
        is_open = (
            bool(entity_values(tracker, "question"))
            and not attributes
            and not selecting
            and not about
            and "availability" not in entity_values(tracker, "attribute")
        )
        return {"attributes": attributes, "text": text, "open": is_open}

    @staticmethod
    def products_meant(tracker: Tracker) -> "tuple[List[Dict[str, Any]], bool]":
        """The products the customer means, and whether they are a category's list."""
        data = shop()
        named = [data.products[p] for p in entity_values(tracker, "product") if p in data.products]
        if named:
            return named, False
        listed = candidates(tracker)
        picked = selected(tracker, listed)
        current = data.products.get(tracker.get_slot("product") or "")
        if current and asks_about_a_colour(tracker) and len(picked) != 1:
            return [current], False  # "does it come in white?" about the one under discussion
        if picked:
            return picked, False
        if current and any(entity_values(tracker, e) for e in ("correction", "colour", "rank")):
            # "不是这个，是白色那款": another one of the same kind as the product under discussion
            picked = selected(tracker, [p for p in data.products.values() if catalog.same_type(p, current)])
            if picked:
                return picked, False
        category = entity_value(tracker, "category")
        needs = entity_values(tracker, "need")
        if category:
            in_category = catalog.products_in(data, category)
            picked = selected(tracker, in_category)
            return (picked or catalog.narrow(data, in_category, latest_text(tracker), needs)), not picked
        if entity_value(tracker, "rank") and tracker.get_slot("category"):
            in_category = catalog.products_in(data, tracker.get_slot("category"))
            return [catalog.ranked_first(in_category, entity_value(tracker, "rank"))], False
        if entity_values(tracker, "other_product"):
            return [], False
        if current and (not listed or current in listed):
            return [current], False
        return listed, False  # the products just listed: one, or which of them?

    def overview(self, dispatcher: CollectingDispatcher, tracker: Tracker, product: Dict[str, Any]) -> None:
        language = language_of(tracker)
        facts = [catalog.fact(shop(), product, a, language) for a in catalog.OVERVIEW]
        say(
            dispatcher,
            tracker,
            "utter_product_overview",
            product=catalog.name(product, language),
            facts="\n".join(f for f in facts if f),
        )
        promotions = catalog.promotions_for(shop(), today(), [product])
        if promotions:
            say(dispatcher, tracker, "utter_promotion_applies", promotions=promotion_lines(promotions[:2], language))

    async def record_unanswered(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, product: Dict[str, Any], question: str
    ) -> None:
        """Seed 002 客服职责: what the knowledge base lacks is recorded and passed on."""
        language = language_of(tracker)
        await off_loop(default_store().record_unanswered, tracker.sender_id, language, question, product["id"])
        say(dispatcher, tracker, "utter_product_question_unknown", product=catalog.name(product, language))


class ValidateRecommendationForm(ShopFormValidation):
    """Collect only what is missing to recommend: what kind of product and the budget.
    Who it is for refines the picks whenever the customer says it."""

    def name(self) -> Text:
        return "validate_recommendation_form"

    async def extract_rec_category(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        if not self.answering(tracker) or (
            tracker.get_slot("rec_category") and not self.requested(tracker, "rec_category")
        ):
            return {}  # known already: a product named now is a question about it, not a new kind
        products = [shop().products[p] for p in entity_values(tracker, "product") if p in shop().products]
        category = entity_value(tracker, "category")
        if products:
            return {"rec_category": products[0]["category"]}
        if category:
            return {"rec_category": category}
        if not self.requested(tracker, "rec_category"):
            if tracker.get_slot("requested_slot") is None and entity_values(tracker, "other_product"):
                say(dispatcher, tracker, "utter_not_carried_short")  # "给我妈买个保温杯"; the kinds we have follow
            return {}
        if entity_value(tracker, "preference") == "none":
            return {"rec_category": "any"}
        if entity_values(tracker, "other_product"):
            say_not_carried(dispatcher, tracker)
            return {"rec_category": None}
        return {}

    async def extract_budget(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        budget = entity_value(tracker, "budget")
        if budget:
            return {"budget": budget}
        if not self.requested(tracker, "budget"):
            return {}
        if entity_value(tracker, "preference") == "none":  # "no limit", "不限": also a "no"
            return {"budget": {"amount": None, "currency": "CNY"}}
        if not self.answering(tracker):
            return {}
        ids = any(entity_values(tracker, e) for e in ("order_id", "tracking_no", "reference", "phone_number"))
        amount = entity_value(tracker, "number") or entity_value(tracker, "phone_last4")
        if amount and not ids:  # "300" alone, in answer to "what is your budget?"
            return {"budget": {"amount": float(amount), "currency": "CNY"}}
        return {}


def recommendation_messages(tracker: Tracker) -> List[Dict[str, Any]]:
    """The customer's messages since they last asked for a recommendation."""
    turns = user_turns(tracker)
    for index in range(len(turns) - 1, -1, -1):
        if ((turns[index].get("parse_data") or {}).get("intent") or {}).get("name") == "request_recommendation":
            return turns[index:]
    return turns[-1:]


def mentioned(messages: List[Dict[str, Any]], entity: str) -> List[Any]:
    found: List[Any] = []
    for message in messages:
        for e in (message.get("parse_data") or {}).get("entities") or []:
            if e.get("entity") == entity and e.get("value") not in found:
                found.append(e.get("value"))
    return found


class ActionRecommend(Action):
    """Up to 3 in-stock picks with a reason tied to the needs, or the closest option."""

    def name(self) -> Text:
        return "action_recommend"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[Dict[Text, Any]]:
        messages = recommendation_messages(tracker)
        products = [p for p in mentioned(messages, "product") if p in shop().products]
        context = {
            "category": tracker.get_slot("rec_category"),
            "budget": tracker.get_slot("budget"),
            "needs": mentioned(messages, "need"),
            "like": products[0] if products else None,
        }
        reset = [SlotSet("rec_category", None), SlotSet("budget", None)]
        return reset + recommend(dispatcher, tracker, context, refined=False)


def recommend(
    dispatcher: CollectingDispatcher, tracker: Tracker, context: Dict[str, Any], refined: bool
) -> List[EventType]:
    """Say the picks for `context` ({category, budget, needs, like}); remember them."""
    language = language_of(tracker)
    data = shop()
    budget = catalog.budget_in_cny(data, context["budget"])
    needs = [n for n in context["needs"] if n in data.catalog_info["tag_names"]]
    like = data.products.get(context.get("like") or "")
    picks = catalog.recommend(data, context["category"], budget, needs, today(), like=like)
    events: List[EventType] = [SlotSet("rec_context", context), SlotSet("topic", "recommendation")]
    if not picks.products:
        say(dispatcher, tracker, "utter_recommend_nothing")
        return events
    lines = "\n".join(
        fmt("numbered", language, number=i + 1, text=reason(p, budget, needs, language))
        for i, p in enumerate(picks.products)
    )
    buttons = choice_buttons(picks.products, language)
    if picks.relaxed:
        response = "utter_recommend_closest_budget" if picks.relaxed == "budget" else "utter_recommend_closest_needs"
        say(dispatcher, tracker, response, picks=lines, over=f"{picks.over_budget_by:g}", buttons=buttons)
    elif refined:
        names = join([data.catalog_info["tag_names"][n][language] for n in needs], language)
        say(dispatcher, tracker, "utter_recommend_refined", needs=names, picks=lines, buttons=buttons)
    else:
        say(dispatcher, tracker, "utter_recommend", picks=lines, buttons=buttons)
    if picks.promotions and not refined:  # said once, with the first picks
        say(dispatcher, tracker, "utter_promotion_applies", promotions=promotion_lines(picks.promotions[:2], language))
    return events + [SlotSet("candidates", [p["id"] for p in picks.products]), SlotSet("pending_question", None)]


def reason(product: Dict[str, Any], budget: Optional[float], needs: List[str], language: str) -> str:
    """One pick: name and price, within budget, who it suits, its first highlight."""
    parts = [fmt("pick", language, name=catalog.name(product, language), price=f"{product['price']:g}")]
    if budget is not None and product["price"] <= budget:
        parts.append(fmt("pick_in_budget", language, budget=f"{budget:g}"))
    tag_names = shop().catalog_info["tag_names"]
    matched = [tag_names[n][language] for n in needs if n in product["tags"]]
    if matched:
        parts.append(fmt("pick_suits", language, needs=join(matched, language)))
    parts.append(product["features"][language][0])
    return shop().info["formats"]["pick_joiner"][language].join(parts)


class ActionPromotions(Action):
    def name(self) -> Text:
        return "action_promotions"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[Dict[Text, Any]]:
        language = language_of(tracker)
        if "gift" in entity_values(tracker, "topic"):
            say(dispatcher, tracker, "utter_gifts", gifts=shop().pricing_policy["gifts"][language])
            return []
        promotions = catalog.valid_promotions(shop(), today())
        if promotions:
            say(dispatcher, tracker, "utter_promotions", promotions=promotion_lines(promotions, language))
        else:
            say(dispatcher, tracker, "utter_no_promotions")
        return []


class ActionBargain(Action):
    """Seed 003 §3: warm and respectful, the same price for everyone, the real ways to save."""

    def name(self) -> Text:
        return "action_bargain"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[Dict[Text, Any]]:
        language = language_of(tracker)
        policy = shop().pricing_policy
        product = shop().products.get(tracker.get_slot("product") or "")
        promotions = (
            catalog.promotions_for(shop(), today(), [product]) if product else catalog.valid_promotions(shop(), today())
        )[:3]
        times = sum(
            1 for e in user_turns(tracker) if ((e.get("parse_data") or {}).get("intent") or {}).get("name") == "bargain"
        )
        lines = promotion_lines(promotions, language) or "-"
        if times <= 1:
            say(dispatcher, tracker, "utter_bargain", statement=policy["statement_short"][language], promotions=lines)
        else:
            say(dispatcher, tracker, "utter_bargain_again", promotions=lines, days=policy["price_protection_days"])
        return []

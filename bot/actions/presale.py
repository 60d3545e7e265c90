"""Pre-sale (seed 003 §2-§4): product answers from the catalog, needs-based picks,
promotions valid today, and bargaining answered warmly without inventing discounts.
"""
from __future__ import annotations

import datetime as dt
import re
from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from bot.actions.common import format_day, language_of, say, shop, shop_now
from bot.shop import catalog
from bot.shop.store import default_store

# What the customer asks about a product, by attribute (several may be asked at once).
ATTRIBUTES = {
    "size": r"尺寸|尺村|多高|多宽|多大|多长|多深|高度|宽度|深度|长宽|规格|dimension|size|how (tall|wide|high|big|deep|long)|measure",
    "weight": r"多重|重量|几斤|几公斤|weigh|heavy",
    "material": r"材质|材料|什么做的|实木|真皮|面料|material|made (of|from)|solid wood|leather|fabric",
    "price": r"多少钱|价格|价钱|啥价|几块|price|cost|how much",
    "stock": r"有货|有没有货|现货|库存|缺货|卖完|in stock|available|sold out|stock",
    "colours": r"颜色|什么色|几种色|colou?r",
    "installation": r"安装|组装|装吗|怎么装|拼装|install|assembl|set ?up",
    "transport": r"运输|路上|磕|碰坏|压坏|摔|易碎|包装|transport|in transit|damage|break|broken|packag|fragile",
    "door_delivery": r"送货上门|上门|送到家|送上楼|入户|door|deliver(ed|y)? (to|into) (my|the) (home|house|flat)|upstairs",
    "warranty": r"保修|质保|保固|保多久|warrant|guarantee",
    "features": r"特点|功能|优点|亮点|有什么好|feature|what.*good|highlight",
}
ATTRIBUTE_PATTERNS = {key: re.compile(pattern, re.IGNORECASE) for key, pattern in ATTRIBUTES.items()}
QUESTION = re.compile(r"[?？吗呢么]|多少|怎么|怎样|能不能|可不可以|是否|有没有|会不会|几|什么|哪|"
                      r"(?i:\b(what|how|does|do|is|are|can|will|which|any)\b)")
# Who or what a product is for (catalog tags).
NEEDS = {
    "kids": r"儿童|孩子|宝宝|小孩|女儿|儿子|男孩|女孩|\bkids?\b|child|baby|toddler|\bsons?\b|daughter",
    "elderly": r"老人|父母|爸妈|长辈|老年|爷爷|奶奶|elderly|parents|grand(ma|pa|parent)|senior",
    "small_space": r"小户型|出租屋|小房间|小卧室|空间小|地方小|small (apartment|flat|room|space|bedroom)|studio|rental|tiny",
    "student": r"学生|宿舍|上学|写作业|student|dorm|college|homework",
    "office": r"办公|公司|工作室|office|work from home|\bwfh\b",
    "gift": r"送礼|礼物|送人|送朋友|乔迁|gift|present|housewarming",
    "couple": r"新婚|情侣|两口子|夫妻|婚房|couple|newlywed|wedding|partner",
    "pet_friendly": r"宠物|猫|狗|\bpets?\b|\bcats?\b|\bdogs?\b",
    "quiet": r"安静|静音|怕吵|噪音小|quiet|silent|light sleeper|noise",
    "energy_saving": r"省电|节能|energy|power saving",
    "family": r"一家|全家|家庭|家人|family",
}
NEED_PATTERNS = {key: re.compile(pattern, re.IGNORECASE) for key, pattern in NEEDS.items()}
NEED_NAMES = {
    "kids": {"zh": "孩子用", "en": "kids"}, "elderly": {"zh": "老人用", "en": "older people"},
    "small_space": {"zh": "小空间", "en": "small spaces"}, "student": {"zh": "学生", "en": "students"},
    "office": {"zh": "办公", "en": "the office"}, "gift": {"zh": "送礼", "en": "gifts"},
    "couple": {"zh": "两人生活", "en": "couples"}, "pet_friendly": {"zh": "有宠物的家", "en": "homes with pets"},
    "quiet": {"zh": "怕吵的人", "en": "light sleepers"}, "energy_saving": {"zh": "省电", "en": "saving energy"},
    "family": {"zh": "全家用", "en": "families"},
}
NO_PREFERENCE = re.compile(r"随便|都行|都可以|无所谓|没有|没要求|不限|不知道|any|anything|no (budget|preference|limit)|"
                           r"whatever works|doesn'?t matter|not sure|none", re.IGNORECASE)
MAX_CHOICES = 5


def today() -> dt.date:
    return shop_now().date()


def entity_values(tracker: Tracker, name: str) -> List[Any]:
    values = []
    for entity in tracker.latest_message.get("entities") or []:
        if entity.get("entity") == name and entity.get("value") not in values:
            values.append(entity.get("value"))
    return values


def asked_attributes(text: str) -> List[str]:
    return [key for key, pattern in ATTRIBUTE_PATTERNS.items() if pattern.search(text)]


def needs_in(text: str) -> List[str]:
    return [key for key, pattern in NEED_PATTERNS.items() if pattern.search(text)]


def choice_buttons(products: List[Dict[str, Any]], language: str) -> List[Dict[str, str]]:
    return [{"title": f"{catalog.name(p, language)} ¥{p['price']:g}",
             "payload": f'/inform{{"product":"{p["id"]}"}}'} for p in products[:MAX_CHOICES]]


def promotion_lines(promotions: List[Dict[str, Any]], language: str) -> str:
    lines = []
    for promotion in promotions:
        until = format_day(dt.datetime.combine(catalog._date(promotion["valid_to"]), dt.time(12)), language)
        lines.append(f"• {promotion['name'][language]}：{promotion['conditions'][language]}（有效期至{until}）"
                     if language == "zh" else
                     f"• {promotion['name'][language]}: {promotion['conditions'][language]} (until {until})")
    return "\n".join(lines)


class ActionProductInfo(Action):
    """Answer every attribute asked about the product in question, in one reply."""

    def name(self) -> Text:
        return "action_product_info"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
            domain: Dict[Text, Any]) -> List[Dict[Text, Any]]:
        language = language_of(tracker)
        data = shop()
        choosing = bool(tracker.get_slot("awaiting_product_choice"))
        text = tracker.latest_message.get("text") or ""
        question = (tracker.get_slot("pending_question") or "") if choosing else text
        products = [data.products[p] for p in entity_values(tracker, "product") if p in data.products]
        if not products:
            categories = entity_values(tracker, "category")
            if categories:
                products = catalog.narrow(catalog.products_in(data, categories[0]), text, needs_in(text))
            elif tracker.get_slot("product") in data.products:
                products = [data.products[tracker.get_slot("product")]]
        if not products:
            say(dispatcher, tracker, "utter_ask_which_product")
            return [SlotSet("awaiting_product_choice", True), SlotSet("pending_question", question)]
        if len(products) > 1:
            say(dispatcher, tracker, "utter_which_product", buttons=choice_buttons(products, language))
            return [SlotSet("awaiting_product_choice", True), SlotSet("pending_question", question)]
        product = products[0]
        done = [SlotSet("product", product["id"]), SlotSet("awaiting_product_choice", False),
                SlotSet("pending_question", None)]
        asked = self.without_names(question, tracker)  # "fabric" in "Nordic Fabric Sofa" is no question
        attributes = asked_attributes(asked)
        if attributes:
            facts = "\n".join(catalog.fact(product, a, language) for a in attributes)
            say(dispatcher, tracker, "utter_product_facts", product=catalog.name(product, language), facts=facts)
        elif QUESTION.search(asked):
            self.record_unanswered(dispatcher, tracker, product, question)
        else:
            self.overview(dispatcher, tracker, product)
        return done

    @staticmethod
    def without_names(text: str, tracker: Tracker) -> str:
        """The question without the product's name, so '儿童衣柜' alone is not a question."""
        for entity in tracker.latest_message.get("entities") or []:
            if entity.get("entity") in ("product", "category", "brand") and entity.get("text"):
                text = text.replace(str(entity["text"]), " ")
        return text

    def overview(self, dispatcher: CollectingDispatcher, tracker: Tracker, product: Dict[str, Any]) -> None:
        language = language_of(tracker)
        facts = "\n".join(catalog.fact(product, a, language) for a in catalog.OVERVIEW)
        related = [shop().products[r] for r in product["related"] if r in shop().products]
        say(dispatcher, tracker, "utter_product_overview", product=catalog.name(product, language), facts=facts,
            related=catalog.SEPARATOR[language].join(catalog.name(r, language) for r in related[:3]))
        promotions = catalog.promotions_for(shop(), today(), [product])
        if promotions:
            say(dispatcher, tracker, "utter_promotion_applies", promotions=promotion_lines(promotions[:2], language))

    def record_unanswered(self, dispatcher: CollectingDispatcher, tracker: Tracker, product: Dict[str, Any],
                          question: str) -> None:
        """Seed 002 客服职责: what the knowledge base lacks is recorded and passed on."""
        language = language_of(tracker)
        default_store().record_unanswered(tracker.sender_id, language, question[:2000], product["id"])
        say(dispatcher, tracker, "utter_product_question_unknown", product=catalog.name(product, language))


class ValidateRecommendationForm(FormValidationAction):
    """Collect only the needs still missing: what kind of product, budget, who it is for."""

    def name(self) -> Text:
        return "validate_recommendation_form"

    def requested(self, tracker: Tracker, slot: str) -> bool:
        return tracker.get_slot("requested_slot") == slot

    async def extract_rec_category(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                                   domain: DomainDict) -> Dict[Text, Any]:
        categories = entity_values(tracker, "category")
        products = [shop().products[p] for p in entity_values(tracker, "product") if p in shop().products]
        if products:
            return {"rec_category": products[0]["category"]}
        if categories:
            return {"rec_category": categories[0]}
        if self.requested(tracker, "rec_category") and NO_PREFERENCE.search(tracker.latest_message.get("text") or ""):
            return {"rec_category": "any"}
        return {}

    async def extract_rec_for(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                              domain: DomainDict) -> Dict[Text, Any]:
        text = tracker.latest_message.get("text") or ""
        needs = needs_in(text)
        if needs:
            return {"rec_for": needs}
        asked_for_person = (tracker.latest_message.get("intent") or {}).get("name") == "request_human"
        if self.requested(tracker, "rec_for") and not asked_for_person:
            return {"rec_for": ["any"]}  # anything else said here: no particular need
        return {}

    async def extract_budget(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                             domain: DomainDict) -> Dict[Text, Any]:
        budgets = entity_values(tracker, "budget")
        if budgets:
            return {"budget": budgets[0]}
        text = tracker.latest_message.get("text") or ""
        if self.requested(tracker, "budget"):
            number = re.search(r"\d+(\.\d+)?", text)
            if number:  # "300" alone, in answer to "what is your budget?"
                return {"budget": {"amount": float(number.group()), "currency": "CNY"}}
            if NO_PREFERENCE.search(text):
                return {"budget": {"amount": None, "currency": "CNY"}}
        return {}


class ActionRecommend(Action):
    """Up to 3 in-stock picks with a reason tied to the needs, or the closest option."""

    def name(self) -> Text:
        return "action_recommend"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
            domain: Dict[Text, Any]) -> List[Dict[Text, Any]]:
        language = language_of(tracker)
        data = shop()
        category = tracker.get_slot("rec_category")
        needs = [n for n in (tracker.get_slot("rec_for") or []) if n in NEEDS]
        budget = catalog.budget_in_cny(data, tracker.get_slot("budget"))
        picks = catalog.recommend(data, category, budget, needs, today(), like=self.named_product(tracker))
        reset = [SlotSet(s, None) for s in ("rec_category", "rec_for", "budget")]
        if not picks.products:
            say(dispatcher, tracker, "utter_recommend_nothing")
            return reset
        reasons = "\n".join(f"{i + 1}. {self.reason(p, budget, needs, language)}" for i, p in enumerate(picks.products))
        if picks.relaxed:
            response = "utter_recommend_closest_budget" if picks.relaxed == "budget" else "utter_recommend_closest_needs"
            say(dispatcher, tracker, response, picks=reasons,
                over=f"{picks.over_budget_by:g}", buttons=choice_buttons(picks.products, language))
        else:
            say(dispatcher, tracker, "utter_recommend", picks=reasons, buttons=choice_buttons(picks.products, language))
        if picks.promotions:
            say(dispatcher, tracker, "utter_promotion_applies", promotions=promotion_lines(picks.promotions[:2], language))
        return reset + [SlotSet("awaiting_product_choice", True), SlotSet("pending_question", "")]

    @staticmethod
    def named_product(tracker: Tracker) -> Optional[Dict[str, Any]]:
        """A product named while asking ("a sofa under 1000"): picks are then of its type."""
        for event in reversed(tracker.events):
            if event.get("event") != "user":
                continue
            parse = event.get("parse_data") or {}
            for entity in parse.get("entities") or []:
                if entity.get("entity") == "product" and entity.get("value") in shop().products:
                    return shop().products[entity["value"]]
            if (parse.get("intent") or {}).get("name") == "request_recommendation":
                return None
        return None

    @staticmethod
    def reason(product: Dict[str, Any], budget: Optional[float], needs: List[str], language: str) -> str:
        zh = language == "zh"
        parts = [f"{catalog.name(product, language)}，{product['price']:g}元" if zh
                 else f"{catalog.name(product, language)}, {product['price']:g} yuan"]
        if budget is not None and product["price"] <= budget:
            parts.append(f"在您{budget:g}元的预算内" if zh else f"within your {budget:g} yuan budget")
        matched = [NEED_NAMES[n][language] for n in needs if n in product["tags"]]
        if matched:
            parts.append(("适合" if zh else "suited to ") + catalog.SEPARATOR[language].join(matched))
        parts.append(product["features"][language][0])
        return ("，" if zh else "; ").join(parts)


class ActionPromotions(Action):
    def name(self) -> Text:
        return "action_promotions"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
            domain: Dict[Text, Any]) -> List[Dict[Text, Any]]:
        language = language_of(tracker)
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

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
            domain: Dict[Text, Any]) -> List[Dict[Text, Any]]:
        language = language_of(tracker)
        data = shop()
        policy = data.pricing_policy
        product = data.products.get(tracker.get_slot("product") or "")
        promotions = (catalog.promotions_for(data, today(), [product]) if product
                      else catalog.valid_promotions(data, today()))
        times = sum(1 for e in tracker.events if e.get("event") == "user"
                    and ((e.get("parse_data") or {}).get("intent") or {}).get("name") == "bargain")
        response = "utter_bargain" if times <= 1 else "utter_bargain_again"
        say(dispatcher, tracker, response, statement=policy["statement"][language],
            gifts=policy["gifts"][language], days=policy["price_protection_days"],
            promotions=promotion_lines(promotions, language) or "-")
        return []

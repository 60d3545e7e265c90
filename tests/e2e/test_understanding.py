"""Issue 10's examples of how customers write, through the trained model of the running
bot (Rasa's /model/parse): each is read as the customer means it. The conversations that
follow from them are in tests/conversations."""

import pytest

# text, the intent meant, an entity (name, value) that must be found
EXAMPLES = [
    ("在吗 货呢", "check_order_status", None),  # "are you there? where is my parcel"
    ("降价了能退差价吗", "ask_price_protection", ("topic", "price_protection")),
    ("多厚？", "ask_product_info", ("attribute", "thickness")),
    ("do you sell lamps?", "ask_product_info", ("category", "lighting")),
    ("the cheapest one?", "ask_product_info", ("rank", "cheapest")),
]


@pytest.mark.parametrize("text,intent,entity", EXAMPLES, ids=[e[0] for e in EXAMPLES])
def test_customers_are_understood_as_they_mean_it(rest, text, intent, entity):
    parsed = rest.post_json(rest.api("/model/parse"), {"text": text})
    ranking = [(r["name"], round(r["confidence"], 2)) for r in parsed.get("intent_ranking", [])[:3]]
    assert parsed["intent"]["name"] == intent, ranking
    if entity:
        found = {(e["entity"], e.get("value")) for e in parsed["entities"]}
        assert entity in found, found

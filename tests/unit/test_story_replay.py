"""scripts/test_stories.py's second stage: a story against a bot's tracker (a fake REST client)."""

from typing import Any, Dict, List

from scripts.test_stories import play, story_turns


class FakeRest:
    """Answers each message with the next canned list of events."""

    def __init__(self, turns: List[List[Dict[str, Any]]]) -> None:
        self.turns = turns
        self.events: List[Dict[str, Any]] = []
        self.sent: List[str] = []

    def tracker(self, sender: str) -> Dict[str, Any]:
        return {"events": list(self.events), "paused": False}

    def send(self, sender: str, text: str) -> None:
        self.sent.append(text)
        self.events += [{"event": "user", "text": text}, *self.turns.pop(0), action("action_listen")]


def action(name: str) -> Dict[str, Any]:
    return {"event": "action", "name": name}


def slot(name: str, value: Any) -> Dict[str, Any]:
    return {"event": "slot", "name": name, "value": value}


TURNS = [
    {
        "text": "我的订单到哪了",
        "actions": ["order_form"],
        "slots": [("requested_slot", "order_id")],
        "loops": ["order_form"],
    },
    {"text": "SO20261101", "actions": ["order_form"], "slots": [("order_id", "SO20261101")], "loops": []},
]


def test_a_story_the_bot_follows_passes():
    rest = FakeRest(
        [
            [action("order_form"), {"event": "active_loop", "name": "order_form"}, slot("requested_slot", "order_id")],
            [
                slot("order_id", "SO20261101"),
                action("order_form"),
                slot("requested_slot", "phone_last4"),
                action("action_more"),
            ],
        ]
    )  # the story may stop before the bot's last turn ends
    assert play(rest, "story", TURNS) == []
    assert rest.sent == ["我的订单到哪了", "SO20261101"]


def test_other_actions_or_slot_values_fail():
    rest = FakeRest([[action("action_complaint_start"), slot("requested_slot", "order_id")]])
    problems = play(rest, "story", TURNS)
    assert any("actions ['action_complaint_start']" in p for p in problems)
    assert any("active_loop order_form expected" in p for p in problems)
    rest = FakeRest(
        [
            [action("order_form"), {"event": "active_loop", "name": "order_form"}, slot("requested_slot", "order_id")],
            [slot("order_id", "SO20261102"), action("order_form")],
        ]
    )
    assert play(rest, "story", TURNS) == [
        "turn 2 ('SO20261101'): slot order_id = 'SO20261101' expected, set: ['SO20261102']"
    ]


def test_extra_actions_before_the_next_message_fail():
    rest = FakeRest(
        [
            [
                action("order_form"),
                action("utter_extra"),
                {"event": "active_loop", "name": "order_form"},
                slot("requested_slot", "order_id"),
            ]
        ]
    )
    assert play(rest, "story", TURNS)[0].startswith("turn 1 ('我的订单到哪了'): actions ['order_form', 'utter_extra']")


def test_the_test_stories_are_read_with_their_texts_actions_and_slots():
    stories = dict(story_turns("tests/stories"))
    first = stories["test_logistics.yml: order status, id asked for, one wrong digit answer (zh)"]
    assert first[0] == {
        "text": "我的订单到哪了",
        "actions": ["order_form"],
        "slots": [("order_purpose", "status"), ("requested_slot", "order_id")],
        "loops": ["order_form"],
    }
    assert first[1]["text"] == "SO20261101"  # the entity annotation is not sent

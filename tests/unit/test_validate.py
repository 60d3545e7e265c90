"""scripts/validate.py lets through exactly what its docstring and the README say."""

import pytest

from scripts.validate import problems, responses_named_in, responses_used_by_actions

WARN = "/venv/rasa/shared/utils/io.py:100: UserWarning: "


def test_responses_named_in_code_but_not_in_docstrings_or_comments():
    code = '''"""Says utter_from_docstring."""
# utter_from_comment
RESPONSES = {"paid": "utter_order_paid"}


def run(dispatcher):
    """utter_from_function_docstring"""
    say(dispatcher, "utter_greet")
    response = "utter_bargain" if True else 'utter_bargain_again'
'''
    assert responses_named_in(code) == {"utter_order_paid", "utter_greet", "utter_bargain", "utter_bargain_again"}


def test_the_bots_actions_and_forms_are_found():
    used = responses_used_by_actions()
    # said by ActionGreet, a STATUS_RESPONSES entry of logistics, asked by the order form
    assert {"utter_greet", "utter_order_paid", "utter_ask_phone_last4"} <= used


def test_what_the_rasa_server_says_itself_is_found():
    """The apology when the action server is down (bot/resilience.py) and the
    acknowledgement while a hand-off waits (bot/handoff_waiting.py)."""
    from scripts.validate import responses_said_by_the_server

    said = responses_said_by_the_server()
    assert {"utter_service_trouble", "utter_handoff_waiting", "utter_handoff_withdrawn"} <= said
    assert said <= responses_used_by_actions()
    assert "utter_greet" not in said  # only what those modules name


@pytest.mark.parametrize(
    "line,fails",
    [
        (WARN + "The utterance 'utter_greet' is not used in any story or rule.", False),
        (WARN + "The utterance 'utter_nobody_says_this' is not used in any story or rule.", True),
        (WARN + "The intent 'ask_price' is not used in any story or rule.", True),
        (
            WARN
            + "The intent 'EXTERNAL_silence' is listed in the domain file, but is not found in the NLU training data.",
            False,
        ),
        (WARN + "Slot 'x' has influence_conversation set but is not used.", True),
        ("2026-11-30 04:21:30 WARNING  rasa.validator  - Issue found in 'bot/data/rules/x.yml'", True),
        ("/venv/sqlalchemy/orm.py:1044: MovedIn20Warning: Deprecated API features detected!", False),
    ],
)
def test_only_responses_used_by_actions_and_external_intents_are_exempt(line, fails):
    assert problems([line], {"utter_greet"}) == ([line] if fails else [])

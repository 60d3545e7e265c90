"""ConversationGuardPolicy on real Rasa trackers: it brings a form back after a digression,
lets the customer leave a form, and stops a loop before Rasa's circuit breaker would."""

import pytest
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.core.constants import ACTION_LISTEN_NAME
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import (
    ActionExecuted,
    ActionExecutionRejected,
    ActiveLoop,
    BotUttered,
    SlotSet,
    UserUttered,
)
from rasa.shared.core.trackers import DialogueStateTracker

from bot import settings
from bot.policies import ConversationGuardPolicy


@pytest.fixture(scope="module")
def domain():
    return Domain.load(str(settings.ROOT / "bot" / "domain.yml"))


@pytest.fixture
def policy(tmp_path):
    return ConversationGuardPolicy.create(
        ConversationGuardPolicy.get_default_config(),
        LocalModelStorage(tmp_path),
        Resource("guard"),
        ExecutionContext(GraphSchema({}), "test"),
    )


def user(intent, text="..."):
    return UserUttered(text, {"name": intent, "confidence": 1.0})


def in_order_form(*turn):
    """A conversation whose order form asks for the phone digits, then `turn`."""
    return [
        ActionExecuted(ACTION_LISTEN_NAME),
        user("check_order_status"),
        ActionExecuted("order_form"),
        ActiveLoop("order_form"),
        SlotSet("requested_slot", "phone_last4"),
        ActionExecuted(ACTION_LISTEN_NAME),
        *turn,
    ]


def predicted(policy, domain, events):
    tracker = DialogueStateTracker.from_events("guard", events, domain.slots)
    prediction = policy.predict_action_probabilities(tracker, domain)
    if max(prediction.probabilities) == 0:
        return None  # abstains: the other policies decide
    return domain.action_names_or_texts[prediction.max_confidence_index]


def test_it_abstains_in_a_normal_turn(policy, domain):
    assert predicted(policy, domain, in_order_form(user("inform", "4608"))) is None
    assert predicted(policy, domain, [ActionExecuted(ACTION_LISTEN_NAME), user("greet")]) is None


def test_after_a_digression_the_form_asks_again(policy, domain):
    events = in_order_form(
        user("ask_shipping", "能发顺丰吗"),
        ActionExecutionRejected("order_form"),
        ActionExecuted("action_shipping_info"),
        BotUttered("SF ..."),
    )
    assert predicted(policy, domain, events) == "order_form"


def test_a_way_out_leaves_the_form(policy, domain):
    for intent in ("deny", "goodbye", "thank"):
        events = in_order_form(user(intent), ActionExecutionRejected("order_form"))
        assert predicted(policy, domain, events) == "action_leave_form", intent
    left = in_order_form(user("deny"), ActionExecutionRejected("order_form"), ActionExecuted("action_leave_form"))
    assert predicted(policy, domain, left) == ACTION_LISTEN_NAME


def test_a_loop_is_stopped_with_an_apology_then_the_bot_listens(policy, domain):
    """The issue's "到底到哪了啊": the form rejected again and again in one turn."""
    rejected_twice = in_order_form(
        user("check_order_status", "到底到哪了啊"),
        ActionExecutionRejected("order_form"),
        ActionExecutionRejected("order_form"),
    )
    assert predicted(policy, domain, rejected_twice) == "action_recover"
    repeated = [
        ActionExecuted(ACTION_LISTEN_NAME),
        user("nlu_fallback"),
        ActionExecuted("action_fallback"),
        ActionExecuted("action_fallback"),
    ]
    assert predicted(policy, domain, repeated) == "action_recover"
    recovered = repeated + [ActionExecuted("action_recover")]
    assert predicted(policy, domain, recovered) == ACTION_LISTEN_NAME


def test_it_wins_over_rasa_rules_on_equal_confidence(policy):
    assert policy.priority > 6  # RulePolicy's priority


def test_a_yes_or_no_question_opens_the_confirmation_form(policy, domain):
    verified = [
        ActionExecuted(ACTION_LISTEN_NAME),
        user("inform", "5590"),
        ActionExecuted("action_order_followup"),
    ]
    assert predicted(policy, domain, verified + [SlotSet("pending_confirmation", "cancel")]) == "confirm_form"
    assert predicted(policy, domain, verified) is None  # a status answer: nothing waits for a yes
    resolved = [ActionExecuted("action_resolve_confirmation"), SlotSet("pending_confirmation", None)]
    assert predicted(policy, domain, verified + [SlotSet("pending_confirmation", "cancel")] + resolved) is None
    asked = [SlotSet("pending_confirmation", "cancel"), ActionExecuted("confirm_form"), ActiveLoop("confirm_form")]
    assert predicted(policy, domain, verified + asked) != "confirm_form"  # once open, the form asks


def in_remedy_form_then_a_recommendation(*more):
    """The complaint waits for the remedy; "can you recommend a lamp?" opens the
    recommendation form instead, and "under 300" completes it."""
    return [
        ActionExecuted(ACTION_LISTEN_NAME),
        user("complain"),
        ActionExecuted("remedy_form"),
        ActiveLoop("remedy_form"),
        SlotSet("requested_slot", "remedy"),
        ActionExecuted(ACTION_LISTEN_NAME),
        user("request_recommendation"),
        ActionExecutionRejected("remedy_form"),
        ActionExecuted("recommendation_form"),
        ActiveLoop("recommendation_form"),
        SlotSet("requested_slot", "budget"),
        ActionExecuted(ACTION_LISTEN_NAME),
        user("inform"),
        ActionExecuted("recommendation_form"),
        ActiveLoop(None),
        SlotSet("requested_slot", None),
        *more,
    ]


def test_the_interrupted_form_comes_back_after_the_other_forms_answer(policy, domain):
    # the recommendation's own answer comes first (the rules predict it) ...
    assert predicted(policy, domain, in_remedy_form_then_a_recommendation()) is None
    # ... then the complaint's remedy form asks again, once
    events = in_remedy_form_then_a_recommendation(ActionExecuted("action_recommend"))
    assert predicted(policy, domain, events) == "remedy_form"
    again = events + [ActionExecuted("remedy_form"), ActiveLoop("remedy_form"), SlotSet("requested_slot", "remedy")]
    assert predicted(policy, domain, again) is None


def test_a_form_that_ended_on_its_own_brings_nothing_back(policy, domain):
    events = in_order_form(
        user("inform"),
        ActionExecuted("order_form"),
        ActiveLoop(None),
        ActionExecuted("action_order_status"),
    )
    assert predicted(policy, domain, events) is None

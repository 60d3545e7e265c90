"""ConversationGuardPolicy: forms that survive digressions, ways out, and no loops.

Rasa's forms reject a message they cannot use (the RulePolicy then answers it), but
nothing brings the form back afterwards unless a rule per form and per intent says so,
and a message that re-triggers the active form makes it reject itself until the circuit
breaker stops the conversation. This policy handles those situations generically, for
every form, and abstains otherwise (all zeros, so RulePolicy and MemoizationPolicy decide):

1. Loop guard. Within one customer turn, an action that already ran, a form rejected
   twice, or more than `max_actions_per_turn` actions mean the dialogue is going in
   circles: predict `recover_action` (an apology and the way to a person), then listen.
   The customer always gets an answer and the conversation stays alive, well before
   Rasa's circuit breaker (10 predictions) would silence it.
2. Ways out. A form rejected a message whose intent is one of `exit_intents` ("算了",
   "不用了", "bye", "thanks"): predict `exit_action`, which closes the form politely.
3. Digressions. A form rejected a message and another action has answered it: predict
   the form again, which asks its question again (Rasa's FormAction does not validate
   the old message a second time after another action ran).
4. Yes-or-no questions. The latest action set `confirm_slot` (what waits for a yes or a
   no: cancelling an order, saving an address): predict `confirm_form`, which asks.
5. A form inside a form. A request that opens another form ("can you recommend a lamp?"
   while the complaint waits for the remedy) replaces the active one in Rasa, and the
   first is lost. Once the second has ended in this turn and its own follow-up action has
   run, predict the interrupted form again, which asks its question again. Not after a way
   out ("算了" leaves), and only for the form the ended one interrupted.

Priority 7 puts it above RulePolicy (6): on equal confidence the ensemble takes it.
"""

from __future__ import annotations

from collections import Counter
from typing import Any, Dict, List, Optional, Text

from rasa.core.policies.policy import Policy, PolicyPrediction
from rasa.engine.graph import ExecutionContext
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.core.constants import ACTION_LISTEN_NAME
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, ActionExecutionRejected, ActiveLoop, SlotSet, UserUttered
from rasa.shared.core.generator import TrackerWithCachedStates
from rasa.shared.core.trackers import DialogueStateTracker

# Actions Rasa runs on its own inside a turn; they say nothing and may repeat.
SILENT_ACTIONS = {ACTION_LISTEN_NAME, "action_extract_slots", "action_session_start"}


def this_turn(tracker: DialogueStateTracker) -> List[Any]:
    """The events after the customer's latest message."""
    events = list(tracker.events)
    for index in range(len(events) - 1, -1, -1):
        if isinstance(events[index], UserUttered):
            return events[index + 1 :]
    return []


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.POLICY_WITHOUT_END_TO_END_SUPPORT, is_trainable=True)
class ConversationGuardPolicy(Policy):
    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {
            "priority": 7,
            "exit_intents": ["deny", "goodbye", "thank"],
            "exit_action": "action_leave_form",
            "recover_action": "action_recover",
            "max_actions_per_turn": 6,
            "confirm_slot": "pending_confirmation",
            "confirm_form": "confirm_form",
        }

    def __init__(
        self,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        featurizer: Optional[Any] = None,
    ) -> None:
        super().__init__(config, model_storage, resource, execution_context, featurizer)
        self.exit_intents = set(self.config["exit_intents"])

    def train(self, training_trackers: List[TrackerWithCachedStates], domain: Domain, **kwargs: Any) -> Resource:
        return self._resource  # nothing to learn: it reads the conversation as it is

    def predict_action_probabilities(
        self,
        tracker: DialogueStateTracker,
        domain: Domain,
        rule_only_data: Optional[Dict[Text, Any]] = None,
        **kwargs: Any,
    ) -> PolicyPrediction:
        action = self.next_action(tracker, domain)
        probabilities = self._default_predictions(domain)
        if action is not None:
            probabilities[domain.index_for_action(action)] = 1.0
        return self._prediction(probabilities)

    def next_action(self, tracker: DialogueStateTracker, domain: Domain) -> Optional[str]:
        turn = this_turn(tracker)
        if not tracker.latest_message or not turn:
            return None  # the first prediction after a customer message: the others decide
        executed = Counter(
            e.action_name for e in turn if isinstance(e, ActionExecuted) and e.action_name not in SILENT_ACTIONS
        )
        rejected = Counter(e.action_name for e in turn if isinstance(e, ActionExecutionRejected))
        recover = self.config["recover_action"]
        if executed[recover] or tracker.latest_action_name == self.config["exit_action"]:
            return ACTION_LISTEN_NAME  # both end the turn
        looping = (
            any(count > 1 for count in executed.values())
            or any(count > 1 for count in rejected.values())
            or sum(executed.values()) >= self.config["max_actions_per_turn"]
        )
        if looping:
            return recover if recover in domain.action_names_or_texts else ACTION_LISTEN_NAME
        loop = tracker.active_loop_name
        if not loop and self.confirmation_opened(turn):
            return self.config["confirm_form"]
        if not loop:
            interrupted = self.interrupted_form(tracker, turn)
            if interrupted and interrupted in domain.action_names_or_texts:
                return interrupted
        if not loop or not tracker.is_active_loop_rejected or not rejected[loop]:
            return None
        answered = [name for name in executed if name != loop]
        if not answered:
            intent = (tracker.latest_message.intent or {}).get("name")
            return self.config["exit_action"] if intent in self.exit_intents else None
        return loop if tracker.latest_action_name not in SILENT_ACTIONS else None

    @staticmethod
    def interrupted_form(tracker: DialogueStateTracker, turn: List[Any]) -> Optional[str]:
        """The form that another form replaced, once that other form ended in this turn and
        an action after it ran (its answer: "action_recommend" after the recommendation)."""
        ended_at = next(
            (i for i in range(len(turn) - 1, -1, -1) if isinstance(turn[i], ActiveLoop)),
            None,
        )
        if ended_at is None or turn[ended_at].name is not None:
            return None  # no form ended in this turn (or one was started after it)
        answered = [e for e in turn[ended_at:] if isinstance(e, ActionExecuted) and e.action_name not in SILENT_ACTIONS]
        if not answered:
            return None  # the ended form's own answer comes first
        current: Optional[str] = None
        replaced: Optional[tuple] = None  # (the interrupted form, the form that replaced it)
        resume: Optional[str] = None  # as of the latest form that ended: the one it had replaced
        for event in tracker.applied_events():
            if not isinstance(event, ActiveLoop):
                continue
            if event.name:
                if current and current != event.name:
                    replaced = (current, event.name)
                current = event.name
            else:
                resume = replaced[0] if replaced and replaced[1] == current else None
                current, replaced = None, None
        return resume

    def confirmation_opened(self, turn: List[Any]) -> bool:
        """Whether the latest action set the yes-or-no slot (its events follow it)."""
        for event in reversed(turn):
            if isinstance(event, ActionExecuted):
                return False
            if isinstance(event, SlotSet) and event.key == self.config["confirm_slot"] and event.value:
                return True
        return False

"""Rasa's `Domain.states_for_tracker_history`, replaying each conversation once per turn.

Every policy turns the whole conversation into a list of states before it predicts:
Rasa replays all the events into a fresh tracker and builds a state before every
action. Per bot action that happens three times with the same events (MemoizationPolicy
once, RulePolicy twice), and it was the largest single cost of a message in cProfile
on `make bench` (a third of the server's time), growing with the conversation. Here the
replay and the per-action states are kept on the tracker and only the new events are
replayed when it grows (from the start again after an event that makes Rasa drop or
rewrite earlier ones: restart, new session, rewind, a form); each call then runs
Rasa's own per-call logic (hidden rule turns, rule-only features) on copies of the
states, so callers get the same lists as before and may change them as before.
Installed by bot/patches.py; tests/unit/test_dialogue_states.py compares the two on every
story and rule of the bot.
"""

from __future__ import annotations

import itertools
from typing import Any, Dict, List, NamedTuple, Optional, Text

from rasa.shared.core.constants import PREVIOUS_ACTION
from rasa.shared.core.domain import Domain, State
from rasa.shared.core.events import (
    ActionExecuted,
    ActionReverted,
    ActiveLoop,
    Restarted,
    SessionStarted,
    UserUtteranceReverted,
)
from rasa.shared.core.trackers import DialogueStateTracker

_ORIGINAL = Domain.states_for_tracker_history
_CACHE_ATTRIBUTE = "_shop_prior_turns"


class PriorTurn(NamedTuple):
    """What Rasa's loop reads from the tracker as it was before one action."""

    state: State
    hide_rule_turn: bool
    followup_action: Optional[Text]
    latest_action_name: Optional[Text]
    active_loop_name: Optional[Text]
    latest_action: Optional[Dict[Text, Text]]


# Events after which Rasa's `applied_events` may drop or rewrite earlier events: after
# one of these the replay starts again from the first event.
_REWRITING = (Restarted, SessionStarted, ActionReverted, UserUtteranceReverted, ActiveLoop)


class Replay:
    """The prior turns of one tracker's events so far, and the replayed tracker after them."""

    def __init__(self, domain: Domain, tracker: DialogueStateTracker, omit_unset_slots: bool) -> None:
        self.domain, self.omit_unset_slots = domain, omit_unset_slots
        self.events = tracker.events  # the deque itself: a new deque means a new history
        self.loop_names = {e.name for e in tracker.events if isinstance(e, ActiveLoop) and e.name}
        self.turns: List[PriorTurn] = []
        self.state = tracker.init_copy()
        self._add(tracker.applied_events())
        self.count = len(tracker.events)
        self.last_event: Any = tracker.events[-1] if tracker.events else None

    def _turn(self, hide_rule_turn: bool) -> PriorTurn:
        prior = self.state
        return PriorTurn(
            state=self.domain.get_active_state(prior, omit_unset_slots=self.omit_unset_slots),
            hide_rule_turn=hide_rule_turn,
            followup_action=prior.followup_action,
            latest_action_name=prior.latest_action_name,
            active_loop_name=prior.active_loop_name,
            latest_action=prior.latest_action,
        )

    def _add(self, events: List[Any]) -> None:
        """Rasa's generate_all_prior_trackers: a turn before each action, and one at the end."""
        for event in events:
            if isinstance(event, ActionExecuted):
                self.turns.append(self._turn(event.hide_rule_turn))
            self.state.update(event)
        self.turns.append(self._turn(False))

    def extend(self, tracker: DialogueStateTracker) -> bool:
        """Bring the turns up to the tracker's events, if they only add plain events."""
        events = tracker.events
        if (
            events is not self.events
            or len(events) < self.count
            or (self.count and events[self.count - 1] is not self.last_event)
        ):
            return False
        if len(events) == self.count:
            return True
        new = list(itertools.islice(events, self.count, None))
        if any(
            isinstance(e, _REWRITING) or (isinstance(e, ActionExecuted) and e.action_name in self.loop_names)
            for e in new
        ):
            return False
        self.turns.pop()  # the end of the old events is no longer the end
        self._add(new)
        self.count, self.last_event = len(events), events[-1]
        return True


def prior_turns(domain: Domain, tracker: DialogueStateTracker, omit_unset_slots: bool) -> List[PriorTurn]:
    if tracker.events.maxlen is not None:
        # A bounded history drops events as it grows: replay it whole each time.
        return Replay(domain, tracker, omit_unset_slots).turns
    replays: Dict[Any, Replay] = tracker.__dict__.setdefault(_CACHE_ATTRIBUTE, {})
    key = (id(domain), omit_unset_slots)
    replay = replays.get(key)
    if replay is None or replay.domain is not domain or not replay.extend(tracker):
        replay = replays[key] = Replay(domain, tracker, omit_unset_slots)
    return replay.turns


def _copy(sub_state: Optional[Dict[Text, Any]]) -> Optional[Dict[Text, Any]]:
    return dict(sub_state) if sub_state is not None else None


def states_for_tracker_history(
    self: Domain,
    tracker: DialogueStateTracker,
    omit_unset_slots: bool = False,
    ignore_rule_only_turns: bool = False,
    rule_only_data: Optional[Dict[Text, Any]] = None,
) -> List[State]:
    """Same arguments and result as Rasa's; the loop below is Rasa 3.6.21's."""
    states: List[State] = []
    last_ml_action_sub_state = None
    turn_was_hidden = False
    for turn in prior_turns(self, tracker, omit_unset_slots):
        if ignore_rule_only_turns:
            # remember previous ml action based on the last non hidden turn
            if not turn_was_hidden:
                last_ml_action_sub_state = _copy(turn.latest_action)
            # followup action or happy path loop prediction
            # don't change the fact whether dialogue turn should be hidden
            if not turn.followup_action and not turn.latest_action_name == turn.active_loop_name:
                turn_was_hidden = turn.hide_rule_turn
            if turn_was_hidden:
                continue

        state = {kind: dict(sub_state) for kind, sub_state in turn.state.items()}

        if ignore_rule_only_turns:
            self._remove_rule_only_features(state, rule_only_data)
            if states:
                self._substitute_rule_only_user_input(state, states[-1])
            if last_ml_action_sub_state:
                state[PREVIOUS_ACTION] = last_ml_action_sub_state

        states.append(self._clean_state(state))
    return states


def original(domain: Domain, tracker: DialogueStateTracker, **kwargs: Any) -> List[State]:
    """Rasa's own implementation, for comparison in tests."""
    return _ORIGINAL(domain, tracker, **kwargs)

"""The action server down or slow: the customer gets an apology and the way to a person
within ACTION_TIMEOUT, and the conversation goes on normally once it is back.

What Rasa 3.6.21 does on its own (RemoteAction.run, MessageProcessor._run_action): it
waits up to five minutes for the action server (rasa.core.constants.DEFAULT_REQUEST_TIMEOUT,
passed with every call; endpoints.yml has no setting for it), then logs ERROR lines, drops
the action's events and predicts on. The customer hears nothing for minutes, usually
nothing at all, and a form that was validating a slot keeps the value it never checked
(the next turn validates only the slots of its own message).

Here, installed by bot/patches.py:

- Every call to the action server gets at most ACTION_TIMEOUT seconds (Rasa's definition
  of a timeout, per call, with its five minutes replaced), and once one call of a turn
  has failed, the turn's other calls fail at once instead of waiting again (a new
  conversation calls action_session_start and then an action: a hung action server still
  costs ACTION_TIMEOUT once). A slow action server that does answer in time is waited
  for. A refused or dropped connection, or no answer in time, is
  `ActionServerUnavailable`, logged as a WARNING: an outage is an operations event, not a
  bug (the conversation fuzz test fails on any ERROR line in the Rasa log). Any other
  failure of an action (an HTTP 500 from a bug in it) is still logged as ERROR with its
  traceback, as Rasa does.
- An action that fails ends the customer's turn there: the turn is rolled back to the
  customer's message (the message stays in the tracker; so do the bot messages already
  sent in this turn and the `language` slot, which chooses every response variant), the
  customer gets `utter_service_trouble` once, and the bot listens. A form therefore keeps
  asking the same question (active_loop and requested_slot as before the message, the
  message's values not taken unvalidated), and the next message is handled as if the
  failed one had not happened.
- action_session_start failing: Rasa's own session start (keeping the language) instead,
  so the conversation has its session, and the turn goes on.
- action_handoff failing: the Rasa server hands the conversation off itself (ticket,
  pause, queue position; bot/handoff_waiting.py), so "转人工" in the apology always works.
- An intent the bot triggers itself (the agent console's end of a hand-off, silence
  timers) gets no apology: the customer did not write. The turn ends the same way.
- Outside a turn (Rasa's HTTP API executing one action) a failure is handled as Rasa
  does, with the outage logged as a WARNING.
"""

from __future__ import annotations

import asyncio
import contextvars
import copy
import functools
import logging
from collections import deque
from dataclasses import dataclass
from typing import Any, Awaitable, Callable, List, Optional

import aiohttp
from rasa.core.actions.action import ActionExecutionRejection, ActionSessionStart, action_for_name_or_text
from rasa.core.policies.policy import PolicyPrediction
from rasa.shared.core.constants import ACTION_LISTEN_NAME, ACTION_SESSION_START_NAME
from rasa.shared.core.events import (
    ActionExecuted,
    ActionExecutionRejected,
    BotUttered,
    Event,
    SlotSet,
    UserUttered,
)
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.exceptions import RasaException

from bot import settings

logger = logging.getLogger(__name__)

SERVICE_TROUBLE = "utter_service_trouble"
HANDOFF = "action_handoff"  # the customer asked for a person (bot/actions/handoff.py)
# Set in this turn and kept when the turn is rolled back: the responses' language.
KEPT_SLOTS = ("language",)


class ActionServerUnavailable(RasaException):
    """The action server refused the connection, dropped it, or did not answer in time.

    A RasaException, so that ActionExtractSlots (custom slot mappings) handles it as it
    handles Rasa's own action errors, with a warning."""

    def __init__(self, action: str, reason: str) -> None:
        super().__init__(f"action server unavailable for '{action}': {reason}")
        self.action, self.reason = action, reason


# -- one turn: once the action server has failed in it, it is not waited for again ---------------


@dataclass
class Turn:
    """One customer message (or triggered intent) being handled."""

    unavailable: Optional[str] = None  # why the action server failed in this turn, if it did


_turn: contextvars.ContextVar[Optional[Turn]] = contextvars.ContextVar("shop_turn", default=None)


def action_timeout() -> float:
    return float(settings.get("ACTION_TIMEOUT"))


def current_turn() -> Optional[Turn]:
    return _turn.get()


def in_a_turn(handle: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
    """MessageProcessor.handle_message / trigger_external_user_uttered, as one turn."""

    @functools.wraps(handle)
    async def turn(*args: Any, **kwargs: Any) -> Any:
        token = _turn.set(Turn())
        try:
            return await handle(*args, **kwargs)
        finally:
            _turn.reset(token)

    return turn


# -- the call to the action server ------------------------------------------------------------

UNAVAILABLE = (asyncio.TimeoutError, aiohttp.ClientConnectionError, aiohttp.ClientPayloadError)


class TimedEndpoint:
    """The action endpoint (rasa.utils.endpoints.EndpointConfig) with ACTION_TIMEOUT per call,
    and its outage errors as ActionServerUnavailable."""

    def __init__(self, endpoint: Any, action: str) -> None:
        self._endpoint, self._action = endpoint, action

    def __getattr__(self, name: str) -> Any:
        return getattr(self._endpoint, name)

    async def request(self, *args: Any, **kwargs: Any) -> Any:
        turn = current_turn()
        if turn is not None and turn.unavailable:
            raise ActionServerUnavailable(self._action, f"not called: earlier in this turn, {turn.unavailable}")
        timeout = action_timeout()
        kwargs["timeout"] = aiohttp.ClientTimeout(total=timeout)
        try:
            return await self._endpoint.request(*args, **kwargs)
        except UNAVAILABLE as error:
            reason = (
                f"no answer within {timeout:g} s"
                if isinstance(error, asyncio.TimeoutError) and not isinstance(error, aiohttp.ClientConnectionError)
                else f"{type(error).__name__}: {error}"
            )
            if turn is not None:
                turn.unavailable = reason
            raise ActionServerUnavailable(self._action, reason) from None


def timed_remote_action(run: Callable[..., Awaitable[List[Event]]]) -> Callable[..., Awaitable[List[Event]]]:
    """RemoteAction.run, calling the action server through a TimedEndpoint."""

    @functools.wraps(run)
    async def timed_run(self: Any, output_channel: Any, nlg: Any, tracker: Any, domain: Any) -> List[Event]:
        if self.action_endpoint is None or isinstance(self.action_endpoint, TimedEndpoint):
            return await run(self, output_channel, nlg, tracker, domain)
        action = copy.copy(self)  # RemoteActions may be shared: the endpoint is swapped on a copy
        action.action_endpoint = TimedEndpoint(self.action_endpoint, self.name())
        return await run(action, output_channel, nlg, tracker, domain)

    return timed_run


# -- the processor: a failed action ends the turn with an apology ---------------------------


async def run_action(
    self: Any,
    action: Any,
    tracker: DialogueStateTracker,
    output_channel: Any,
    nlg: Any,
    prediction: PolicyPrediction,
) -> bool:
    """MessageProcessor._run_action of Rasa 3.6.21, with a failed action handed to
    `action_failed` instead of logged and dropped."""
    try:
        # Use temporary tracker as we might need to discard the policy events in
        # case of a rejection.
        temporary_tracker = tracker.copy()
        temporary_tracker.update_with_events(prediction.events, self.domain)
        events = await action.run(output_channel, nlg, temporary_tracker, self.domain)
    except ActionExecutionRejection:
        events = [ActionExecutionRejected(action.name(), prediction.policy_name, prediction.max_confidence)]
        tracker.update(events[0])
        return self.should_predict_another_action(action.name())
    except Exception as error:
        return await action_failed(self, action, tracker, output_channel, nlg, prediction, error)

    # From here on Rasa's own code, unchanged.
    self._log_action_on_tracker(tracker, action, events, prediction)

    if any(isinstance(e, UserUttered) for e in events):
        logger.debug(
            f"A `UserUttered` event was returned by executing action '{action.name()}'. "
            f"This will run the default action 'action_extract_slots'."
        )
        tracker = await self.run_action_extract_slots(output_channel, tracker)

    if action.name() != ACTION_LISTEN_NAME and not action.name().startswith("utter_"):
        self._log_slots(tracker)

    await self.execute_side_effects(events, tracker, output_channel)

    return self.should_predict_another_action(action.name())


class FallbackSessionStart(ActionSessionStart):
    """Rasa's own session start, keeping the conversation's language."""

    async def run(self, output_channel: Any, nlg: Any, tracker: DialogueStateTracker, domain: Any) -> List[Event]:
        events = await super().run(output_channel, nlg, tracker, domain)
        kept = [SlotSet(key, tracker.get_slot(key)) for key in KEPT_SLOTS if tracker.get_slot(key) is not None]
        return events[:-1] + kept + events[-1:]  # before its final action_listen


async def action_failed(
    self: Any,
    action: Any,
    tracker: DialogueStateTracker,
    output_channel: Any,
    nlg: Any,
    prediction: PolicyPrediction,
    error: Exception,
) -> bool:
    """What happens when `action` raised `error`; whether to predict another action."""
    name = action.name()
    if isinstance(error, ActionServerUnavailable):
        logger.warning("conversation %s: %s", tracker.sender_id, error)
    else:
        # Rasa's own message, with the traceback: this is a bug in the action.
        logger.error(
            f"Encountered an exception while running action '{name}'. Bot will continue, but the actions events "
            f"are lost. Please check the logs of your action server for more information.",
            exc_info=error,
        )
    if name == ACTION_SESSION_START_NAME and not isinstance(action, FallbackSessionStart):
        return await self._run_action(FallbackSessionStart(), tracker, output_channel, nlg, prediction)
    if current_turn() is None:
        # Not a message being handled (Rasa's HTTP API executing one action): as Rasa does.
        self._log_action_on_tracker(tracker, action, [], prediction)
        return self.should_predict_another_action(name)
    if name == SERVICE_TROUBLE:
        return False  # the apology itself failed (logged above): the failure that asked for it ends the turn
    roll_back_turn(tracker)
    if from_customer(tracker.latest_message):
        from bot import handoff_waiting

        # The way to a person works without the action server too.
        if name != HANDOFF or not await handoff_waiting.hand_off(self, output_channel, tracker):
            await apologise(self, tracker, output_channel, nlg)
    tracker.update(ActionExecuted(ACTION_LISTEN_NAME), self.domain)
    return False


def from_customer(message: Optional[UserUttered]) -> bool:
    """A message the customer wrote (not one of the bot's own triggered intents)."""
    from rasa.shared.core.constants import EXTERNAL_MESSAGE_PREFIX, IS_EXTERNAL

    if message is None or not (message.text or message.intent_name):
        return False  # no message yet (UserUttered.empty())
    return not (message.metadata or {}).get(IS_EXTERNAL) and not (message.text or "").startswith(
        EXTERNAL_MESSAGE_PREFIX
    )


def roll_back_turn(tracker: DialogueStateTracker) -> None:
    """The tracker as it was right after the customer's latest message, plus what the bot
    has already said in this turn and the KEPT_SLOTS set in it."""
    events = list(tracker.events)
    start = next((i + 1 for i in range(len(events) - 1, -1, -1) if isinstance(events[i], UserUttered)), len(events))
    turn = events[start:]
    kept = [e for e in turn if isinstance(e, BotUttered) or (isinstance(e, SlotSet) and e.key in KEPT_SLOTS)]
    if len(kept) == len(turn):
        return
    # As DialogueStateTracker.recreate_from_dialogue: reset, then replay. A new deque, so
    # that caches of the old history (bot/dialogue_states.py) know it changed.
    tracker._reset()
    tracker.events = deque(events[:start] + kept, maxlen=tracker.events.maxlen)
    tracker.replay_events()


async def apologise(self: Any, tracker: DialogueStateTracker, output_channel: Any, nlg: Any) -> None:
    """utter_service_trouble, run as the policies would have run it."""
    if SERVICE_TROUBLE not in self.domain.responses:
        logger.warning("the domain has no %s: the customer gets no apology (retrain the model)", SERVICE_TROUBLE)
        return
    action = action_for_name_or_text(SERVICE_TROUBLE, self.domain, self.action_endpoint)
    prediction = PolicyPrediction.for_action_name(self.domain, SERVICE_TROUBLE)
    await self._run_action(action, tracker, output_channel, nlg, prediction)

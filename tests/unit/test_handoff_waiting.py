"""bot/handoff_waiting.py on a fresh shop store, without a model or servers: the queue
position, the acknowledgement while a hand-off waits and none once an agent has it, and
the hand-off the Rasa server opens itself when action_handoff cannot run.

Over real HTTP, on a running bot: tests/e2e/test_faults.py.
"""

from __future__ import annotations

import asyncio
from typing import Any, List

import pytest
from rasa.core.channels.channel import CollectingOutputChannel
from rasa.shared.core.constants import ACTION_LISTEN_NAME, REQUESTED_SLOT
from rasa.shared.core.events import ActionExecuted, ActiveLoop, ConversationPaused, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from bot import handoff_waiting, patches
from tests.unit.test_resilience import DOMAIN, processor, tracker_with

WAITING_DOMAIN = DOMAIN.merge(
    type(DOMAIN).from_dict(
        {
            "version": "3.1",
            "responses": {
                "utter_handoff_waiting": [
                    {"text": "您的消息已收到，您现在排在第{position}位。"},
                    {
                        "text": "Got it, you are number {position}.",
                        "condition": [{"type": "slot", "name": "language", "value": "en"}],
                    },
                ],
                "utter_handoff_withdrawn": [{"text": "好的，已为您取消排队。"}],
            },
        }
    )
)


def waiting_processor() -> Any:
    from rasa.core.nlg import TemplatedNaturalLanguageGenerator
    from rasa.utils.endpoints import EndpointConfig

    proc = processor(EndpointConfig("http://127.0.0.1:9/webhook"))
    proc.domain, proc.nlg = WAITING_DOMAIN, TemplatedNaturalLanguageGenerator(WAITING_DOMAIN.responses)
    return proc


def paused(
    sender: str, *more: Any, language: str = "zh", said: str = "还在吗", intent: str = "greet"
) -> DialogueStateTracker:
    tracker = tracker_with(
        UserUttered("转人工", {"name": "request_human", "confidence": 1.0}),
        ConversationPaused(),
        ActionExecuted(ACTION_LISTEN_NAME),
        UserUttered(said, {"name": intent, "confidence": 1.0}),
        SlotSet("language", language),
        *more,
    )
    tracker.sender_id = sender
    return tracker


def handoff(store: Any, sender: str, status: str = "waiting") -> int:
    return store.open_ticket(kind="handoff", status=status, conversation_id=sender, channel="rest", language="zh")


def loop_with_acknowledgement(proc: Any, tracker: DialogueStateTracker) -> List[str]:
    """The patched _run_prediction_loop once; what the customer was sent."""
    ran: List[bool] = []

    async def rasas_loop(self: Any, output_channel: Any, tracker: Any) -> None:
        ran.append(self._should_handle_message(tracker))

    output = CollectingOutputChannel()
    asyncio.run(handoff_waiting.acknowledge_while_waiting(rasas_loop)(proc, output, tracker))
    assert ran == [not tracker.is_paused()]  # Rasa's loop always runs, and predicts nothing while paused
    return [m["text"] for m in output.messages]


def test_the_position_counts_the_waiting_hand_offs_up_to_this_one(test_store):
    handoff(test_store, "first")
    handoff(test_store, "claimed", status="active")
    handoff(test_store, "second")
    test_store.open_ticket(kind="urge_courier", status="open", conversation_id="second")
    assert handoff_waiting.waiting_position("first") == 1
    assert handoff_waiting.waiting_position("second") == 2
    assert handoff_waiting.waiting_position("claimed") is None  # an agent has it
    assert handoff_waiting.waiting_position("nobody") is None


def test_a_message_while_the_hand_off_waits_is_acknowledged_and_kept(test_store):
    handoff(test_store, "ahead")
    handoff(test_store, "waiting-customer")
    tracker = paused("waiting-customer")
    assert loop_with_acknowledgement(waiting_processor(), tracker) == ["您的消息已收到，您现在排在第2位。"]
    assert [e.text for e in tracker.events if isinstance(e, UserUttered)][-1] == "还在吗"
    assert tracker.is_paused() and tracker.events[-1].text == "您的消息已收到，您现在排在第2位。"
    assert tracker.events[-1].metadata["utter_action"] == "utter_handoff_waiting"
    # Said, not acted: no ActionExecuted, the paused dialogue state is unchanged.
    assert not isinstance(tracker.events[-2], ActionExecuted)


def test_the_acknowledgement_follows_the_customers_language(test_store):
    handoff(test_store, "english-customer")
    assert loop_with_acknowledgement(waiting_processor(), paused("english-customer", language="en")) == [
        "Got it, you are number 1."
    ]


def test_no_acknowledgement_once_an_agent_has_claimed_it(test_store):
    handoff(test_store, "claimed-customer", status="active")
    tracker = paused("claimed-customer")
    before = len(tracker.events)
    assert loop_with_acknowledgement(waiting_processor(), tracker) == []
    assert len(tracker.events) == before


def test_no_acknowledgement_for_a_triggered_intent_or_a_conversation_that_is_not_paused(test_store):
    handoff(test_store, "triggered")
    tracker = paused("triggered", UserUttered.create_external("EXTERNAL_silence", []))
    assert loop_with_acknowledgement(waiting_processor(), tracker) == []
    handoff(test_store, "resumed")
    tracker = tracker_with(UserUttered("你好", {"name": "greet", "confidence": 1.0}))
    tracker.sender_id = "resumed"
    assert loop_with_acknowledgement(waiting_processor(), tracker) == []


def test_the_server_hands_off_itself_one_ticket_per_conversation(test_store):
    tracker = tracker_with(
        ActiveLoop("order_form"),
        SlotSet(REQUESTED_SLOT, "phone_last4"),
        UserUttered("转人工", {"name": "request_human", "confidence": 1.0}),
    )
    tracker.sender_id = "no-action-server"
    proc, output = waiting_processor(), CollectingOutputChannel()
    assert asyncio.run(handoff_waiting.hand_off(proc, output, tracker)) is True
    [ticket] = test_store.tickets(kind="handoff", conversation_id="no-action-server")
    assert (ticket.status, ticket.channel is None, ticket.reason) == ("waiting", True, "customer asked")
    assert "action server was unavailable" in ticket.summary and ticket.transcript[-1]["text"] == "转人工"
    assert tracker.is_paused() and tracker.active_loop_name is None and tracker.get_slot(REQUESTED_SLOT) is None
    assert [m["text"] for m in output.messages] == ["您的消息已收到，您现在排在第1位。"]
    # Asked again (or action_handoff catching up later): still one ticket.
    assert asyncio.run(handoff_waiting.hand_off(proc, CollectingOutputChannel(), tracker)) is True
    assert len(test_store.tickets(kind="handoff", conversation_id="no-action-server")) == 1


@pytest.fixture
def applied():
    patches.apply()
    yield
    patches.undo()


def test_the_patch_wraps_rasas_prediction_loop(applied):
    from rasa.core.processor import MessageProcessor

    loop = MessageProcessor._run_prediction_loop
    assert loop.__wrapped__ is patches.original("rasa.core.processor:MessageProcessor._run_prediction_loop")


def test_a_no_while_waiting_takes_the_customer_out_of_the_queue(test_store):
    """ "算了 不用了" before an agent claimed it: the ticket closes, the bot answers again."""
    ticket = handoff(test_store, "changed-mind")
    tracker = paused("changed-mind", said="算了 不用了", intent="deny")
    ran: List[bool] = []

    async def rasas_loop(self: Any, output_channel: Any, tracker: Any) -> None:
        ran.append(True)

    output = CollectingOutputChannel()
    asyncio.run(handoff_waiting.acknowledge_while_waiting(rasas_loop)(waiting_processor(), output, tracker))
    assert [m["text"] for m in output.messages] == ["好的，已为您取消排队。"]
    assert not tracker.is_paused() and ran == []  # answered; nothing else predicted this turn
    [closed] = test_store.tickets(kind="handoff", conversation_id="changed-mind")
    assert (closed.id, closed.status) == (ticket, "closed") and closed.closed_at is not None
    assert handoff_waiting.waiting_position("changed-mind") is None


def test_a_no_after_an_agent_claimed_it_is_for_the_agent(test_store):
    handoff(test_store, "claimed-no", status="active")
    tracker = paused("claimed-no", said="算了", intent="deny")
    assert loop_with_acknowledgement(waiting_processor(), tracker) == []
    assert tracker.is_paused()
    assert [t.status for t in test_store.tickets(kind="handoff", conversation_id="claimed-no")] == ["active"]

"""bot/resilience.py against Rasa's own behaviour and a local stand-in action server
(no model, no Rasa server): the time limit, a turn waiting only once, what a failed action
leaves in the tracker, and that an outage logs no ERROR.

The same with real servers, `kill -9` and SIGSTOP: tests/e2e/test_faults.py.
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Dict, Iterator, List

import pytest
from rasa.core.actions.action import ActionBotResponse, RemoteAction
from rasa.core.actions.forms import FormAction
from rasa.core.channels.channel import CollectingOutputChannel
from rasa.core.nlg import TemplatedNaturalLanguageGenerator
from rasa.core.policies.policy import PolicyPrediction
from rasa.core.processor import MessageProcessor
from rasa.shared.core.constants import ACTION_LISTEN_NAME, REQUESTED_SLOT
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import (
    ActionExecuted,
    ActionExecutionRejected,
    ActiveLoop,
    BotUttered,
    SessionStarted,
    SlotSet,
    UserUttered,
)
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.utils.endpoints import EndpointConfig

from bot import patches, resilience
from scripts.servers import free_ports

DOMAIN = Domain.from_dict(
    {
        "version": "3.1",
        "intents": ["greet", "inform", "check_order", "EXTERNAL_silence"],
        "entities": ["language"],
        "slots": {
            "language": {
                "type": "categorical",
                "values": ["zh", "en"],
                "influence_conversation": False,
                "mappings": [{"type": "from_entity", "entity": "language"}],
            },
            "phone_last4": {"type": "text", "influence_conversation": False, "mappings": [{"type": "custom"}]},
        },
        "forms": {"order_form": {"required_slots": ["phone_last4"]}},
        "actions": ["action_greet", "action_session_start", "validate_order_form"],
        "responses": {
            "utter_service_trouble": [
                {"text": "非常抱歉，系统有点忙。"},
                {"text": "Sorry, we are busy.", "condition": [{"type": "slot", "name": "language", "value": "en"}]},
            ],
            "utter_greet": [{"text": "您好"}],
            "utter_ask_phone_last4": [{"text": "请告诉我手机号后4位"}],
        },
        "session_config": {"session_expiration_time": 60, "carry_over_slots_to_new_session": False},
    }
)


# -- a stand-in action server ---------------------------------------------------------------


class ActionServer:
    """Answers every action call as `mode` says: ok (a message and a slot), slow (no
    answer for `stall` seconds), error (HTTP 500), reject (HTTP 400)."""

    def __init__(self) -> None:
        self.mode, self.stall, self.calls = "ok", 5.0, []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)))
                server.calls.append(body["next_action"])
                if server.mode == "slow":
                    time.sleep(server.stall)
                status, reply = {
                    "ok": (
                        200,
                        {"events": [{"event": "slot", "name": "phone_last4", "value": "4608"}], "responses": []},
                    ),
                    "error": (500, {"error": "bug"}),
                    "reject": (400, {"action_name": body["next_action"], "error": "no"}),
                }.get(server.mode, (200, {"events": [], "responses": []}))
                raw = json.dumps(reply).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                try:
                    self.wfile.write(raw)
                except OSError:
                    pass  # the client gave up waiting

            def log_message(self, *args: Any) -> None:
                pass

        self.http = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.http.daemon_threads = True
        self.endpoint = EndpointConfig(f"http://127.0.0.1:{self.http.server_address[1]}/webhook")
        threading.Thread(target=self.http.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.http.shutdown()
        self.http.server_close()


@pytest.fixture
def action_server() -> Iterator[ActionServer]:
    server = ActionServer()
    yield server
    server.close()


@pytest.fixture
def refused() -> EndpointConfig:
    """An action endpoint where nothing listens (connection refused)."""
    return EndpointConfig(f"http://127.0.0.1:{free_ports(1)[0]}/webhook")


@pytest.fixture
def applied(monkeypatch):
    monkeypatch.setenv("ACTION_TIMEOUT", "0.5")
    patches.apply()
    yield
    patches.undo()


def run(coroutine: Any) -> Any:
    return asyncio.run(coroutine)


async def in_turn(coroutine_function: Any, *args: Any) -> Any:
    """Await `coroutine_function(*args)` as one customer turn (as handle_message is)."""
    return await resilience.in_a_turn(coroutine_function)(*args)


def processor(endpoint: EndpointConfig) -> MessageProcessor:
    """A MessageProcessor with what _run_action uses, without a model."""
    proc = MessageProcessor.__new__(MessageProcessor)
    proc.domain, proc.action_endpoint = DOMAIN, endpoint
    proc.nlg = TemplatedNaturalLanguageGenerator(DOMAIN.responses)
    return proc


def tracker_with(*turn: Any, language: str = "zh") -> DialogueStateTracker:
    """A conversation with a session and a greeting, then `turn` (a message and what followed)."""
    events = [
        ActionExecuted("action_session_start"),
        SessionStarted(),
        ActionExecuted(ACTION_LISTEN_NAME),
        UserUttered("你好", {"name": "greet", "confidence": 1.0}),
        SlotSet("language", "zh"),
        ActionExecuted("utter_greet"),
        BotUttered("您好"),
        ActionExecuted(ACTION_LISTEN_NAME),
        *turn,
    ]
    return DialogueStateTracker.from_events("someone", events, slots=DOMAIN.slots)


def message(text: str, intent: str = "inform", language: str = "zh") -> List[Any]:
    """The customer's message and the slots the NLU and action_extract_slots set for it."""
    return [UserUttered(text, {"name": intent, "confidence": 1.0}), SlotSet("language", language)]


def order_form_asking() -> List[Any]:
    return [
        UserUttered("查订单", {"name": "check_order", "confidence": 1.0}),
        ActionExecuted("order_form"),
        ActiveLoop("order_form"),
        SlotSet(REQUESTED_SLOT, "phone_last4"),
        BotUttered("请告诉我手机号后4位"),
        ActionExecuted(ACTION_LISTEN_NAME),
    ]


def after_message(tracker: DialogueStateTracker) -> List[Any]:
    events = list(tracker.events)
    last_user = max(i for i, e in enumerate(events) if isinstance(e, UserUttered))
    return events[last_user + 1 :]


def shape(events: List[Any]) -> List[tuple]:
    """Events as what matters here: slots, actions, the bot's texts and their response."""
    shaped = []
    for e in events:
        if isinstance(e, SlotSet):
            shaped.append(("slot", e.key, e.value))
        elif isinstance(e, ActionExecuted):
            shaped.append(("action", e.action_name))
        elif isinstance(e, BotUttered):
            shaped.append(("bot", e.text, (e.metadata or {}).get("utter_action")))
        else:
            shaped.append((type(e).__name__,))
    return shaped


def prediction(name: str) -> PolicyPrediction:
    return PolicyPrediction.for_action_name(DOMAIN, name)


def errors(caplog: Any) -> List[str]:
    return [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]


# -- the call: time limit, and one wait per turn ---------------------------------------------------


def test_a_refused_connection_is_unavailable_at_once_and_logs_no_error(applied, refused, caplog):
    began = time.monotonic()
    with pytest.raises(resilience.ActionServerUnavailable, match="Connection refused|Cannot connect"):
        run(RemoteAction("action_greet", refused).run(CollectingOutputChannel(), None, tracker_with(), DOMAIN))
    assert time.monotonic() - began < 1
    assert errors(caplog) == []


def test_rasas_own_remote_action_waits_five_minutes_and_logs_an_error(refused, caplog):
    """What the patch replaces: Rasa passes DEFAULT_REQUEST_TIMEOUT (300 s) and logs ERROR."""
    import inspect

    from rasa.core.constants import DEFAULT_REQUEST_TIMEOUT
    from rasa.shared.exceptions import RasaException

    assert DEFAULT_REQUEST_TIMEOUT == 300
    assert "timeout=DEFAULT_REQUEST_TIMEOUT" in inspect.getsource(RemoteAction.run)
    with pytest.raises(RasaException):
        run(RemoteAction("action_greet", refused).run(CollectingOutputChannel(), None, tracker_with(), DOMAIN))
    assert any("Couldn't connect" in line for line in errors(caplog))


def test_no_answer_within_action_timeout_is_unavailable(applied, action_server, caplog):
    action_server.mode = "slow"
    began = time.monotonic()
    with pytest.raises(resilience.ActionServerUnavailable, match="no answer within 0.5 s"):
        run(
            RemoteAction("action_greet", action_server.endpoint).run(
                CollectingOutputChannel(), None, tracker_with(), DOMAIN
            )
        )
    assert 0.4 < time.monotonic() - began < 1.5
    assert errors(caplog) == []


def test_after_a_failed_call_the_turns_other_calls_fail_at_once(applied, action_server):
    """A hung action server costs a turn ACTION_TIMEOUT once (a new conversation calls
    action_session_start, then an action), and the next turn tries it again."""
    action_server.mode = "slow"

    async def two_calls() -> List[float]:
        took = []
        for _ in range(2):
            began = time.monotonic()
            with pytest.raises(resilience.ActionServerUnavailable):
                await RemoteAction("action_greet", action_server.endpoint).run(
                    CollectingOutputChannel(), None, tracker_with(), DOMAIN
                )
            took.append(time.monotonic() - began)
        return took

    first, second = run(in_turn(two_calls))
    assert 0.4 < first < 1.5 and second < 0.1
    assert action_server.calls == ["action_greet"]  # the second was not even sent
    (again, _) = run(in_turn(two_calls))
    assert again > 0.4


def test_a_slow_action_server_that_answers_in_time_is_waited_for(applied, action_server):
    """Each call has ACTION_TIMEOUT: two calls of 0.3 s in one turn are both answered."""
    action_server.mode, action_server.stall = "slow", 0.3

    async def two_calls() -> List[Any]:
        return [
            await RemoteAction("action_greet", action_server.endpoint).run(
                CollectingOutputChannel(), None, tracker_with(), DOMAIN
            )
            for _ in range(2)
        ]

    assert run(in_turn(two_calls)) == [[], []]


def test_a_working_action_server_answers_as_with_rasa(applied, action_server):
    remote = RemoteAction("action_greet", action_server.endpoint)
    ours = run(remote.run(CollectingOutputChannel(), None, tracker_with(), DOMAIN))
    rasas = run(
        patches.original("rasa.core.actions.action:RemoteAction.run")(
            remote, CollectingOutputChannel(), None, tracker_with(), DOMAIN
        )
    )
    assert ours == rasas == [SlotSet("phone_last4", "4608")]
    assert remote.action_endpoint is action_server.endpoint  # the shared action is left as it was


def test_a_rejection_is_still_a_rejection(applied, action_server):
    from rasa.core.actions.action import ActionExecutionRejection

    action_server.mode = "reject"
    with pytest.raises(ActionExecutionRejection):
        run(
            RemoteAction("action_greet", action_server.endpoint).run(
                CollectingOutputChannel(), None, tracker_with(), DOMAIN
            )
        )


# -- the processor: a failed action ends the turn -----------------------------------------------


def test_failed_action_ends_the_turn_with_one_apology_in_the_customers_language(applied, refused, caplog):
    tracker = tracker_with(*message("hello", "greet", language="en"))
    output = CollectingOutputChannel()
    proc = processor(refused)
    more = run(
        in_turn(
            proc._run_action,
            RemoteAction("action_greet", refused),
            tracker,
            output,
            proc.nlg,
            prediction("action_greet"),
        )
    )
    assert more is False  # the prediction loop stops: the bot listens
    assert [m["text"] for m in output.messages] == ["Sorry, we are busy."]
    assert shape(after_message(tracker)) == [
        ("slot", "language", "en"),
        ("action", "utter_service_trouble"),
        ("bot", "Sorry, we are busy.", "utter_service_trouble"),
        ("action", ACTION_LISTEN_NAME),
    ]
    assert [e.text for e in tracker.events if isinstance(e, UserUttered)][-1] == "hello"  # the message is kept
    assert errors(caplog) == []
    assert any("unavailable for 'action_greet'" in r.getMessage() for r in caplog.records if r.levelname == "WARNING")


def test_a_failed_form_validation_keeps_the_form_asking_the_same_slot(applied, refused):
    """The message's value is not taken unvalidated, the form stays active on its slot, and
    the next message is validated as usual."""
    tracker = tracker_with(*order_form_asking(), *message("1234"), SlotSet("phone_last4", "1234"))
    assert tracker.get_slot("phone_last4") == "1234"  # as action_extract_slots left it
    proc = processor(refused)
    output = CollectingOutputChannel()
    more = run(
        in_turn(
            proc._run_action, FormAction("order_form", refused), tracker, output, proc.nlg, prediction("order_form")
        )
    )
    assert more is False and len(output.messages) == 1
    assert tracker.active_loop_name == "order_form" and tracker.get_slot(REQUESTED_SLOT) == "phone_last4"
    assert tracker.get_slot("phone_last4") is None
    assert tracker.latest_action_name == ACTION_LISTEN_NAME
    assert not tracker.is_active_loop_rejected and not tracker.active_loop.is_interrupted


def test_a_rejected_form_with_a_failed_digression_leaves_no_rejection_behind(applied, refused):
    tracker = tracker_with(
        *order_form_asking(), *message("多少钱", "greet"), ActionExecutionRejected("order_form", "RulePolicy")
    )
    assert tracker.is_active_loop_rejected
    proc = processor(refused)
    run(
        in_turn(
            proc._run_action,
            RemoteAction("action_greet", refused),
            tracker,
            CollectingOutputChannel(),
            proc.nlg,
            prediction("action_greet"),
        )
    )
    assert not tracker.is_active_loop_rejected  # the next message reaches the form as usual
    assert tracker.active_loop_name == "order_form" and tracker.get_slot(REQUESTED_SLOT) == "phone_last4"


def test_what_the_bot_already_said_in_the_turn_stays(applied, refused):
    tracker = tracker_with(*message("你好"), ActionExecuted("utter_greet"), BotUttered("您好"))
    proc = processor(refused)
    run(
        in_turn(
            proc._run_action,
            RemoteAction("action_greet", refused),
            tracker,
            CollectingOutputChannel(),
            proc.nlg,
            prediction("action_greet"),
        )
    )
    said = [e.text for e in after_message(tracker) if isinstance(e, BotUttered)]
    assert said == ["您好", "非常抱歉，系统有点忙。"]
    assert ActionExecuted("utter_greet") not in after_message(tracker)  # the turn's actions are rolled back


def test_session_start_falls_back_to_rasas_keeping_the_language(applied, refused):
    tracker = tracker_with(*message("hi", "greet", language="en"), ActionExecuted(ACTION_LISTEN_NAME))
    before = len(tracker.events)
    proc = processor(refused)
    output = CollectingOutputChannel()
    more = run(
        in_turn(
            proc._run_action,
            RemoteAction("action_session_start", refused),
            tracker,
            output,
            proc.nlg,
            prediction("action_session_start"),
        )
    )
    new = list(tracker.events)[before:]
    assert new == [
        ActionExecuted("action_session_start"),
        SessionStarted(),
        SlotSet("language", "en"),
        ActionExecuted(ACTION_LISTEN_NAME),
    ]
    assert more is False and output.messages == []  # no apology yet: the turn goes on


def test_a_triggered_intent_gets_no_apology(applied, refused):
    external = UserUttered.create_external("EXTERNAL_silence", [])
    tracker = tracker_with(external)
    proc = processor(refused)
    output = CollectingOutputChannel()
    more = run(
        in_turn(
            proc._run_action,
            RemoteAction("action_greet", refused),
            tracker,
            output,
            proc.nlg,
            prediction("action_greet"),
        )
    )
    assert more is False and output.messages == []
    assert after_message(tracker) == [ActionExecuted(ACTION_LISTEN_NAME)]


def test_an_action_bug_is_still_an_error_and_the_customer_still_gets_the_apology(applied, action_server, caplog):
    action_server.mode = "error"
    tracker = tracker_with(*message("你好", "greet"))
    proc = processor(action_server.endpoint)
    output = CollectingOutputChannel()
    run(
        in_turn(
            proc._run_action,
            RemoteAction("action_greet", action_server.endpoint),
            tracker,
            output,
            proc.nlg,
            prediction("action_greet"),
        )
    )
    assert [m["text"] for m in output.messages] == ["非常抱歉，系统有点忙。"]
    assert any("Encountered an exception while running action 'action_greet'" in line for line in errors(caplog))


def test_outside_a_turn_a_failed_action_is_handled_as_rasa_does(applied, refused):
    """Rasa's HTTP API executing one action: logged as executed without its events."""
    tracker = tracker_with(*message("你好", "greet"))
    proc = processor(refused)
    output = CollectingOutputChannel()
    more = run(
        proc._run_action(RemoteAction("action_greet", refused), tracker, output, proc.nlg, prediction("action_greet"))
    )
    assert more is True and output.messages == []
    assert [e.action_name for e in after_message(tracker) if isinstance(e, ActionExecuted)] == ["action_greet"]


@pytest.mark.parametrize("name", ["utter_greet", "action_listen"])
def test_an_action_that_succeeds_leaves_what_rasas_code_leaves(applied, name):
    """The replacement is Rasa's _run_action wherever nothing fails."""
    from rasa.core.actions.action import ActionListen

    results: Dict[str, Any] = {}
    for who, method in (("ours", resilience.run_action), ("rasa", patches.original(TARGET))):
        tracker = tracker_with(*message("你好", "greet"))
        output = CollectingOutputChannel()
        action = ActionBotResponse(name) if name.startswith("utter_") else ActionListen()
        proc = processor(EndpointConfig("http://127.0.0.1:9/webhook"))
        more = run(in_turn(method, proc, action, tracker, output, proc.nlg, prediction(name)))
        results[who] = (more, [e.as_dict() for e in after_message(tracker)], output.messages)
    for events in (results["ours"][1], results["rasa"][1]):
        for event in events:
            event.pop("timestamp", None)
    assert results["ours"] == results["rasa"]


TARGET = "rasa.core.processor:MessageProcessor._run_action"

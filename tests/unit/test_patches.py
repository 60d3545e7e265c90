"""Each replacement in bot/patches.py against Rasa's own behaviour (no model, no server).

The graph runner is also compared with Rasa's on the trained model, and /health and the
tracker store with a running server, in tests/e2e/.
"""

from __future__ import annotations

import asyncio
import copy
import gc
from typing import Any, Dict, List

import jsonschema
import pytest
from jsonschema import ValidationError

from bot import patches

VALIDATOR = "rasa.core.actions.action:RemoteAction._validate_action_result"
RESOLVE = "rasa.shared.core.events:Event.resolve_by_type"


@pytest.fixture
def applied():
    patches.apply()
    yield
    patches.undo()


def test_refuses_another_rasa_version(monkeypatch):
    import rasa
    from rasa.shared.core.events import Event

    before = Event.__dict__["resolve_by_type"]
    monkeypatch.setattr(rasa, "__version__", "3.6.20")
    with pytest.raises(patches.UnsupportedRasaVersion) as refused:
        patches.apply()
    assert "3.6.21" in str(refused.value) and "3.6.20" in str(refused.value)
    assert Event.__dict__["resolve_by_type"] is before  # nothing was replaced


def test_the_server_refuses_to_start_on_another_rasa_version(monkeypatch, capsys):
    import rasa

    from bot import server

    monkeypatch.setattr(rasa, "__version__", "3.7.0")
    with pytest.raises(SystemExit) as stopped:
        server.main()
    assert "tested with Rasa 3.6.21 only" in str(stopped.value.code)


def test_apply_installs_every_replacement_once_and_undo_restores_rasa(applied):
    import rasa.core.processor
    import rasa.core.run
    from rasa.core.actions.action import RemoteAction
    from rasa.shared.core.domain import Domain
    from rasa.shared.core.events import Event

    from bot import dialogue_states
    from bot.graph_runner import SequentialGraphRunner

    assert RemoteAction._validate_action_result is patches.validate_action_result
    assert Event.__dict__["resolve_by_type"].__func__ is patches.resolve_event_type
    assert rasa.core.processor.DaskGraphRunner is SequentialGraphRunner
    assert Domain.states_for_tracker_history is dialogue_states.states_for_tracker_history
    assert rasa.core.run.load_agent_on_start.__wrapped__ is patches.original("rasa.core.run:load_agent_on_start")
    assert rasa.core.run.configure_app.__wrapped__ is patches.original("rasa.core.run:configure_app")
    load = rasa.core.run.load_agent_on_start
    patches.apply()  # a second time changes nothing
    assert rasa.core.run.load_agent_on_start is load
    patches.undo()
    from rasa.engine.runner.dask import DaskGraphRunner

    assert rasa.core.processor.DaskGraphRunner is DaskGraphRunner
    assert not hasattr(rasa.core.run.load_agent_on_start, "__wrapped__")
    assert Domain.states_for_tracker_history is dialogue_states._ORIGINAL


def test_every_patch_names_tests_that_exist():
    from bot.settings import ROOT

    for patch in patches.PATCHES:
        for test in patch.test.split(";"):
            path, _, name = test.strip().rpartition("::") if "::" in test else ("", "", test.strip())
            if name.endswith(".py") or name.startswith("tests/"):
                path, name = name, ""
            source = (ROOT / (path or "tests/unit/test_patches.py")).read_text(encoding="utf-8")
            assert not name or f"def {name}(" in source, (patch.target, test)


def test_every_target_exists_in_this_rasa():
    for patch in patches.PATCHES:
        for target in (patch.target, *patch.overrides):
            assert patches._exists(target), target
        assert patch.tested_with == "3.6.21" and patch.test


# -- the action-result validator --------------------------------------------------------

REPLIES: List[Any] = [
    {
        "events": [{"event": "slot", "name": "language", "value": "en", "timestamp": None}],
        "responses": [{"response": "utter_greet", "agent_name": "Ann"}],
    },
    {"events": [], "responses": []},
    {},
    {"events": "not a list"},
    {"events": [{"name": "x"}]},
    {"events": [{"event": 5}]},
    {"responses": "text"},
    {"events": [{"event": "slot"}], "responses": [{"text": 1}]},
    [],
    "a string",
    None,
]


@pytest.mark.parametrize("reply", REPLIES, ids=range(len(REPLIES)))
def test_the_validator_raises_what_rasa_raises(reply):
    from rasa.core.actions.action import RemoteAction

    action = RemoteAction("action_test", None)
    rasas = patches.original(VALIDATOR)
    try:
        expected = rasas(action, reply)
    except ValidationError as error:
        with pytest.raises(ValidationError) as ours:
            patches.validate_action_result(action, reply)
        assert (ours.value.message, list(ours.value.path), ours.value.validator) == (
            error.message,
            list(error.path),
            error.validator,
        )
        assert "Failed to validate Action server response" in ours.value.message
    else:
        assert patches.validate_action_result(action, reply) is expected is True


def test_rasas_validator_is_jsonschema_validate():
    """What the replacement saves: jsonschema.validate checks the schema on each call."""
    from rasa.core.actions.action import RemoteAction

    schema = RemoteAction.action_response_format_spec()
    with pytest.raises(ValidationError):
        jsonschema.validate({"events": "not a list"}, schema)


# -- the event type table ---------------------------------------------------------------


def test_the_event_table_resolves_every_event_type_as_rasa_does():
    from rasa.shared.core.events import Event, SlotSet
    from rasa.shared.utils.common import all_subclasses

    rasas = patches.original(RESOLVE)
    names = {cls.type_name for cls in all_subclasses(Event)}
    assert len(names) > 20
    for name in sorted(names):
        assert patches.resolve_event_type(name) is rasas(name), name
    assert patches.resolve_event_type("topic") is rasas("topic") is None
    assert patches.resolve_event_type("no_such_event", SlotSet) is rasas("no_such_event", SlotSet) is SlotSet
    with pytest.raises(ValueError, match="Unknown event name 'no_such_event'"):
        rasas("no_such_event")
    with pytest.raises(ValueError, match="Unknown event name 'no_such_event'"):
        patches.resolve_event_type("no_such_event")


def test_the_event_table_finds_an_event_class_defined_later():
    from rasa.shared.core.events import SlotSet

    patches.resolve_event_type("user")  # the table exists

    class LateEvent(SlotSet):
        type_name = "shop_test_late_event"

    assert patches.resolve_event_type("shop_test_late_event") is LateEvent
    assert patches.original(RESOLVE)("shop_test_late_event") is LateEvent


# -- gc.freeze and /health --------------------------------------------------------------


def test_freeze_wrapper_returns_the_agent_and_freezes():
    agent = object()
    calls: List[Any] = []

    async def load_agent_on_start(*args: Any, **kwargs: Any) -> Any:
        calls.append((args, kwargs))
        return agent

    gc.unfreeze()
    try:
        load = patches.freeze_after_loading(load_agent_on_start)
        assert load.__wrapped__ is load_agent_on_start
        assert asyncio.run(load("model", endpoints=None)) is agent
        assert calls == [(("model",), {"endpoints": None})]
        assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()


def test_configure_app_gets_the_health_route():
    import uuid

    from sanic import Sanic

    made: Dict[str, Any] = {}

    def configure_app(*args: Any, **kwargs: Any) -> Any:
        made["app"] = Sanic(f"test_{uuid.uuid4().hex[:8]}")
        made["args"] = (args, kwargs)
        return made["app"]

    app = patches.with_health(configure_app)(["channels"], enable_api=True)
    assert app is made["app"] and made["args"] == ((["channels"],), {"enable_api": True})
    assert "bot_health" in app.blueprints


# -- the graph runner -------------------------------------------------------------------


def test_sequential_runner_matches_dask_on_a_graph(tmp_path):
    from rasa.engine.graph import ExecutionContext, GraphComponent, GraphSchema, SchemaNode
    from rasa.engine.runner.dask import DaskGraphRunner
    from rasa.engine.storage.local_model_storage import LocalModelStorage

    from bot.graph_runner import SequentialGraphRunner

    class Combine(GraphComponent):
        runs: List[str] = []

        def __init__(self, config: Dict[str, Any]) -> None:
            self.label = config["label"]

        @classmethod
        def create(cls, config, model_storage, resource, execution_context):
            return cls(config)

        def run(self, **parts: Any) -> Any:
            Combine.runs.append(self.label)
            return [self.label, sorted(parts.items())]

    def node(label: str, **needs: str) -> SchemaNode:
        return SchemaNode(needs=needs, uses=Combine, constructor_name="create", fn="run", config={"label": label})

    schema = GraphSchema(
        {
            "a": node("a", text="message"),
            "b": node("b", first="a"),
            "c": node("c", first="a", second="b"),
            "d": node("d", first="c", text="message"),
            "unused": node("unused", first="a"),
        }
    )
    storage = LocalModelStorage(tmp_path)
    context = ExecutionContext(schema, "model")
    dask = DaskGraphRunner(schema, storage, context)
    ours = SequentialGraphRunner(schema, storage, context)
    for targets in (["d"], ["b", "c"], ["a"], ["unused", "d"]):
        Combine.runs.clear()
        expected = dask.run(inputs={"message": "你好"}, targets=targets)
        dask_runs = sorted(Combine.runs)
        Combine.runs.clear()
        assert ours.run(inputs={"message": "你好"}, targets=targets) == expected
        assert sorted(Combine.runs) == dask_runs  # the same nodes, each once
    from rasa.engine.exceptions import GraphRunError

    with pytest.raises(GraphRunError):
        dask.run(inputs={"x": "a"}, targets=["d"])
    with pytest.raises(GraphRunError):
        ours.run(inputs={"x": "a"}, targets=["d"])


# -- the website channel's socket.io handler ---------------------------------------------


def _handler_and_messages(channel: Any) -> tuple:
    received: List[Any] = []

    async def on_new_message(message: Any) -> None:
        received.append(message)

    channel.blueprint(on_new_message)
    return channel.sio.handlers["/"]["user_uttered"], received


def test_website_handler_passes_what_rasas_handler_passes():
    from rasa.core.channels.socketio import SocketIOInput, SocketIOOutput

    from bot.channels.website import WebsiteInput, conversation_of

    credentials = {"user_message_evt": "user_uttered", "bot_message_evt": "bot_uttered", "session_persistence": True}
    rasas, from_rasa = _handler_and_messages(SocketIOInput.from_credentials(credentials))
    website = WebsiteInput.from_credentials(credentials)
    ours, from_ours = _handler_and_messages(website)
    assert "WebsiteInput" in ours.__qualname__  # Rasa's handler is replaced on the channel's server
    # Security (issue 12): the socket is first confirmed a session the server issues.
    confirmed: List[Any] = []

    async def emit(event: str, data: Any, room: Any = None, **_: Any) -> None:
        confirmed.append((event, data, room))

    website.sio.emit = emit
    website.sio.enter_room = lambda *args, **kwargs: None
    session_request = website.sio.handlers["/"]["session_request"]
    asyncio.run(session_request("sid-1", {"session_id": "s1"}))  # an id the server did not issue
    ((event, session_id, room),) = confirmed
    conversation = conversation_of(session_id)
    assert event == "session_confirm" and room == "sid-1" and conversation and session_id != "s1"
    data = {"message": "你好", "session_id": "s1", "metadata": {"page": "/shop/"}}
    asyncio.run(rasas("sid-1", dict(data)))
    asyncio.run(ours("sid-1", dict(data)))
    (theirs,), (mine,) = from_rasa, from_ours
    assert (mine.text, mine.input_channel) == (theirs.text, theirs.input_channel)
    assert isinstance(mine.output_channel, SocketIOOutput)
    # What ours does differently: the socket's own conversation, whatever session_id the
    # message names (Rasa's takes it from the message), and only known metadata.
    assert theirs.sender_id == "s1" and mine.sender_id == conversation
    assert theirs.metadata == {"page": "/shop/"} and mine.metadata == {}
    # What ours adds: the page language from the widget's customData.
    asyncio.run(ours("sid-1", {"message": "hi", "session_id": "s1", "customData": {"language": "en-US"}}))
    assert from_ours[-1].metadata == {"language": "en"}
    # Both ignore a message without a session: Rasa's without a session id, ours on a
    # socket that was never confirmed one.
    with pytest.warns(UserWarning):
        asyncio.run(rasas("sid-1", {"message": "hi"}))
    asyncio.run(ours("sid-2", {"message": "hi", "session_id": session_id}))
    assert len(from_rasa) == 1 and len(from_ours) == 2


# -- story tests ------------------------------------------------------------------------


def test_story_tests_compare_entities_as_stories_can_write_them():
    from rasa.core.test import _collect_user_uttered_predictions
    from rasa.shared.core.events import UserUttered
    from rasa.shared.core.trackers import DialogueStateTracker

    text = "推荐500元以内的台灯"
    start, end = text.index("500元以内"), text.index("的")
    gold = UserUttered(
        text,
        {"name": "request_recommendation"},
        [{"entity": "budget", "start": start, "end": end, "value": "500元以内"}],
    )
    predicted = {
        "text": text,
        "intent": {"name": "request_recommendation"},
        "entities": [
            {"entity": "language", "value": "zh", "start": 0, "end": len(text), "extractor": "LanguageDetector"},
            {
                "entity": "budget",
                "value": {"amount": 500.0, "currency": "CNY"},
                "start": start,
                "end": end,
                "extractor": "ShopEntityMatcher",
            },
        ],
    }

    def mismatch(collect: Any, prediction: Dict[str, Any]) -> bool:
        tracker = DialogueStateTracker("story", [])  # Rasa turns values into strings in place: a copy each time
        return collect(gold, copy.deepcopy(prediction), tracker, False).check_prediction_target_mismatch()

    assert mismatch(_collect_user_uttered_predictions, predicted)  # Rasa: language and the dict differ
    story_test = patches.story_test_entities(_collect_user_uttered_predictions)
    assert not mismatch(story_test, predicted)
    wrong = dict(
        predicted,
        entities=predicted["entities"]
        + [
            {
                "entity": "product",
                "value": "eye-care-desk-lamp",
                "start": end + 1,
                "end": end + 3,
                "extractor": "ShopEntityMatcher",
            }
        ],
    )
    assert mismatch(story_test, wrong)  # any other entity still counts
    assert mismatch(story_test, dict(predicted, intent={"name": "ask_product_info"}))


def test_story_tests_compare_a_button_payload_by_its_story_entities():
    """A story's button payload (/inform{"remedy": ...}) names a vocabulary entity that the
    predictions leave out: neither side counts it; a story entity in a payload still does."""
    from rasa.core.test import _collect_user_uttered_predictions
    from rasa.shared.core.events import UserUttered
    from rasa.shared.core.trackers import DialogueStateTracker

    story_test = patches.story_test_entities(_collect_user_uttered_predictions)
    payload = '/inform{"remedy": "urge_courier"}'
    gold = UserUttered(payload, {"name": "inform"}, [{"entity": "remedy", "value": "urge_courier"}])
    predicted = {
        "text": payload,
        "intent": {"name": "inform"},
        "entities": [{"entity": "remedy", "value": "urge_courier"}],
    }
    tracker = DialogueStateTracker("story", [])
    assert not story_test(gold, copy.deepcopy(predicted), tracker, False).check_prediction_target_mismatch()
    assert gold.entities == [{"entity": "remedy", "value": "urge_courier"}]  # the story's event is left as it was
    order = UserUttered(
        '/inform{"order_id": "SO20261101"}', {"name": "inform"}, [{"entity": "order_id", "value": "SO20261101"}]
    )
    tracker = DialogueStateTracker("story", [])
    assert story_test(order, dict(predicted, entities=[]), tracker, False).check_prediction_target_mismatch()

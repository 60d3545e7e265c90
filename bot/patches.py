"""Every replacement of Rasa internals in the bot, in one place, tested with Rasa 3.6.21 only.

`apply()` refuses any other Rasa version (they replace private code that a new version may
change without notice), then installs the runtime replacements listed in PATCHES.
`python -m bot.server` calls it before Rasa's command line, so `make run`, `make shell`,
`make test-stories`, `make test-nlu`, the end-to-end tests and `make bench` all run the
patched runtime that customers get.

Two more replacements are subclasses that the configuration selects (endpoints.yml,
credentials.yml) rather than installed here; they are listed too, and `apply()` checks
that the Rasa internals they override still exist, so that this file stays the one list.

Each entry names the test that compares it with Rasa's own behaviour
(tests/unit/test_patches.py unless said otherwise).

Why each one (py-spy and cProfile on `make bench`'s 20-conversation run, this machine):
- Action-result validator: Rasa validates every action-server reply with
  `jsonschema.validate(result, schema)`, which re-checks the schema itself against the
  JSON-Schema metaschema on each call: 33 ms of a ~60 ms custom-action turn, for a schema
  that never changes. The replacement builds the validator once and raises the same
  ValidationError with the same message.
- Event type table: `Event.resolve_by_type` walks every subclass of Event (with an
  `inspect.isabstract` check each) for every event it deserialises: 15% of the server's
  time per message, as each turn reads its conversation's events back. The replacement
  looks the type name up in a table of the same classes, rebuilt when a name is not found
  (a class defined later).
- Prediction graph without dask (bot/graph_runner.py): about 15% of the graph's time per
  message went to dask building and copying a task graph for a dozen nodes.
- One replay of the dialogue states per turn (bot/dialogue_states.py): the policies
  replayed the whole conversation three times per bot action, a third of the server's time.
- gc.freeze after the model is loaded: the model's half a million objects (TensorFlow,
  spaCy, Rasa) leave the garbage collector's sight; before, every full collection walked
  them all, a 300 ms pause every few hundred messages.
- /health with the run's token (bot/health.py): lets a launcher tell the server it just
  started from one left over on the same port.
- Cached SQL tracker store (bot/tracker_store.py, endpoints.yml): about 40% of the
  server's time per message went to reading back and replaying what it had just written.
- Website socket.io handler (bot/channels/website.py, credentials.yml): Rasa's handler for
  customer messages is replaced on the same socket.io server to check the input, take the
  page language and use an output channel that drives the silence timers.
- Action server down or slow (bot/resilience.py): Rasa waits five minutes for an action,
  then logs ERRORs and drops it, and the customer hears nothing. Calls get ACTION_TIMEOUT
  (3 s), a turn waits for a failing action server once; a failed action ends the turn,
  rolled back to the customer's message, with one apology (utter_service_trouble) and
  the bot listening, so the conversation goes on normally once the action server is back.
- Never silent while waiting for an agent (bot/handoff_waiting.py): a paused
  conversation's message gets an acknowledgement with the queue position until an agent
  claims the hand-off (Rasa says nothing at all while paused).
- Story tests only (scripts/test_stories.py): the end-to-end story test compares intents
  and entities as a story can write them: not the `language` entity that LanguageDetector
  puts on every message, and a budget by its text.

Security (issue 12; README "Deploying safely"):
- Public surface (bot/security.py): Rasa's configure_cors granted CORS with credentials to
  every path, the agent console included (with `--cors "*"` any site could read its
  transcripts); the replacement grants it only to CORS_ORIGINS, without credentials, never
  on /agent/, and caps request bodies on the public paths before they are read.
- Customer text stays text (bot/customer_text.py): Rasa's NLU graph ends in
  RegexMessageHandler, which reads any `/intent{entities}` text as that intent, so a
  customer could type `/restart` or `/inform{"order_id": ...}`; the replacement stops the
  graph before that node unless the message may speak as an intent (a button the bot
  offered in the conversation, a server-made message, the widget's opening payload).
- Website sessions (bot/channels/website.py): Rasa's socket.io handlers let any client
  join any session id's room; ours issue signed session ids and bind each socket to one.
"""

from __future__ import annotations

import copy
import functools
import gc
import importlib
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Awaitable, Callable, Dict, List, Optional, Tuple, Type

RASA_VERSION = "3.6.21"


class UnsupportedRasaVersion(RuntimeError):
    pass


# -- the replacements -------------------------------------------------------------------


@lru_cache(maxsize=1)
def _action_response_validator() -> Any:
    from jsonschema import validators
    from rasa.core.actions.action import RemoteAction

    schema = RemoteAction.action_response_format_spec()
    cls = validators.validator_for(schema)
    cls.check_schema(schema)  # once, as jsonschema.validate would on every call
    return cls(schema)


def validate_action_result(self: Any, result: Dict[str, Any]) -> bool:
    """RemoteAction._validate_action_result with the validator built once."""
    from jsonschema.exceptions import best_match
    from rasa.shared.constants import DOCS_BASE_URL

    error = best_match(_action_response_validator().iter_errors(result))
    if error is not None:
        error.message += (
            ". Failed to validate Action server response from API, make sure your response "
            f"from the Action endpoint is valid. For more information about the format visit "
            f"{DOCS_BASE_URL}/custom-actions"
        )
        raise error
    return True


_event_types: Dict[str, Any] = {}


def resolve_event_type(type_name: str, default: Optional[Type[Any]] = None) -> Optional[Type[Any]]:
    """Event.resolve_by_type from a table of the same classes."""
    from rasa.shared.core.events import Event
    from rasa.shared.utils.common import all_subclasses

    if type_name not in _event_types:
        # First subclass wins, as in Rasa's loop.
        for cls in reversed(all_subclasses(Event)):
            _event_types[cls.type_name] = cls
    if type_name in _event_types:
        return _event_types[type_name]
    if type_name == "topic":
        return None  # Rasa: backwards compatibility with old TopicSet events
    if default is not None:
        return default
    raise ValueError(f"Unknown event name '{type_name}'.")


def freeze_after_loading(load_agent_on_start: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
    """rasa.core.run.load_agent_on_start, then gc.freeze() of everything it loaded."""

    @functools.wraps(load_agent_on_start)
    async def load(*args: Any, **kwargs: Any) -> Any:
        agent = await load_agent_on_start(*args, **kwargs)
        gc.collect()
        gc.freeze()  # what is alive now lives as long as the server
        return agent

    return load


def with_health(configure_app: Callable[..., Any]) -> Callable[..., Any]:
    """rasa.core.run.configure_app, plus the /health route of bot/health.py."""

    @functools.wraps(configure_app)
    def configure(*args: Any, **kwargs: Any) -> Any:
        from bot import health

        app = configure_app(*args, **kwargs)
        app.blueprint(health.rasa_blueprint())
        return app

    return configure


# The entities a test story annotates: the shop's names and the numbers of every shape.
# The customer vocabulary's entities (attribute, need, colour, …) often overlap them and each
# other ("颜色不对" is a wrong item and a question about colours), which a story cannot write
# and Rasa's entity evaluation refuses; tests/unit/test_entities.py checks them instead.
STORY_ENTITIES = (
    "product",
    "category",
    "courier",
    "region",
    "order_id",
    "tracking_no",
    "phone_number",
    "phone_last4",
    "reference",
    "budget",
    "quantity",
)


def story_test_entities(collect: Callable[..., Any]) -> Callable[..., Any]:
    """rasa.core.test._collect_user_uttered_predictions for story tests: only the entities
    a story annotates (STORY_ENTITIES; not the `language` entity of
    bot.nlu.language.LanguageDetector, nor the vocabulary's), and a structured value (a
    budget's {"amount", "currency"}) compared as the text it was found in."""

    def comparable(entity: Dict[str, Any], text: str) -> Dict[str, Any]:
        if isinstance(entity.get("value"), (dict, list)) and "start" in entity and "end" in entity:
            return dict(entity, value=text[entity["start"] : entity["end"]])
        return entity

    @functools.wraps(collect)
    def compare(event: Any, predicted: Dict[str, Any], *args: Any, **kwargs: Any) -> Any:
        text = predicted.get("text") or event.text or ""
        if any(entity.get("entity") not in STORY_ENTITIES for entity in event.entities or []):
            # a button payload in a story (/inform{"remedy": ...}) carries vocabulary entities
            event = copy.copy(event)
            event.entities = [entity for entity in event.entities if entity.get("entity") in STORY_ENTITIES]
        predicted = dict(
            predicted,
            entities=[
                comparable(entity, text)
                for entity in predicted.get("entities") or []
                if entity.get("entity") in STORY_ENTITIES
            ],
        )
        return collect(event, predicted, *args, **kwargs)

    return compare


def _sequential_graph_runner() -> Any:
    from bot.graph_runner import SequentialGraphRunner

    return SequentialGraphRunner


def _shared_dialogue_states() -> Any:
    from bot.dialogue_states import states_for_tracker_history

    return states_for_tracker_history


def _public_surface() -> Any:
    from bot.security import configure_public_surface

    return configure_public_surface


def _customer_text_parser(original: Any) -> Any:
    from bot.customer_text import parse_as_text

    return parse_as_text(original)


def _resilience() -> Any:
    from bot import resilience

    return resilience


def _handoff_waiting() -> Any:
    from bot import handoff_waiting

    return handoff_waiting


# -- the list ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Patch:
    target: str  # "module:Owner.attribute" or "module:attribute": what is replaced
    summary: str
    test: str
    # The new value, built from Rasa's original; None: a subclass chosen by configuration
    # (`overrides` then lists the Rasa internals it relies on).
    replacement: Optional[Callable[[Any], Any]] = None
    overrides: Tuple[str, ...] = ()
    tested_with: str = RASA_VERSION
    story_tests_only: bool = False  # installed by apply(story_tests=True) only


PATCHES: Tuple[Patch, ...] = (
    Patch(
        "rasa.core.actions.action:RemoteAction._validate_action_result",
        "action-server replies validated by a validator built once",
        "test_the_validator_raises_what_rasa_raises",
        replacement=lambda original: validate_action_result,
    ),
    Patch(
        "rasa.shared.core.events:Event.resolve_by_type",
        "event types looked up in a table instead of walking every Event subclass",
        "test_the_event_table_resolves_every_event_type_as_rasa_does",
        replacement=lambda original: staticmethod(resolve_event_type),
    ),
    Patch(
        "rasa.core.processor:DaskGraphRunner",
        "each message's graph run node by node, without dask (bot/graph_runner.py)",
        "test_sequential_runner_matches_dask_on_a_graph; "
        "tests/e2e/test_runtime.py::test_sequential_runner_matches_dask_on_the_trained_model",
        replacement=lambda original: _sequential_graph_runner(),
    ),
    Patch(
        "rasa.shared.core.domain:Domain.states_for_tracker_history",
        "the policies share one incremental replay per turn (bot/dialogue_states.py)",
        "tests/unit/test_dialogue_states.py",
        replacement=lambda original: _shared_dialogue_states(),
    ),
    Patch(
        "rasa.core.run:load_agent_on_start",
        "gc.freeze() once the model is loaded",
        "test_freeze_wrapper_returns_the_agent_and_freezes",
        replacement=freeze_after_loading,
    ),
    Patch(
        "rasa.core.run:configure_app",
        "GET /health with the run's token (bot/health.py)",
        "test_configure_app_gets_the_health_route; tests/e2e/test_runtime.py::test_health_reports_this_runs_token",
        replacement=with_health,
    ),
    Patch(
        "rasa.core.tracker_store:SQLTrackerStore",
        "bot.tracker_store.CachedSQLTrackerStore (endpoints.yml): current conversations kept in memory",
        "tests/unit/test_tracker_store.py; tests/e2e/test_server.py::test_what_the_server_saved_is_what_rasa_reads",
        overrides=(
            "rasa.core.tracker_store:SQLTrackerStore._additional_events",
            "rasa.core.tracker_store:SQLTrackerStore.retrieve",
            "rasa.core.tracker_store:SQLTrackerStore.save",
        ),
    ),
    Patch(
        "rasa.core.channels.socketio:SocketIOInput.blueprint",
        "bot.channels.website.WebsiteInput (credentials.yml) replaces the user_uttered handler",
        "test_website_handler_passes_what_rasas_handler_passes; tests/e2e/test_silence.py",
        overrides=(
            "rasa.core.channels.socketio:SocketIOInput.blueprint",
            "rasa.core.channels.socketio:SocketIOOutput._send_message",
        ),
    ),
    Patch(
        "rasa.core.actions.action:RemoteAction.run",
        "each call to the action server gets at most ACTION_TIMEOUT (3 s; Rasa: 5 minutes), and after a "
        "failed call the turn's other calls fail at once; a refused or dropped connection or no answer in time "
        "raises ActionServerUnavailable, logged as a WARNING, not an ERROR (bot/resilience.py)",
        "tests/unit/test_resilience.py; tests/e2e/test_faults.py::test_a_hung_action_server_gets_an_apology_in_time",
        replacement=lambda original: _resilience().timed_remote_action(original),
    ),
    Patch(
        "rasa.core.processor:MessageProcessor._run_action",
        "Rasa's code, except that an action that fails ends the customer's turn: rolled back to the "
        "message (kept, with what the bot already said and the language), one utter_service_trouble, "
        "then listen; a failed action_session_start is replaced by Rasa's own (bot/resilience.py)",
        "tests/unit/test_resilience.py; tests/e2e/test_faults.py::test_killed_action_server_apology_then_restart",
        replacement=lambda original: _resilience().run_action,
    ),
    Patch(
        "rasa.core.processor:MessageProcessor.handle_message",
        "one customer message is one turn: once the action server failed in it, it is not waited for again "
        "(bot/resilience.py)",
        "tests/unit/test_resilience.py::test_after_a_failed_call_the_turns_other_calls_fail_at_once",
        replacement=lambda original: _resilience().in_a_turn(original),
    ),
    Patch(
        "rasa.core.processor:MessageProcessor.trigger_external_user_uttered",
        "a triggered intent (agent console, silence timers) is one turn too (bot/resilience.py)",
        "tests/unit/test_resilience.py::test_after_a_failed_call_the_turns_other_calls_fail_at_once",
        replacement=lambda original: _resilience().in_a_turn(original),
    ),
    Patch(
        "rasa.core.processor:MessageProcessor._run_prediction_loop",
        "a customer's message to a paused conversation whose hand-off still waits for an agent gets "
        'utter_handoff_waiting with the queue position, or a "no" takes the customer out of the queue '
        "(utter_handoff_withdrawn); after an agent claimed it, nothing (bot/handoff_waiting.py)",
        "tests/unit/test_handoff_waiting.py; tests/e2e/test_faults.py::test_messages_while_waiting_are_acknowledged",
        replacement=lambda original: _handoff_waiting().acknowledge_while_waiting(original),
    ),
    Patch(
        "rasa.core.test:_collect_user_uttered_predictions",
        "story tests (`make test-stories`) compare only the entities a story annotates (names and numbers, "
        "STORY_ENTITIES): not the LanguageDetector's `language` entity (it spans the whole message, which a "
        "story cannot annotate beside the message's other entities; tested in tests/unit/test_language.py "
        "and over HTTP) nor the customer vocabulary's (they overlap each other; tested in "
        "tests/unit/test_entities.py), and compare a structured value such as "
        "a budget as its text (a story's entity annotation cannot hold braces; the values are tested "
        "in tests/unit/test_entities.py)",
        "test_story_tests_compare_entities_as_stories_can_write_them",
        replacement=story_test_entities,
        story_tests_only=True,
    ),
    # -- security (issue 12) --
    Patch(
        "rasa.server:configure_cors",
        "bot.security.configure_public_surface: CORS only for CORS_ORIGINS, no credentials, none on /agent/; "
        "request bodies on the public paths capped (413 with a JSON reason)",
        "tests/unit/test_security.py::test_cors_is_granted_only_to_the_configured_origins_and_never_on_agent; "
        "tests/e2e/test_security.py::test_cross_origin_requests_get_no_cors_grant; "
        "tests/e2e/test_security.py::test_oversized_bodies_and_metadata_are_refused_with_a_reason",
        replacement=lambda original: _public_surface(),
    ),
    Patch(
        "rasa.core.processor:MessageProcessor._parse_message_with_graph",
        "bot.customer_text.parse_as_text: `/intent{...}` typed by a customer is read by the NLU as text, "
        "unless it is a button the bot offered in the conversation or a server-made message",
        "tests/unit/test_security.py::test_only_offered_buttons_and_server_made_messages_speak_as_intents; "
        "tests/e2e/test_security.py::test_typed_intent_with_entities_is_text; "
        "tests/e2e/test_security.py::test_typed_restart_is_text_and_the_conversation_survives",
        replacement=lambda original: _customer_text_parser(original),
    ),
    Patch(
        "rasa.core.channels.socketio:SocketIOInput.blueprint",
        "bot.channels.website.WebsiteInput (credentials.yml) also replaces the connect, session_request and "
        "disconnect handlers: server-issued signed session ids, each socket bound to its one session",
        "test_website_handler_passes_what_rasas_handler_passes; "
        "tests/e2e/test_security.py::test_joining_another_website_session_is_refused",
        overrides=("rasa.core.channels.socketio:SocketIOInput.blueprint",),
    ),
)


# -- applying them ----------------------------------------------------------------------


def _resolve(target: str) -> Tuple[Any, str]:
    """(owner object, attribute name) of "module:Owner.attribute"."""
    module_name, _, path = target.partition(":")
    owner: Any = importlib.import_module(module_name)
    *owners, attribute = path.split(".")
    for name in owners:
        owner = getattr(owner, name)
    return owner, attribute


def _exists(target: str) -> bool:
    try:
        owner, attribute = _resolve(target)
    except (ImportError, AttributeError):
        return False
    return attribute in vars(owner) if isinstance(owner, type) else hasattr(owner, attribute)


_originals: Dict[str, Any] = {}  # target -> what was there before apply()


def check_rasa_version() -> None:
    import rasa

    if rasa.__version__ != RASA_VERSION:
        raise UnsupportedRasaVersion(
            f"bot/patches.py replaces Rasa internals and was tested with Rasa {RASA_VERSION} only; "
            f"this is Rasa {rasa.__version__}. Install rasa=={RASA_VERSION} (requirements.txt), or check "
            f"each entry of bot/patches.py against Rasa {rasa.__version__} and its test, then update RASA_VERSION."
        )


def apply(story_tests: bool = False) -> List[str]:
    """Check the Rasa version and every target, then install the replacements (once);
    with `story_tests`, also those for `make test-stories`."""
    check_rasa_version()
    missing = [
        name
        for patch in PATCHES
        if story_tests or not patch.story_tests_only
        for name in (patch.target, *patch.overrides)
        if not _exists(name)
    ]
    if missing:
        raise UnsupportedRasaVersion(f"Rasa internals that bot/patches.py replaces are gone: {', '.join(missing)}")
    for patch in PATCHES:
        if patch.replacement is None or patch.target in _originals or (patch.story_tests_only and not story_tests):
            continue
        owner, attribute = _resolve(patch.target)
        original = vars(owner)[attribute] if isinstance(owner, type) else getattr(owner, attribute)
        _originals[patch.target] = original
        setattr(owner, attribute, patch.replacement(original))
    return list(_originals)


def undo() -> None:
    """Put Rasa's originals back (for tests)."""
    for target, original in reversed(list(_originals.items())):
        owner, attribute = _resolve(target)
        setattr(owner, attribute, original)
    _originals.clear()


def original(target: str) -> Any:
    """Rasa's own value of a patched target, whether or not apply() ran."""
    if target in _originals:
        return _originals[target]
    owner, attribute = _resolve(target)
    return vars(owner)[attribute] if isinstance(owner, type) else getattr(owner, attribute)

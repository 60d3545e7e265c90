"""The Rasa command line, with fixes for known Rasa 3.6 problems applied first.

`python -m bot.server run ...` is what `make run`, the tests and `make bench` start.

Fix: Rasa validates every action-server reply with `jsonschema.validate(result,
schema)`, which re-checks the schema itself against the JSON-Schema metaschema on each
call: 33 ms of a ~60 ms custom-action turn on this machine (py-spy), for a schema that
never changes. The replacement builds the validator once and raises the same
ValidationError with the same message.

Fix: `Event.resolve_by_type` walks every subclass of Event (with an `inspect.isabstract`
check each) for every event it deserialises: 15% of the server's time per message in
cProfile, as each turn reads its conversation's events back. The replacement looks the
type name up in a table of the same classes, rebuilt when a name is not found (a class
defined later).

Speed-ups, each measured with cProfile on `make bench` and explained in its module:
messages run through `bot.graph_runner.SequentialGraphRunner` instead of dask, and the
policies share one replay of the conversation per turn (`bot.dialogue_states`).

Change: once the model is loaded, its half a million objects (TensorFlow, spaCy, Rasa)
are moved out of the garbage collector's sight (`gc.freeze`). Before, every full
collection walked them all: a 300 ms pause every few hundred messages.
"""
from __future__ import annotations

import functools
import gc
from functools import lru_cache
from typing import Any, Awaitable, Callable, Dict, Optional, Type


@lru_cache(maxsize=1)
def _action_response_validator() -> Any:
    from jsonschema import validators
    from rasa.core.actions.action import RemoteAction

    schema = RemoteAction.action_response_format_spec()
    cls = validators.validator_for(schema)
    cls.check_schema(schema)  # once, as jsonschema.validate would on every call
    return cls(schema)


def _validate_action_result(self: Any, result: Dict[str, Any]) -> bool:
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


def _resolve_event_type(type_name: str, default: Optional[Type[Any]] = None) -> Optional[Type[Any]]:
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


def _freeze_after_loading(load_agent_on_start: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
    @functools.wraps(load_agent_on_start)
    async def load(*args: Any, **kwargs: Any) -> Any:
        agent = await load_agent_on_start(*args, **kwargs)
        gc.collect()
        gc.freeze()  # what is alive now lives as long as the server
        return agent

    return load


def apply_fixes() -> None:
    import rasa.core.processor
    import rasa.core.run
    from rasa.core.actions.action import RemoteAction
    from rasa.shared.core.events import Event

    from bot import dialogue_states
    from bot.graph_runner import SequentialGraphRunner

    RemoteAction._validate_action_result = _validate_action_result
    Event.resolve_by_type = staticmethod(_resolve_event_type)
    rasa.core.processor.DaskGraphRunner = SequentialGraphRunner
    dialogue_states.install()
    rasa.core.run.load_agent_on_start = _freeze_after_loading(rasa.core.run.load_agent_on_start)


if __name__ == "__main__":
    apply_fixes()
    from rasa.__main__ import main

    main()

"""The Rasa command line, with fixes for known Rasa 3.6 problems applied first.

`python -m bot.server run ...` is what `make run`, the tests and `make bench` start.

Fix: Rasa validates every action-server reply with `jsonschema.validate(result,
schema)`, which re-checks the schema itself against the JSON-Schema metaschema on each
call: 33 ms of a ~60 ms custom-action turn on this machine (py-spy), for a schema that
never changes. The replacement builds the validator once and raises the same
ValidationError with the same message.
"""
from __future__ import annotations

from functools import lru_cache
from typing import Any, Dict


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


def apply_fixes() -> None:
    from rasa.core.actions.action import RemoteAction

    RemoteAction._validate_action_result = _validate_action_result


if __name__ == "__main__":
    apply_fixes()
    from rasa.__main__ import main

    main()

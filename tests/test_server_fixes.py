"""bot.server's replacement for Rasa's action-response validation keeps its behaviour."""
import pytest
from jsonschema import ValidationError

from bot.server import _validate_action_result


def test_valid_replies_pass():
    reply = {"events": [{"event": "slot", "name": "language", "value": "en", "timestamp": None}],
             "responses": [{"response": "utter_greet", "agent_name": "Ann"}]}
    assert _validate_action_result(None, reply) is True


def test_invalid_replies_raise_the_same_error_as_rasa():
    with pytest.raises(ValidationError, match="Failed to validate Action server response"):
        _validate_action_result(None, {"events": "not a list"})

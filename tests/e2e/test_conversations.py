"""Multi-turn conversations written the way customers write (tests/conversations/*.yml),
against a real action server + Rasa server: every turn's responses, in order, and every
turn's invariants (1-3 messages, the customer's language, nothing repeated, chat-sized)."""

import uuid

import pytest
import yaml

from bot import settings
from tests.support.rest import RestClient
from tests.support.turns import LogWatch, problems, take_turn

FILES = sorted((settings.ROOT / "tests" / "conversations").glob("*.yml"))


def conversations():
    for path in FILES:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        for conversation in data["conversations"]:
            yield pytest.param(data["language"], conversation, id=f"{path.stem}: {conversation['name']}")


def test_there_are_twenty_conversations_per_language():
    counts = {}
    for path in FILES:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        counts[data["language"]] = counts.get(data["language"], 0) + len(data["conversations"])
    assert counts.get("zh", 0) >= 20 and counts.get("en", 0) >= 20, counts


@pytest.fixture(scope="module")
def bot(bot_factory):
    """A bot of its own: the conversations cancel orders and change addresses."""
    return bot_factory.started_bot("conversations")


@pytest.fixture(scope="module")
def watch(bot):
    watch = LogWatch(bot.log_dir)
    yield watch
    assert not watch.bad_lines(), "\n".join(watch.bad_lines())


@pytest.mark.parametrize("language,conversation", conversations())
def test_conversation(bot, watch, language, conversation):
    rest = RestClient.of(bot)
    sender = f"conversation-{uuid.uuid4().hex[:10]}"
    for number, step in enumerate(conversation["turns"], 1):
        turn = take_turn(rest, sender, str(step["user"]))
        where = f"turn {number} {turn.user!r}: got {turn.names} {turn.texts}"
        assert not problems(turn, language), f"{where}\n{problems(turn, language)}"
        wanted = [name for name in step["bot"] if not name.endswith("?")]
        optional = {name[:-1] for name in step["bot"] if name.endswith("?")}
        assert [name for name in turn.names if name not in optional] == wanted, where

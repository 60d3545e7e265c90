"""The patched runtime (bot/patches.py) against Rasa's own, where it needs the trained
model or a running server."""

from __future__ import annotations

import asyncio
import json
import urllib.request

import pytest

from bot import settings

MESSAGES = [
    "你好",
    "hello",
    "我的订单SO20261101到哪了",
    "4608",
    "推荐一个500元以内的儿童衣柜",
    "发新疆要几天",
    "the lamp arrived broken",
    "能便宜点不 亲",
    "转人工",
    "",
    "😀😀",
    "asdf qwer zxcv",
]


def test_health_reports_this_runs_token(running_bot):
    for url in (f"{running_bot.url}/health", f"{running_bot.actions_url}/health"):
        with urllib.request.urlopen(url, timeout=10) as answer:
            assert json.loads(answer.read()) == {"status": "ok", "token": running_bot.token}


@pytest.fixture(scope="module")
def agents():
    """The trained model loaded twice: with Rasa's DaskGraphRunner, and with ours."""
    import rasa.core.processor
    from rasa.core.agent import Agent
    from rasa.engine.runner.dask import DaskGraphRunner

    from bot.graph_runner import SequentialGraphRunner

    model = settings.path("MODEL_PATH")
    if not model.exists():
        pytest.fail(f"no trained model at {model}: run `make train` (make test does)")
    assert rasa.core.processor.DaskGraphRunner is DaskGraphRunner  # Rasa's, in this process
    rasas = Agent.load(str(model))
    rasa.core.processor.DaskGraphRunner = SequentialGraphRunner
    try:
        ours = Agent.load(str(model))
    finally:
        rasa.core.processor.DaskGraphRunner = DaskGraphRunner
    assert type(rasas.processor.graph_runner) is DaskGraphRunner
    assert type(ours.processor.graph_runner) is SequentialGraphRunner
    return rasas, ours


def test_sequential_runner_matches_dask_on_the_trained_model(agents):
    from rasa.shared.core.events import ActionExecuted, UserUttered
    from rasa.shared.core.trackers import DialogueStateTracker

    rasas, ours = agents
    for text in MESSAGES:
        parsed = asyncio.run(rasas.parse_message(text))
        assert asyncio.run(ours.parse_message(text)) == parsed, text
        # The policies' prediction for a conversation that starts with this message.
        predictions = []
        for agent in (rasas, ours):
            tracker = DialogueStateTracker.from_events("runtime", [ActionExecuted("action_listen")], agent.domain.slots)
            tracker.update(UserUttered(text, parsed["intent"], parsed["entities"], parse_data=parsed))
            prediction = agent.processor.predict_next_with_tracker(tracker)
            predictions.append({key: prediction[key] for key in ("scores", "policy", "confidence")})
        assert predictions[1] == predictions[0], text

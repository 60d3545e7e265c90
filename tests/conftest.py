"""Fixtures for every test, none of which needs a server or a trained model: the shop
data, a fresh shop store, and Tracker builders for actions (the financial-demo way)."""

from __future__ import annotations

from typing import Any, Dict, List, Optional

import pytest

from bot.shop.loader import load_shop


@pytest.fixture(scope="session")
def shop():
    return load_shop()


@pytest.fixture
def test_store(monkeypatch, tmp_path):
    """A fresh shop store for in-process action tests (orders seeded from the fixtures)."""
    from bot.shop.store import store_for

    url = f"sqlite:///{tmp_path / 'shop.db'}"
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.delenv("ORDER_API_URL", raising=False)
    return store_for(url)


def make_tracker(
    text: str = "",
    intent: str = "greet",
    slots: Optional[Dict[str, Any]] = None,
    entities: Optional[List[Dict[str, Any]]] = None,
    events: Optional[List[Dict[str, Any]]] = None,
    paused: bool = False,
):
    """A rasa_sdk Tracker as the action server receives it. Without `entities`, the
    message carries what the NLU's rule-based components find in `text`."""
    from rasa_sdk import Tracker

    from tests.support.understanding import entities as understood

    if entities is None:
        entities = understood(text)
    latest = {"text": text, "intent": {"name": intent, "confidence": 1.0}, "entities": entities}
    events = list(events or []) + [{"event": "user", "text": text, "parse_data": latest}]
    return Tracker("test-sender", slots or {}, latest, events, paused, None, {}, "action_listen")


@pytest.fixture
def tracker():
    """make_tracker(text, intent, slots=..., entities=..., events=..., paused=...)."""
    return make_tracker


@pytest.fixture
def dispatcher():
    from rasa_sdk.executor import CollectingDispatcher

    return CollectingDispatcher()


@pytest.fixture
def run():
    """run(action, dispatcher, tracker): an action's events, awaited if it is async."""
    import asyncio
    import inspect

    def run_action(action, dispatcher, tracker, domain=None):
        result = action.run(dispatcher, tracker, domain or {})
        return asyncio.run(result) if inspect.isawaitable(result) else result

    return run_action

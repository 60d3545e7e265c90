"""Shared fixtures: the shop data, Tracker builders, and one real running bot."""
from __future__ import annotations

import json
import shutil
import urllib.request
from typing import Any, Dict, List, Optional

import pytest

from bot import settings
from bot.shop.loader import load_shop

TEST_VAR = settings.ROOT / "var" / "test"
# The running test bot's shop store; tests read it to check what the bot recorded.
TEST_DATABASE_URL = f"sqlite:///{TEST_VAR / 'shop.db'}"


@pytest.fixture
def test_store(monkeypatch, tmp_path):
    """A fresh shop store for in-process action tests (orders seeded from the fixtures)."""
    from bot.shop.store import store_for

    url = f"sqlite:///{tmp_path / 'shop.db'}"
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.delenv("ORDER_API_URL", raising=False)
    return store_for(url)


@pytest.fixture
def bot_store(running_bot):
    """The shop store of the running test bot."""
    from bot.shop.store import store_for

    return store_for(TEST_DATABASE_URL)


@pytest.fixture(scope="session")
def shop():
    return load_shop()


def make_tracker(text: str = "", intent: str = "greet", slots: Optional[Dict[str, Any]] = None,
                 entities: Optional[List[Dict[str, Any]]] = None, events: Optional[List[Dict[str, Any]]] = None,
                 paused: bool = False):
    """A rasa_sdk Tracker as the action server receives it."""
    from rasa_sdk import Tracker

    latest = {"text": text, "intent": {"name": intent, "confidence": 1.0}, "entities": entities or []}
    events = list(events or []) + [{"event": "user", "text": text, "parse_data": latest}]
    return Tracker("test-sender", slots or {}, latest, events, paused, None, {}, "action_listen")


@pytest.fixture
def tracker():
    return make_tracker


@pytest.fixture
def dispatcher():
    from rasa_sdk.executor import CollectingDispatcher

    return CollectingDispatcher()


class RestClient:
    """Talks to the running Rasa server over real HTTP."""

    def __init__(self, base: str) -> None:
        self.base = base

    def post_raw(self, path: str, body: bytes, content_type: str = "application/json"):
        request = urllib.request.Request(self.base + path, data=body, method="POST",
                                         headers={"Content-Type": content_type})
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return response.status, response.read()
        except urllib.error.HTTPError as error:
            return error.code, error.read()

    def send(self, sender: str, message: str, metadata: Optional[Dict[str, Any]] = None) -> List[Dict[str, Any]]:
        body = {"sender": sender, "message": message}
        if metadata:
            body["metadata"] = metadata
        status, raw = self.post_raw("/webhooks/rest/webhook", json.dumps(body).encode())
        assert status == 200, (status, raw[:300])
        return json.loads(raw)

    def texts(self, sender: str, message: str) -> List[str]:
        return [m.get("text", "") for m in self.send(sender, message)]

    def tracker(self, sender: str) -> Dict[str, Any]:
        with urllib.request.urlopen(f"{self.base}/conversations/{sender}/tracker", timeout=30) as response:
            return json.loads(response.read())


@pytest.fixture(scope="session")
def running_bot():
    """The real action server + Rasa server on test ports, with a fresh tracker file."""
    from scripts.servers import Bot

    model = settings.path("MODEL_PATH")
    if not model.exists():
        pytest.fail(f"no trained model at {model}: run `make train` (make test does)")
    shutil.rmtree(TEST_VAR, ignore_errors=True)
    bot = Bot(model=model, rasa_port=15005, actions_port=15055,
              tracker_db=TEST_VAR / "tracker.db", log_dir=TEST_VAR / "log",
              extra_env={"DATABASE_URL": TEST_DATABASE_URL,
                         # agents always on duty here; after-hours is tested on the action itself
                         "SERVICE_HOURS": "00:00-24:00"})
    bot.start(timeout=180)
    yield bot
    bot.stop()


@pytest.fixture(scope="session")
def rest(running_bot) -> RestClient:
    return RestClient(running_bot.url)

"""The one place that starts servers for the tests: the real action server + Rasa server
(scripts/servers.py), on ports the OS gives out, identified by their run token before use.

- `running_bot` (session): the default bot, shared by every module that needs nothing
  special; `rest` is its REST client, `bot_store` its shop store.
- `bot_factory` (module): bots with special settings (WeChat, short silence timers, an
  order API, ...) for one module, stopped at the module's end.
- `launcher` (module): `make run`'s launcher itself (python -m scripts.run) as a process,
  for the tests of its supervision loop and its Ctrl-C.
"""

from __future__ import annotations

from typing import Iterator, List

import pytest

from scripts.servers import Bot
from tests.support import bots
from tests.support.rest import RestClient


class BotFactory:
    """Starts bots for one test module; all are stopped when the module is done."""

    def __init__(self) -> None:
        self.started: List[Bot] = []

    def new(self, name: str, **env: str) -> Bot:
        """A bot with its own stores and `env` over the test defaults; start it with start()."""
        try:
            return bots.new_bot(name, **env)
        except bots.NoModel as error:
            pytest.fail(str(error))

    def start(self, *new: Bot) -> None:
        self.started.extend(new)
        bots.start_all(*new)

    def started_bot(self, name: str, **env: str) -> Bot:
        bot = self.new(name, **env)
        self.start(bot)
        return bot

    def stop_all(self) -> None:
        for bot in self.started:
            bot.stop()
        self.started.clear()


@pytest.fixture(scope="module")
def bot_factory() -> Iterator[BotFactory]:
    factory = BotFactory()
    try:
        yield factory
    finally:
        factory.stop_all()


@pytest.fixture(scope="module")
def launcher() -> Iterator[bots.Launcher]:
    try:
        started = bots.Launcher("launcher").start()
    except bots.NoModel as error:
        pytest.fail(str(error))
    try:
        yield started
    finally:
        started.stop()


@pytest.fixture(scope="session")
def running_bot() -> Iterator[Bot]:
    """The default bot: make run's settings, with its own stores (var/test/default/)."""
    factory = BotFactory()
    try:
        yield factory.started_bot("default")
    finally:
        factory.stop_all()


@pytest.fixture(scope="session")
def rest(running_bot: Bot) -> RestClient:
    return RestClient.of(running_bot)


@pytest.fixture
def bot_store(running_bot: Bot):
    """The shop store of the default bot."""
    return bots.store_of(running_bot)


@pytest.fixture(scope="module")
def wechat_api():
    """A local WeChat API (tests/support/wechat_standin.py) for the module's bots."""
    from tests.support.wechat import APP_ID, APP_SECRET
    from tests.support.wechat_standin import WeChatServer

    server = WeChatServer(APP_ID, APP_SECRET).start()
    yield server
    server.stop()

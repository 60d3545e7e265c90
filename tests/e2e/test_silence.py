"""Silent customer on the website chat: nudge, then polite close; nothing during a hand-off.

A socket.io client speaks the widget's protocol (session_request, user_uttered with
customData) to a bot of this module with SILENCE_* of three seconds.
"""

from __future__ import annotations

import queue
import threading
import time
import uuid
from typing import List

import pytest
import socketio

NUDGE = CLOSE = 3.0


@pytest.fixture(scope="module")
def quiet_bot(bot_factory):
    return bot_factory.started_bot("silence", SILENCE_NUDGE_SECONDS=str(NUDGE), SILENCE_CLOSE_SECONDS=str(CLOSE))


class Widget:
    """What rasa-webchat does on the wire."""

    def __init__(self, url: str, language: str = "zh") -> None:
        self.session_id = uuid.uuid4().hex  # asked for; the server issues its own signed id
        self.language = language
        self.inbox: "queue.Queue[dict]" = queue.Queue()
        confirmed = threading.Event()

        def confirm(session_id: str) -> None:
            self.session_id = session_id  # as rasa-webchat does: keep the id the server confirms
            confirmed.set()

        self.client = socketio.Client()
        self.client.on("bot_uttered", self.inbox.put)
        self.client.on("session_confirm", confirm)
        self.client.connect(url, socketio_path="/socket.io", transports=["polling"])
        self.client.emit("session_request", {"session_id": self.session_id})
        assert confirmed.wait(10), "no session_confirm: the socket did not join the session's room"

    def send(self, text: str) -> None:
        self.client.emit(
            "user_uttered", {"message": text, "session_id": self.session_id, "customData": {"language": self.language}}
        )

    def receive(self, seconds: float) -> List[str]:
        """Every text that arrives within `seconds`."""
        texts, deadline = [], time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0:
            try:
                texts.append(self.inbox.get(timeout=left).get("text", ""))
            except queue.Empty:
                break
        return texts

    def next(self, seconds: float) -> str:
        """The next text, waiting at most `seconds`."""
        return self.inbox.get(timeout=seconds).get("text", "")

    def close(self) -> None:
        self.client.disconnect()


def test_silent_customer_is_nudged_once_then_the_chat_is_closed(quiet_bot):
    widget = Widget(quiet_bot.url)
    try:
        widget.send("你好")
        assert "您好" in widget.next(10)
        spoke = time.monotonic()
        assert widget.next(NUDGE + 3) == "您好，请问还有什么可以帮您？"
        assert time.monotonic() - spoke >= NUDGE - 0.5
        nudged = time.monotonic()
        assert "结束" in widget.next(CLOSE + 3)
        assert time.monotonic() - nudged >= CLOSE - 0.5
        assert widget.receive(NUDGE + CLOSE + 2) == []  # closed: no more nudges
    finally:
        widget.close()


def test_page_language_is_used_from_the_first_message(quiet_bot):
    widget = Widget(quiet_bot.url, language="en")
    try:
        widget.send("/greet")  # the widget's initPayload: no words to detect a language from
        assert "Hello" in widget.next(10)
    finally:
        widget.close()


def test_a_customer_reply_restarts_the_wait(quiet_bot):
    widget = Widget(quiet_bot.url)
    try:
        widget.send("你好")
        widget.next(10)
        assert widget.receive(NUDGE - 1.5) == []  # silent for a while, not long enough for a nudge
        widget.send("你们支持哪些付款方式？")
        answer = widget.next(10)
        assert "支付宝" in answer
        answered = time.monotonic()
        assert widget.next(NUDGE + 3) == "您好，请问还有什么可以帮您？"
        assert time.monotonic() - answered >= NUDGE - 0.5
    finally:
        widget.close()


def test_no_nudges_during_a_handoff(quiet_bot):
    widget = Widget(quiet_bot.url)
    try:
        widget.send("转人工")
        assert "人工客服" in widget.next(10)
        assert widget.receive(NUDGE + CLOSE + 3) == []
    finally:
        widget.close()

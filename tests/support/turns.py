"""What every turn of every conversation must satisfy, and how a test reads a turn.

A turn: the customer's message and the bot's answers to it. Whatever the message, the
bot answers with 1 to 3 messages, in the customer's language, none repeated, each
chat-sized (about 150 Chinese characters or 80 English words) unless it is a list the
customer asked for. Used by the multi-turn conversations and the conversation fuzz test.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Optional

from tests.support.rest import RestClient

CJK = re.compile(r"[\u3400-\u9fff]")
# Shop terms English customers see in quotes ("申请售后" is the button's label), and
# Chinese names in parentheses are fine in an English reply.
QUOTED = re.compile(r"「[^」]*」|“[^”]*”|\"[^\"]*\"")
# Responses that are a list the customer asked for (offers, picks, remedies, facts):
# they may run longer than a chat message.
LISTS = {
    "utter_promotions",
    "utter_promotion_applies",
    "utter_ask_remedy",
    "utter_recommend",
    "utter_recommend_refined",
    "utter_recommend_closest_budget",
    "utter_recommend_closest_needs",
    "utter_product_facts",
    "utter_product_overview",
    "utter_bargain",
    "utter_bargain_again",
    "utter_fault_tips",
}
MAX_CHINESE, MAX_ENGLISH_WORDS = 150, 80


@dataclass
class Turn:
    user: str
    texts: List[str]
    names: List[Optional[str]]  # the response each message came from (None: not from a response)
    paused: bool


def take_turn(rest: RestClient, sender: str, text: str) -> Turn:
    """Send a customer message; the bot's messages and the responses they came from."""
    messages = rest.send(sender, text)
    tracker = rest.tracker(sender)
    events = tracker["events"]
    users = [i for i, e in enumerate(events) if e["event"] == "user"]
    names = (
        [(e.get("metadata") or {}).get("utter_action") for e in events[users[-1] :] if e["event"] == "bot"]
        if users
        else []
    )
    return Turn(text, [m.get("text") or "" for m in messages], names, bool(tracker.get("paused")))


def problems(turn: Turn, language: str) -> List[str]:
    """What is wrong with a turn whose replies should be in `language` ("zh"/"en")."""
    found = []
    if not 1 <= len(turn.texts) <= 3:
        found.append(f"{len(turn.texts)} messages")
    if len(set(turn.texts)) < len(turn.texts):
        found.append("the same message twice")
    for text, name in zip(turn.texts, turn.names + [None] * len(turn.texts), strict=False):
        if language == "en" and CJK.search(QUOTED.sub("", text)):
            found.append(f"Chinese in an English reply ({name}): {text[:60]!r}")
        if language == "zh" and not CJK.search(text):
            found.append(f"no Chinese in a Chinese reply ({name}): {text[:60]!r}")
        if name not in LISTS:
            size = len(CJK.findall(text)) if language == "zh" else len(text.split())
            if size > (MAX_CHINESE if language == "zh" else MAX_ENGLISH_WORDS):
                found.append(f"{name} is not chat-sized ({size}): {text[:40]!r}")
    return found


class LogWatch:
    """New lines in a bot's logs since the watch started: no ERROR, no circuit breaker."""

    def __init__(self, log_dir: Path) -> None:
        self.log_dir = log_dir
        self.offsets: Dict[Path, int] = {p: p.stat().st_size for p in log_dir.glob("*.log")}

    def bad_lines(self) -> List[str]:
        bad = []
        for path in self.log_dir.glob("*.log"):
            with path.open("rb") as log:
                log.seek(self.offsets.get(path, 0))
                for line in log.read().decode("utf-8", "replace").splitlines():
                    if " ERROR " in line or "Circuit breaker" in line or "Traceback" in line:
                        bad.append(f"{path.name}: {line[:300]}")
        return bad

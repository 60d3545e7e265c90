"""The conversation fuzz test: 300 random conversations of 3-12 turns (fixed seed) over
real servers, drawn from every intent's test sentences in both languages, order ids of
every shape, phone digits, yes and no, noise and topic changes. Every turn must get 1-3
messages in the customer's language, none repeated, chat-sized, with no HTTP error; the
servers' logs must show no ERROR line and no tripped circuit breaker."""

from __future__ import annotations

import random
import re
import uuid
from collections import Counter
from typing import Dict, List

import pytest
import yaml

from bot import settings
from bot.nlu.language import detect
from tests.support.rest import RestClient
from tests.support.turns import LogWatch, problems, take_turn
from tests.support.understanding import neutral

SEED = 20261130
CONVERSATIONS = 300
# What customers type besides sentences: numbers of every shape, short answers, noise,
# things that look like attacks or commands.
EXTRAS = {
    "zh": [
        "SO20261101",
        "SO20261103",
        "so20261113",
        "SO2026110",
        "20261101",
        "SF1432087654219",
        "4608",
        "1234",
        "13857214608",
        "好的",
        "嗯",
        "是的",
        "不是",
        "不用了",
        "算了",
        "转人工",
        "第二个",
        "最便宜的",
        "白色的",
        "不是这个",
        "500以内",
        "不限",
        "给孩子用的",
        "新疆",
        "顺丰",
        "多久能到",
        "有货吗",
        "谢谢 再见",
        "😊",
        "？？",
        "/restart",
        '/inform{"order_id":"SO20261101"}',
        "<b>你好</b>",
        "衣柜" * 500,
        "SELECT * FROM orders;",
        "\x00\x07",
    ],
    "en": [
        "SO20261113",
        "SO20261115",
        "so2026",
        "SO 2026 1101",
        "75361248097531",
        "6621",
        "9999",
        "yes",
        "no",
        "ok",
        "nope",
        "never mind",
        "human please",
        "the second one",
        "the cheapest one",
        "the white one",
        "not this one",
        "under 300 yuan",
        "no limit",
        "for my kids",
        "to xinjiang",
        "sf",
        "how long",
        "is it in stock",
        "thanks bye",
        "👍",
        "???",
        "/restart",
        '/inform{"remedy":"exchange"}',
        "<script>alert(1)</script>",
        "wardrobe " * 400,
        "'; DROP TABLE orders; --",
    ],
}


def sentences() -> Dict[str, List[str]]:
    """Every test sentence, by language (tests/nlu and tests/nlu_real)."""
    pool: Dict[str, List[str]] = {"zh": [], "en": []}
    folders = [settings.ROOT / "tests" / "nlu", *(settings.ROOT / "tests" / "nlu_real").glob("*/")]
    for folder in folders:
        for path in sorted(folder.glob("*.yml")):
            language = path.stem.split("_")[0]
            for block in yaml.safe_load(path.read_text(encoding="utf-8")).get("nlu", []):
                for line in (block.get("examples") or "").splitlines():
                    if line.strip().startswith("- "):
                        pool[language].append(re.sub(r"\[([^\]]+)\]\([^)]*\)", r"\1", line.strip()[2:]))
    return pool


def conversations(rng: random.Random) -> List[List[str]]:
    pool = sentences()
    plan = []
    for _ in range(CONVERSATIONS):
        language = rng.choice(["zh", "en"])
        turns = []
        for _ in range(rng.randint(3, 12)):
            if rng.random() < 0.1:  # a topic change into the other language
                language = "en" if language == "zh" else "zh"
            source = EXTRAS[language] if rng.random() < 0.3 else pool[language]
            turns.append(rng.choice(source))
        plan.append(turns)
    return plan


@pytest.fixture(scope="module")
def bot(bot_factory):
    return bot_factory.started_bot("fuzz")


def test_the_pool_covers_every_intent_in_both_languages():
    pool = sentences()
    assert len(pool["zh"]) > 400 and len(pool["en"]) > 400


def test_random_conversations_always_get_a_proper_answer(bot):
    rest = RestClient.of(bot)
    watch = LogWatch(bot.log_dir)
    rng = random.Random(SEED)
    failures: List[str] = []
    counts: Counter = Counter()
    for number, turns in enumerate(conversations(rng)):
        sender = f"fuzz-{number}-{uuid.uuid4().hex[:6]}"
        language = "zh"
        for text in turns:
            language = detect(text, neutral()) or language
            turn = take_turn(rest, sender, text)  # any HTTP error fails here
            counts["turns"] += 1
            for problem in problems(turn, language):
                failures.append(f"conversation {number} {text[:40]!r} -> {turn.names}: {problem}")
    assert counts["turns"] >= 3 * CONVERSATIONS
    assert not failures, f"{len(failures)} of {counts['turns']} turns:\n" + "\n".join(failures[:40])
    assert not watch.bad_lines(), "\n".join(watch.bad_lines()[:20])

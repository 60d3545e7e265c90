"""The shop's voice (seeds 002 and 003): what any text for a customer must respect."""

import re

CJK = re.compile(r"[\u4e00-\u9fff]")

# Seed 002 规范用语: what an agent must never say; plus rude English equivalents.
FORBIDDEN = [
    "慢慢等着吧",
    "慢慢等",
    "听不见就算了",
    "喂，大声一点儿",
    "大声一点儿",
    "不关我的事",
    "不知道",
    "你自己看",
    "爱买不买",
    "没办法，就这样",
    "calm down",
    "not my problem",
    "whatever",
    "deal with it",
    "shut up",
    "speak up",
    "just wait",
    "your fault",
    "i don't know",
    "figure it out",
    "not our problem",
]

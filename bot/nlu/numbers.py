"""Read amounts the way customers write them: 500, 1.5万, 五百, 两千五, 3k, eight."""

from __future__ import annotations

import re
from typing import Optional

DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
UNITS = {"十": 10, "百": 100, "千": 1000}
ENGLISH = {
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "a": 1,
    "an": 1,
    "a couple": 2,
    "couple": 2,
}
ENGLISH_NUMBER_WORDS = ("one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten")
CHINESE_NUMERAL = "零〇一二两三四五六七八九十百千万"
NUMERAL_TOKEN = rf"^(\d+(\.\d+)?[kKwW]?|[{CHINESE_NUMERAL}]+)$"


def chinese_to_int(text: str) -> Optional[int]:
    """五百 -> 500, 两千五 -> 2500, 十五 -> 15, 一万二 -> 12000; None if not a numeral."""
    if not text or any(ch not in DIGITS and ch not in UNITS and ch != "万" for ch in text):
        return None
    total, section, number, last_unit = 0, 0, 0, 1
    for ch in text:
        if ch in DIGITS:
            number = DIGITS[ch]
        elif ch in UNITS:
            unit = UNITS[ch]
            section += (number or (1 if unit == 10 else 0)) * unit
            number, last_unit = 0, unit
        else:  # 万
            total += (section + number) * 10000
            section, number, last_unit = 0, 0, 10000
    if number and last_unit >= 100:  # 两千五 = 2500: a trailing digit counts one unit down
        number *= last_unit // 10
    return total + section + number


def parse_amount(text: str) -> Optional[float]:
    """An amount from a number token sequence: '500', '1.5万', '3k', '五百', 'eight'."""
    text = text.strip().lower().replace(",", "")
    if text in ENGLISH:
        return float(ENGLISH[text])
    match = re.fullmatch(r"(\d+(?:\.\d+)?)\s*(k|w|千|万)?", text)
    if match:
        value = float(match.group(1))
        scale = {"k": 1000, "千": 1000, "w": 10000, "万": 10000}.get(match.group(2) or "", 1)
        return value * scale
    value = chinese_to_int(text)
    return float(value) if value is not None else None

"""Traditional Chinese read as Simplified: "請問這個衣櫃有現貨嗎" is understood like
"请问这个衣柜有现货吗" (customers from Hong Kong, Taiwan and overseas write both).

OpenCC's character tables (opencc-python-reimplemented, Apache-2.0, data in the package).
The text keeps its length, so entity offsets still point at what the customer wrote; the
tokenizer and the entity matcher read text through this, the message itself is unchanged.
"""

from __future__ import annotations

from functools import lru_cache

from opencc import OpenCC


@lru_cache(maxsize=1)
def _converter() -> OpenCC:
    return OpenCC("t2s")


@lru_cache(maxsize=4096)
def simplified(text: str) -> str:
    if text.isascii():
        return text
    converted = _converter().convert(text)
    if len(converted) == len(text):
        return converted
    # A phrase conversion changed the length: convert character by character instead.
    return "".join(c if len(c) == 1 else o for o, c in ((o, _converter().convert(o)) for o in text))

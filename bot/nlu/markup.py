"""What in a message is not words: markup (tags, and the contents of script and style
elements), HTML character references, terminal escape sequences and control characters.

`readable` blanks them with spaces of the same length, so entity offsets still point at
what the customer wrote. The language detector, the tokenizer and the classifier read a
message through it: "<b>SO20261101</b>" is an order id, "<script>…</script>" is nothing.
"""

from __future__ import annotations

import re

NOT_WORDS = re.compile(
    r"<(script|style)\b[^>]*>.*?(</\1\s*>|$)"  # a script or a style element, contents included
    r"|<[^>]*>"  # a tag
    r"|&(#\d+|#x[0-9a-fA-F]+|[A-Za-z]+);"  # a character reference
    r"|\x1b(\[[0-9;?]*[ -/]*[@-~]|[@-Z\\-_])"  # a terminal escape sequence
    r"|[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]",  # a control character
    re.IGNORECASE | re.DOTALL,
)


def readable(text: str) -> str:
    """The text with everything that is not words blanked (same length)."""
    return NOT_WORDS.sub(lambda found: " " * len(found.group()), text or "")


# A letter, a digit or a Chinese character: a message without one once `readable` has
# blanked what is not words (empty, whitespace, emoji, punctuation, markup, escapes) has
# nothing to understand. The classifier gives it no intent; action_fallback says so.
CONTENT = re.compile(r"[0-9A-Za-z\u3400-\u9fff]")


def has_words(text: str) -> bool:
    return bool(CONTENT.search(readable(text)))

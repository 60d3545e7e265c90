"""Words customers read and words the bot understands live in responses and shop data,
not in Python: no string literal with Chinese in it in the actions, the shop layer or the
NLU components, docstrings and comments aside, except the reasoned list below."""

import io
import re
import tokenize

from bot import settings

CJK = re.compile(r"[\u3000-\u303f\u3400-\u9fff\uff00-\uffef]")
# file -> why Chinese characters in its literals are not words the bot says or a keyword table
ALLOWED = {
    "bot/nlu/numbers.py": "the Chinese numerals and units are how amounts are written (五百, 1.5万), "
    "parsed like digits; they are not vocabulary a shop would edit",
}


def literals_with_chinese(path):
    found = []
    tokens = list(tokenize.generate_tokens(io.StringIO(path.read_text(encoding="utf-8")).readline))
    for index, token in enumerate(tokens):
        if token.type != tokenize.STRING or not CJK.search(token.string):
            continue
        previous = next(
            (
                t
                for t in reversed(tokens[:index])
                if t.type not in (tokenize.NL, tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT, tokenize.COMMENT)
            ),
            None,
        )
        is_docstring = (
            previous is None
            or previous.string == ":"
            and tokens[index - 1].type in (tokenize.INDENT, tokenize.NEWLINE, tokenize.NL)
        )
        if not is_docstring:
            found.append(f"{path.relative_to(settings.ROOT)}:{token.start[0]}: {token.string[:50]}")
    return found


def test_no_chinese_string_literals_in_python():
    found = []
    for folder in ("bot/actions", "bot/shop", "bot/nlu"):
        for path in sorted((settings.ROOT / folder).rglob("*.py")):
            if str(path.relative_to(settings.ROOT)) not in ALLOWED:
                found += literals_with_chinese(path)
    assert not found, "words belong in bot/domain.yml or bot/shop/data:\n" + "\n".join(found)


def test_the_check_finds_a_literal_and_skips_a_docstring(tmp_path):
    module = tmp_path / "x.py"
    module.write_text('"""模块说明"""\n\ndef f():\n    """函数说明"""\n    return "你好"\n', encoding="utf-8")
    module_in_root = settings.ROOT / "var" / "words_check_probe.py"
    module_in_root.parent.mkdir(exist_ok=True)
    module_in_root.write_text(module.read_text(encoding="utf-8"), encoding="utf-8")
    try:
        assert [line.split(": ", 1)[1] for line in literals_with_chinese(module_in_root)] == ['"你好"']
    finally:
        module_in_root.unlink()

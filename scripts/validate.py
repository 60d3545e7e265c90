"""`rasa data validate` where every warning fails, with two reasoned exceptions.

1. Rasa warns about each response that no story or rule names. A response that a custom
   action utters (its name as a string in the code of bot/actions), that a channel says
   itself (bot/channels, e.g. the rate limit's `utter_rate_limited`), that the Rasa server
   says itself (its name as a string in a module of bot/ that bot/patches.py installs,
   e.g. the apology when the action server is down, bot/resilience.py) or that a form
   asks for one of its required slots (`utter_ask_<slot>`, `utter_ask_<form>_<slot>`) is
   used, just not from a story: that warning, and only for those responses, is accepted.
   The same warning for any other response, or "not used in any story" for an intent, fails.
2. EXTERNAL_* intents are triggered by the system (silence timers, the agent console),
   never typed, so they have no NLU examples: Rasa's warnings about that are accepted.

Anything else Rasa warns about fails the build.
"""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path
from typing import Iterable, List, Optional, Set

from bot import settings

UNUSED = re.compile(r"The utterance '(utter_\w+)' is not used in any story or rule")
EXTERNAL_INTENT = re.compile(r"intent 'EXTERNAL_\w+'.*(not found in the NLU training data|not used)")
# Rasa reports data problems as UserWarnings or WARNING log lines; library deprecation
# notices (SQLAlchemy, pkg_resources) say nothing about our data.
WARNING = re.compile(r"UserWarning|\bWARNING\b")


def responses_named_in(code: str) -> Set[str]:
    """`utter_*` string constants in Python code; docstrings and comments do not count."""
    tree = ast.parse(code)
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef))
        and node.body
        and isinstance(node.body[0], ast.Expr)
        and isinstance(node.body[0].value, ast.Constant)
    }
    return {
        node.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and id(node) not in docstrings
        and re.fullmatch(r"utter_\w+", node.value)
    }


def responses_said_by_the_server(bot: Optional[Path] = None) -> Set[str]:
    """Responses named in the Rasa server's own modules (bot/*.py, not the actions)."""
    bot = bot or settings.ROOT / "bot"
    found: Set[str] = set()
    for path in sorted(bot.glob("*.py")):
        found |= responses_named_in(path.read_text(encoding="utf-8"))
    return found


def responses_used_by_actions(actions: Optional[Path] = None, domain_path: Optional[Path] = None) -> Set[str]:
    """Responses named in the custom actions and in the Rasa server's own modules, and the
    `utter_ask_<slot>` questions that Rasa's forms ask for their required slots."""
    import yaml

    found_by_server = responses_said_by_the_server() if actions is None else set()
    actions = actions or settings.ROOT / "bot" / "actions"
    domain_path = domain_path or settings.ROOT / "bot" / "domain.yml"
    domain = yaml.safe_load(domain_path.read_text(encoding="utf-8"))
    found = {
        name
        for form_name, form in (domain.get("forms") or {}).items()
        for slot in (form or {}).get("required_slots") or []
        for name in (f"utter_ask_{slot}", f"utter_ask_{form_name}_{slot}")
    }
    for path in sorted(actions.rglob("*.py")):
        found |= responses_named_in(path.read_text(encoding="utf-8"))
    return found | found_by_server


def responses_used_by_channels(channels: Optional[Path] = None) -> Set[str]:
    """Responses the input channels say themselves (security: the rate limit's note)."""
    channels = channels or settings.ROOT / "bot" / "channels"
    found: Set[str] = set()
    for path in sorted(channels.rglob("*.py")):
        found |= responses_named_in(path.read_text(encoding="utf-8"))
    return found


def problems(output: Iterable[str], used_by_actions: Set[str]) -> List[str]:
    """The lines of `rasa data validate` output that fail the build."""
    found = []
    for line in output:
        unused = UNUSED.search(line)
        if unused:
            if unused.group(1) not in used_by_actions:
                found.append(line.strip())
        elif EXTERNAL_INTENT.search(line):
            continue
        elif WARNING.search(line):
            found.append(line.strip())
    return found


def main() -> int:
    rasa = str(Path(sys.executable).parent / "rasa")
    result = subprocess.run(
        [rasa, "data", "validate", "--domain", "bot/domain.yml", "--data", "bot/data", "--config", "config.yml"],
        cwd=settings.ROOT,
        env=settings.child_env(),
        capture_output=True,
        text=True,
    )
    output = result.stdout + result.stderr
    by_actions = responses_used_by_actions() | responses_used_by_channels()
    failing = problems(output.splitlines(), by_actions)
    if result.returncode != 0:
        print(output)
        print("rasa data validate failed", file=sys.stderr)
        return 1
    if failing:
        print("\n".join(failing))
        print(f"{len(failing)} validation warning(s)", file=sys.stderr)
        return 1
    print(f"data validation: no warnings ({len(by_actions)} responses are said by actions, forms or channels)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

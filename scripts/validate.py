"""`rasa data validate` where every warning fails, with one reasoned exception.

Rasa warns about each response that no story or rule names. Responses that a custom
action utters (`response="utter_x"` in bot/actions) are used, just not from a story;
those warnings, and only those, are accepted. Anything else fails the build.
"""
from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from bot import settings

UNUSED = re.compile(r"The utterance '(utter_\w+)' is not used in any story or rule")
# Rasa reports data problems as UserWarnings or WARNING log lines; library deprecation
# notices (SQLAlchemy, pkg_resources) say nothing about our data.
EXTERNAL_INTENT = re.compile(r"intent 'EXTERNAL_\w+'.*(not found in the NLU training data|not used)")
WARNING = re.compile(r"UserWarning|\bWARNING\b")


def responses_used_by_actions() -> set:
    """Responses named in bot/actions, and the `utter_ask_<slot>` questions that Rasa's
    forms ask for their required slots."""
    import yaml

    domain = yaml.safe_load((settings.ROOT / "bot" / "domain.yml").read_text(encoding="utf-8"))
    found = {name for form_name, form in (domain.get("forms") or {}).items()
             for slot in form.get("required_slots") or []
             for name in (f"utter_ask_{slot}", f"utter_ask_{form_name}_{slot}")}
    for path in (settings.ROOT / "bot" / "actions").rglob("*.py"):
        found.update(re.findall(r"[\"'](utter_\w+)[\"']", path.read_text(encoding="utf-8")))
    return found


def main() -> int:
    rasa = str(Path(sys.executable).parent / "rasa")
    result = subprocess.run(
        [rasa, "data", "validate", "--domain", "bot/domain.yml", "--data", "bot/data", "--config", "config.yml"],
        cwd=settings.ROOT, env=settings.child_env(), capture_output=True, text=True)
    output = result.stdout + result.stderr
    by_actions = responses_used_by_actions()
    problems = []
    for line in output.splitlines():
        unused = UNUSED.search(line)
        if unused:
            if unused.group(1) not in by_actions:
                problems.append(line.strip())
        elif EXTERNAL_INTENT.search(line):
            continue  # EXTERNAL_* intents are triggered by the system, never typed
        elif WARNING.search(line) and "is not used in any story" not in line:
            problems.append(line.strip())
    if result.returncode != 0:
        print(output)
        print("rasa data validate failed", file=sys.stderr)
        return 1
    if problems:
        print("\n".join(problems))
        print(f"{len(problems)} validation warning(s)", file=sys.stderr)
        return 1
    print(f"data validation: no warnings ({len(by_actions)} responses are uttered by custom actions)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

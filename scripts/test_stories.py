"""`make test-stories`: the test stories end to end, through the patched runtime.

1. `rasa test core --e2e` (with bot/patches.py applied): the customer texts of
   tests/stories go through the NLU, whose intent and entities must be the story's
   (all but the `language` entity, see bot/patches.py), and every action must be
   predicted. Rasa 3.6's `rasa test core` predicts actions but never runs them: a story's
   `slot_was_set` steps are applied as written, not checked.
2. So each story is then also played to a real bot (action server + Rasa server, on
   ports the OS gives out) over the REST channel: after every customer message the bot
   must run exactly the story's actions, in order, and set every slot the story says it
   sets (`slot_was_set`) to that value, and open or close the story's forms (`active_loop`).

Exit code 1 when a story fails either check; the failures are printed.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import uuid
from pathlib import Path
from typing import Any, Dict, List, Tuple

from bot import settings

VAR = settings.ROOT / "var" / "test" / "stories"
# Agents on duty around the clock, as in the end-to-end tests: stories do not depend on the hour;
# stories are played far faster than a customer types (no rate limits).
BOT_ENV = {"SERVICE_HOURS": "00:00-24:00", "RATE_LIMIT_PER_CLIENT": "0", "RATE_LIMIT_PER_CONVERSATION": "0"}


def rasa_test_core(model: str, stories: str, out: str) -> bool:
    """Stage 1, in this process; True when every story passed."""
    from bot import patches

    patches.apply(story_tests=True)
    from rasa.__main__ import main as rasa_main

    argv = sys.argv
    sys.argv = ["rasa", "test", "core", "--model", model, "--stories", stories, "--out", out, "--e2e", "--no-plot"]
    try:
        rasa_main()
    except SystemExit as stop:
        if stop.code not in (None, 0):
            return False
    finally:
        sys.argv = argv
    failed = (Path(out) / "failed_test_stories.yml").read_text(encoding="utf-8")
    if failed.startswith("# None of the test stories failed"):
        return True
    print(f"\nStories whose NLU or action predictions differ ({out}/failed_test_stories.yml):\n{failed}")
    return False


# -- stage 2: the stories against a running bot -------------------------------------------------

Turn = Dict[str, Any]


def story_turns(stories_dir: str) -> List[Tuple[str, List[Turn]]]:
    """(story name, turns): each turn a customer message and what the bot does after it."""
    from rasa.shared.core.domain import Domain
    from rasa.shared.core.events import ActionExecuted, ActiveLoop, SlotSet, UserUttered
    from rasa.shared.core.training_data.story_reader.yaml_story_reader import YAMLStoryReader

    domain = Domain.load(str(settings.ROOT / "bot" / "domain.yml"))
    found = []
    for path in sorted(Path(stories_dir).glob("*.yml")):
        for step in YAMLStoryReader(domain).read_from_file(str(path)):
            turns: List[Turn] = []
            for event in step.events:
                if isinstance(event, UserUttered):
                    text = event.text
                    if not text:  # "/intent{...}" written as the message
                        entities = {e["entity"]: e["value"] for e in event.entities}
                        text = f"/{event.intent_name}" + (_json(entities) if entities else "")
                    turns.append({"text": text, "actions": [], "slots": [], "loops": []})
                elif not turns:
                    continue
                elif isinstance(event, ActionExecuted) and event.action_name != "action_listen":
                    turns[-1]["actions"].append(event.action_name)
                elif isinstance(event, SlotSet):
                    turns[-1]["slots"].append((event.key, event.value))
                elif isinstance(event, ActiveLoop):
                    turns[-1]["loops"].append(event.name)
            found.append((f"{path.name}: {step.block_name}", turns))
    return found


def _json(value: Any) -> str:
    import json

    return json.dumps(value, ensure_ascii=False)


def play(rest: Any, name: str, turns: List[Turn]) -> List[str]:
    """The story's turns against the bot; what differs. A story may end in the middle of
    the bot's last turn: there its actions need only be the first ones the bot runs."""
    who = f"story-{uuid.uuid4().hex[:12]}"
    problems = []
    for number, turn in enumerate(turns, 1):
        tracker = rest.tracker(who)
        before = len(tracker["events"])
        if turn["text"].startswith("/EXTERNAL_"):
            # Triggered by the system, never typed: as the agent console does it.
            if tracker["paused"]:
                rest.append_events(who, [{"event": "resume"}])
            rest.trigger_intent(who, turn["text"][1:].split("{")[0])
        else:
            rest.send(who, turn["text"])
        events = rest.tracker(who)["events"][before:]
        users = [i for i, e in enumerate(events) if e["event"] == "user"]
        done = events[users[0] + 1 :] if users else events
        actions = [e["name"] for e in done if e["event"] == "action" and e["name"] != "action_listen"]
        slots = [(e["name"], e["value"]) for e in events if e["event"] == "slot"]
        loops = [e.get("name") for e in done if e["event"] == "active_loop"]
        where = f"turn {number} ({turn['text']!r})"
        expected = turn["actions"]
        if actions != expected and not (number == len(turns) and actions[: len(expected)] == expected):
            problems.append(f"{where}: actions {actions}, the story says {expected}")
        for slot, value in turn["slots"]:
            if (slot, value) not in slots:
                got = [v for s, v in slots if s == slot]
                problems.append(f"{where}: slot {slot} = {value!r} expected, set: {got or 'not set'}")
        for loop in turn["loops"]:
            if loop not in loops:
                problems.append(f"{where}: active_loop {loop} expected, got {loops}")
        if problems:
            break  # later turns would only repeat the difference
    return problems


def play_all(model: Path, stories: str) -> bool:
    from scripts.servers import Bot, free_ports
    from tests.support.rest import RestClient

    rasa_port, actions_port = free_ports(2)
    bot = Bot(
        model=model,
        rasa_port=rasa_port,
        actions_port=actions_port,
        tracker_db=VAR / "tracker.db",
        log_dir=VAR / "log",
        extra_env={"DATABASE_URL": f"sqlite:///{VAR / 'shop.db'}", **BOT_ENV},
    )
    failed = 0
    with bot.start(timeout=240):
        rest = RestClient.of(bot)
        for name, turns in story_turns(stories):
            problems = play(rest, name, turns)
            if problems:
                failed += 1
                print(f"FAILED {name}\n  " + "\n  ".join(problems))
    print(f"stories against the running bot: {failed} failed")
    return failed == 0


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", default=str(settings.path("MODEL_PATH")))
    parser.add_argument("--stories", default="tests/stories")
    parser.add_argument("--out", default="results/core")
    args = parser.parse_args()
    os.chdir(settings.ROOT)
    shutil.rmtree(VAR, ignore_errors=True)
    VAR.mkdir(parents=True)
    os.environ.update(settings.child_env())
    os.environ.update({"TRACKER_DB": str(VAR / "tracker-rasa-test.db"), "RASA_TELEMETRY_ENABLED": "false"})
    predicted = rasa_test_core(args.model, args.stories, args.out)
    played = play_all(settings.ROOT / args.model, args.stories)
    return 0 if predicted and played else 1


if __name__ == "__main__":
    sys.exit(main())

"""The cached dialogue states (bot/dialogue_states.py) equal Rasa's, on all our stories and rules."""

import itertools

import pytest
from rasa.shared.core.constants import RULE_ONLY_LOOPS, RULE_ONLY_SLOTS
from rasa.shared.core.generator import TrainingDataGenerator
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.importers.importer import TrainingDataImporter

from bot import dialogue_states
from bot.settings import ROOT


@pytest.fixture(scope="module")
def domain_and_trackers():
    importer = TrainingDataImporter.load_from_dict(
        domain_path=str(ROOT / "bot" / "domain.yml"),
        training_data_paths=[str(ROOT / "bot" / "data"), str(ROOT / "tests" / "stories")],
    )
    domain = importer.get_domain()
    trackers = TrainingDataGenerator(
        importer.get_stories(), domain, augmentation_factor=0, use_story_concatenation=False, remove_duplicates=False
    ).generate()
    assert len(trackers) > 50
    return domain, trackers


def argument_sets(domain):
    rule_only = {
        RULE_ONLY_SLOTS: [slot.name for slot in domain.slots][:3],
        RULE_ONLY_LOOPS: list(domain.form_names)[:1],
    }
    for omit, ignore, data in itertools.product([False, True], [False, True], [None, rule_only]):
        yield {"omit_unset_slots": omit, "ignore_rule_only_turns": ignore, "rule_only_data": data}


def test_same_states_as_rasa_for_every_story_and_rule(domain_and_trackers):
    domain, trackers = domain_and_trackers
    for tracker in trackers:
        for kwargs in argument_sets(domain):
            expected = dialogue_states.original(domain, tracker, **kwargs)
            assert dialogue_states.states_for_tracker_history(domain, tracker, **kwargs) == expected
            # second call: from the cache
            assert dialogue_states.states_for_tracker_history(domain, tracker, **kwargs) == expected


def test_the_cache_follows_a_growing_conversation(domain_and_trackers):
    domain, trackers = domain_and_trackers
    for source in sorted(trackers, key=lambda t: -len(t.events))[:20]:
        tracker = DialogueStateTracker(source.sender_id, domain.slots, is_rule_tracker=source.is_rule_tracker)
        for event in source.events:
            tracker.update(event)
            for kwargs in argument_sets(domain):
                assert dialogue_states.states_for_tracker_history(
                    domain, tracker, **kwargs
                ) == dialogue_states.original(domain, tracker, **kwargs)


def test_callers_may_change_what_they_get(domain_and_trackers):
    domain, trackers = domain_and_trackers
    tracker = max(trackers, key=lambda t: len(t.events))
    first = dialogue_states.states_for_tracker_history(domain, tracker)
    for state in first:
        for sub_state in state.values():
            sub_state.clear()
    assert dialogue_states.states_for_tracker_history(domain, tracker) == dialogue_states.original(domain, tracker)


def test_a_growing_conversation_is_replayed_only_from_where_it_was(domain_and_trackers):
    domain, trackers = domain_and_trackers
    source = max((t for t in trackers if not t.active_loop_name), key=lambda t: len(t.events))
    tracker = DialogueStateTracker(source.sender_id, domain.slots)
    events = list(source.events)
    for event in events[:3]:
        tracker.update(event)
    dialogue_states.states_for_tracker_history(domain, tracker)
    replay = next(iter(tracker.__dict__[dialogue_states._CACHE_ATTRIBUTE].values()))
    plain = [e for e in events[3:] if not isinstance(e, dialogue_states._REWRITING)]
    for event in plain:
        tracker.update(event)
        dialogue_states.states_for_tracker_history(domain, tracker)
    assert next(iter(tracker.__dict__[dialogue_states._CACHE_ATTRIBUTE].values())) is replay

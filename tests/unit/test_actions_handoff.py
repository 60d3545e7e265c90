"""The hand-off and silence actions on Tracker fixtures."""

import datetime as dt


def test_after_hours_records_the_ticket_and_the_bot_carries_on(tracker, dispatcher, test_store, monkeypatch, run):
    from bot.actions.handoff import ActionHandoff, local_now

    later = (local_now() + dt.timedelta(hours=2)).strftime("%H:00")
    monkeypatch.setenv("SERVICE_HOURS", f"{later}-{later[:2]}:59")
    events = run(ActionHandoff(), dispatcher, tracker("转人工", "request_human", slots={"language": "zh"}))
    assert dispatcher.messages[0]["response"] == "utter_handoff_after_hours"
    assert not any(e.get("event") == "pause" for e in events)
    assert [t.kind for t in test_store.tickets()] == ["handoff"]


def test_one_open_handoff_per_conversation(tracker, dispatcher, test_store, monkeypatch, run):
    from bot.actions.handoff import ActionHandoff

    monkeypatch.setenv("SERVICE_HOURS", "00:00-24:00")
    for _ in range(3):
        events = run(ActionHandoff(), dispatcher, tracker("转人工", "request_human", slots={"language": "zh"}))
        assert any(e.get("event") == "pause" for e in events)
    assert [m["response"] for m in dispatcher.messages] == [
        "utter_handoff_queued",
        "utter_handoff_already",
        "utter_handoff_already",
    ]
    assert [t.kind for t in test_store.tickets()] == ["handoff"]


def test_silence_nudges_once_then_closes_and_never_during_a_handoff(tracker, dispatcher):
    from bot.actions.handoff import ActionSilence

    ActionSilence().run(dispatcher, tracker("", "EXTERNAL_silence"), {})
    nudge = {
        "event": "bot",
        "text": "您好，请问还有什么可以帮您？",
        "metadata": {"utter_action": "utter_silence_nudge"},
    }
    events = ActionSilence().run(dispatcher, tracker("", "EXTERNAL_silence", events=[nudge]), {})
    assert [m["response"] for m in dispatcher.messages] == ["utter_silence_nudge", "utter_silence_close"]
    assert {"event": "slot", "name": "conversation_closed", "value": True, "timestamp": None} in events
    dispatcher.messages.clear()
    paused = tracker("", "EXTERNAL_silence", paused=True)
    assert ActionSilence().run(dispatcher, paused, {}) == [] and dispatcher.messages == []
    closed = tracker("", "EXTERNAL_silence", slots={"conversation_closed": True})
    assert ActionSilence().run(dispatcher, closed, {}) == [] and dispatcher.messages == []

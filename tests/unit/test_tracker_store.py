"""The cached SQL tracker store keeps exactly what Rasa's SQL tracker store keeps."""

import asyncio

import pytest
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, SessionStarted, SlotSet, UserUttered

from bot.settings import ROOT
from bot.tracker_store import CachedSQLTrackerStore


@pytest.fixture(scope="module")
def domain():
    return Domain.load(str(ROOT / "bot" / "domain.yml"))


def run(coroutine):
    return asyncio.run(coroutine)


def turn(text, language="zh"):
    return [
        UserUttered(text, {"name": "greet", "confidence": 0.9}),
        SlotSet("language", language),
        ActionExecuted("action_greet"),
        BotUttered(f"reply to {text}"),
        ActionExecuted("action_listen"),
    ]


def dicts(tracker):
    return [event.as_dict() for event in tracker.events]


async def first_turn(store, sender, text):
    """A new conversation with one saved turn, as the processor makes it."""
    tracker = await store.get_or_create_tracker(sender)
    for event in turn(text):
        tracker.update(event)
    await store.save(tracker)
    return tracker


def test_what_it_saves_is_what_rasa_reads_back(tmp_path, domain):
    db = str(tmp_path / "tracker.db")
    store = CachedSQLTrackerStore(domain=domain, dialect="sqlite", db=db)

    async def conversation():
        tracker = await store.get_or_create_tracker("c1")
        for text in ["你好", "在吗", "hello"]:
            tracker = await store.retrieve("c1")
            for event in turn(text):
                tracker.update(event)
            await store.save(tracker)
        return tracker

    tracker = run(conversation())
    rasa_store = SQLTrackerStore(domain=domain, dialect="sqlite", db=db)
    assert dicts(run(rasa_store.retrieve("c1"))) == dicts(tracker)
    # and after a restart (a new store on the same file)
    assert dicts(run(CachedSQLTrackerStore(domain=domain, dialect="sqlite", db=db).retrieve("c1"))) == dicts(tracker)


def test_a_tracker_changed_but_not_saved_is_read_again_from_the_database(tmp_path, domain):
    store = CachedSQLTrackerStore(domain=domain, dialect="sqlite", db=str(tmp_path / "t.db"))

    async def steps():
        tracker = await first_turn(store, "c2", "你好")
        saved = dicts(tracker)
        changed = await store.retrieve("c2")
        changed.update(UserUttered("lost"))  # e.g. an action failed before the save
        again = await store.retrieve("c2")
        return saved, again

    saved, again = run(steps())
    assert dicts(again) == saved


def test_a_new_session_is_cut_as_rasa_cuts_it(tmp_path, domain):
    db = str(tmp_path / "s.db")
    store = CachedSQLTrackerStore(domain=domain, dialect="sqlite", db=db)

    async def steps():
        tracker = await first_turn(store, "c3", "old session")
        tracker = await store.retrieve("c3")
        for event in [
            ActionExecuted("action_session_start"),
            SessionStarted(),
            ActionExecuted("action_listen"),
            *turn("new session"),
        ]:
            tracker.update(event)
        await store.save(tracker)
        return await store.retrieve("c3")

    ours = run(steps())
    theirs = run(SQLTrackerStore(domain=domain, dialect="sqlite", db=db).retrieve("c3"))
    assert dicts(ours) == dicts(theirs)
    assert not any(getattr(e, "text", None) == "old session" for e in ours.events)


def test_trackers_it_did_not_hand_out_are_saved_the_rasa_way(tmp_path, domain):
    db = str(tmp_path / "f.db")
    store = CachedSQLTrackerStore(domain=domain, dialect="sqlite", db=db)

    async def steps():
        await first_turn(store, "c4", "one")
        full = await store.retrieve_full_tracker("c4")  # not the cached object
        full.update(BotUttered("from an agent"))
        await store.save(full)
        return full

    full = run(steps())
    assert dicts(run(SQLTrackerStore(domain=domain, dialect="sqlite", db=db).retrieve("c4"))) == dicts(full)


def test_sqlite_runs_in_wal_mode(tmp_path, domain):
    store = CachedSQLTrackerStore(domain=domain, dialect="sqlite", db=str(tmp_path / "w.db"))
    with store.engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"


def test_a_deleted_database_does_not_get_its_old_wal_back(tmp_path, domain):
    db = tmp_path / "old.db"
    store = CachedSQLTrackerStore(domain=domain, dialect="sqlite", db=str(db))

    run(first_turn(store, "old", "old conversation"))
    assert db.with_name("old.db-wal").exists()  # the server still runs: the WAL is in use
    db.unlink()  # "start afresh": someone deletes the database file only
    fresh = CachedSQLTrackerStore(domain=domain, dialect="sqlite", db=str(db))
    assert run(fresh.retrieve("old")) is None
    assert run(fresh.keys()) == []


def test_on_exit_the_wal_goes_into_the_database_file(tmp_path, domain):
    import subprocess
    import sys

    db = tmp_path / "exit.db"
    script = (
        "import asyncio\n"
        "from rasa.shared.core.domain import Domain\n"
        "from rasa.shared.core.events import UserUttered\n"
        "from bot.tracker_store import CachedSQLTrackerStore\n"
        f"store = CachedSQLTrackerStore(domain=Domain.empty(), dialect='sqlite', db={str(db)!r})\n"
        "async def main():\n"
        "    tracker = await store.get_or_create_tracker('x')\n"
        "    tracker.update(UserUttered('hi'))\n"
        "    await store.save(tracker)\n"
        "asyncio.run(main())\n"
    )
    result = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-3000:]
    assert not db.with_name("exit.db-wal").exists()
    rows = run(SQLTrackerStore(domain=domain, dialect="sqlite", db=str(db)).retrieve("x"))
    assert [e.text for e in rows.events if isinstance(e, UserUttered)] == ["hi"]

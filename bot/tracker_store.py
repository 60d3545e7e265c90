"""Rasa's SQL tracker store, with the current conversations kept in memory as well.

Measured (py-spy and cProfile on `make bench`'s 20-conversation run): Rasa's
SQLTrackerStore spent about 40% of the server's time per message in reading the whole
session back from SQL and replaying it into a tracker, counting the stored events again
before every save, and waiting on SQLite's fsync. The database stays the record (same
`events` table, same rows, so Rasa's tools, our tests and a restart all read it); this
class only avoids reading back what this process wrote itself:

- A tracker this store handed out and then saved is kept (the `TRACKER_CACHE_SIZE`
  most recent conversations). The next `retrieve` returns it without touching the database if it
  still holds exactly the events that were saved; a tracker changed and not saved, a new
  session (the database keeps only the latest session for `retrieve`) or any other
  tracker object goes the normal way through SQL.
- A save of a cached tracker inserts only the events after the saved ones, in one
  statement, instead of first counting the stored rows.
- SQLite runs in WAL mode with synchronous=NORMAL: a commit no longer waits for the
  disk, and a crash of the process loses nothing already committed.

Only one Rasa process may write to the file (the embedded set-up: `make run`). Several
Rasa workers or servers must share a lock store and a database server instead.
"""
from __future__ import annotations

import atexit
import json
import logging
import os
from collections import OrderedDict
from pathlib import Path
from typing import Any, List, Optional, Text, Tuple

import sqlalchemy as sa
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.events import SessionStarted
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.nlu.constants import INTENT_NAME_KEY

logger = logging.getLogger(__name__)

DEFAULT_CACHE_SIZE = 500  # bot/settings.py; about 0.2 MB per long conversation


def remove_orphaned_wal(database: Path) -> None:
    """Delete the WAL files of a database file that is gone (deleted to start afresh).

    SQLite would otherwise replay the old write-ahead log into the new database file of
    the same name and mix old conversations into it, or corrupt it.
    """
    if database.exists():
        return
    for suffix in ("-wal", "-shm"):
        leftover = database.with_name(database.name + suffix)
        if leftover.exists():
            logger.warning("removing %s: its database %s no longer exists", leftover, database)
            leftover.unlink()


def _fingerprint(tracker: DialogueStateTracker) -> Tuple[int, int]:
    """Changes whenever an event is appended (even to a bounded deque)."""
    events = tracker.events
    return len(events), id(events[-1]) if events else 0


class CachedSQLTrackerStore(SQLTrackerStore):
    """SQLTrackerStore that does not read back the conversations it has just written."""

    def __init__(self, *args: Any, cache_size: Optional[int] = None, **kwargs: Any) -> None:
        if kwargs.get("dialect", "sqlite") == "sqlite" and kwargs.get("db"):
            remove_orphaned_wal(Path(kwargs["db"]))
        super().__init__(*args, **kwargs)
        if self.engine.dialect.name == "sqlite":
            self._use_sqlite_wal()
            # Closing the connections on exit checkpoints the WAL into the database file
            # and removes it, so var/ holds one self-contained file between runs.
            atexit.register(self.engine.dispose)
        size = cache_size if cache_size is not None else os.environ.get("TRACKER_CACHE_SIZE", DEFAULT_CACHE_SIZE)
        self._cache_size = max(0, int(size))
        # sender_id -> (tracker, its fingerprint when saved, number of its events in the database)
        self._cache: "OrderedDict[str, Tuple[DialogueStateTracker, Tuple[int, int], int]]" = OrderedDict()
        # Trackers handed out by retrieve() that are not cached yet: sender_id -> (tracker, stored events)
        self._loaded: "OrderedDict[str, Tuple[DialogueStateTracker, int]]" = OrderedDict()

    def _use_sqlite_wal(self) -> None:
        # One pooled connection instead of a new one per query (SQLAlchemy 1.4's default
        # for SQLite files), each set to WAL mode on connect.
        url = self.engine.url
        self.engine.dispose()
        self.engine = sa.create_engine(url, poolclass=sa.pool.QueuePool, pool_size=2, max_overflow=8,
                                       connect_args={"check_same_thread": False})

        @sa.event.listens_for(self.engine, "connect")
        def _pragmas(connection: Any, _record: Any) -> None:
            cursor = connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.close()

        self.sessionmaker = sa.orm.session.sessionmaker(bind=self.engine)

    async def retrieve(self, sender_id: Text) -> Optional[DialogueStateTracker]:
        cached = self._cache.get(sender_id)
        if cached is not None:
            tracker, fingerprint, _ = cached
            if _fingerprint(tracker) == fingerprint:
                self._cache.move_to_end(sender_id)
                return tracker
            del self._cache[sender_id]  # changed but not saved: the database is the truth
        tracker = await super().retrieve(sender_id)
        if tracker is not None and self._cache_size:
            self._loaded[sender_id] = (tracker, len(tracker.events))
            self._loaded.move_to_end(sender_id)
            while len(self._loaded) > self._cache_size:
                self._loaded.popitem(last=False)
        return tracker

    async def save(self, tracker: DialogueStateTracker) -> None:
        sender_id = tracker.sender_id
        stored = self._stored_count(tracker)
        if stored is None:
            self._forget(sender_id)
            await super().save(tracker)
            return
        await self.stream_events(tracker)
        new_events = list(tracker.events)[stored:]
        if new_events:
            self._insert(sender_id, new_events)
        if any(isinstance(event, SessionStarted) for event in new_events):
            # retrieve() returns the latest session only; let the database cut it.
            self._forget(sender_id)
            return
        self._remember(tracker, len(tracker.events))

    def _stored_count(self, tracker: DialogueStateTracker) -> Optional[int]:
        """How many of this tracker's events are in the database, if this store knows."""
        sender_id = tracker.sender_id
        cached = self._cache.get(sender_id)
        if cached is not None and cached[0] is tracker:
            return cached[2]
        loaded = self._loaded.get(sender_id)
        if loaded is not None and loaded[0] is tracker:
            return loaded[1]
        return None

    def _insert(self, sender_id: str, events: List[Any]) -> None:
        rows = []
        for event in events:
            data = event.as_dict()
            rows.append({
                "sender_id": sender_id,
                "type_name": event.type_name,
                "timestamp": data.get("timestamp"),
                "intent_name": data.get("parse_data", {}).get("intent", {}).get(INTENT_NAME_KEY),
                "action_name": data.get("name"),
                "data": json.dumps(data),
            })
        with self.engine.begin() as connection:
            connection.execute(self.SQLEvent.__table__.insert(), rows)

    def _remember(self, tracker: DialogueStateTracker, stored: int) -> None:
        sender_id = tracker.sender_id
        self._loaded.pop(sender_id, None)
        if tracker.events.maxlen is not None:
            return  # a bounded tracker drops events; its count would no longer say what is stored
        self._cache[sender_id] = (tracker, _fingerprint(tracker), stored)
        self._cache.move_to_end(sender_id)
        while len(self._cache) > self._cache_size:
            self._cache.popitem(last=False)

    def _forget(self, sender_id: str) -> None:
        self._cache.pop(sender_id, None)
        self._loaded.pop(sender_id, None)

"""Rasa's SQL tracker store, with the current conversations kept in memory as well.

Measured (py-spy and cProfile on `make bench`'s 20-conversation run): Rasa's
SQLTrackerStore spent about 40% of the server's time per message in reading the whole
session back from SQL and replaying it into a tracker, counting the stored events again
before every save, and waiting on SQLite's fsync. The database stays the record (same
`events` table, same rows, so Rasa's tools, our tests and a restart all read it); this
class only avoids reading back what this process wrote itself:

- A tracker this store read or saved is kept (the `TRACKER_CACHE_SIZE` most recent
  conversations). The next `retrieve` returns it without touching the database if it
  still holds exactly the events in the database; a tracker changed and not saved, a
  new session (the database keeps only the latest session for `retrieve`) or any other
  tracker object goes the normal way through SQL.
- A save of a cached tracker writes only the events after the saved ones (Rasa's own
  save, told which events are new) instead of first counting the stored rows.
- SQLite runs in WAL mode with synchronous=NORMAL: a commit no longer waits for the
  disk, and a crash of the process loses nothing already committed.

Only one Rasa process may write to the file (the embedded set-up: `make run`). Several
Rasa workers or servers must share a lock store and a database server instead.

It overrides private methods of Rasa's SQLTrackerStore: listed in bot/patches.py.
"""

from __future__ import annotations

import atexit
import itertools
import logging
from collections import OrderedDict
from pathlib import Path
from typing import Any, Iterator, Optional, Text, Tuple

import sqlalchemy as sa
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.events import SessionStarted
from rasa.shared.core.trackers import DialogueStateTracker

from bot import settings

logger = logging.getLogger(__name__)


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
    """Changes whenever an event is appended."""
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
        self._cache_size = max(0, cache_size if cache_size is not None else int(settings.get("TRACKER_CACHE_SIZE")))
        # sender_id -> (the tracker this store handed out, its fingerprint when it last
        # held exactly the events in the database)
        self._known: "OrderedDict[str, Tuple[DialogueStateTracker, Tuple[int, int]]]" = OrderedDict()

    def _use_sqlite_wal(self) -> None:
        # One pooled connection instead of a new one per query (SQLAlchemy 1.4's default
        # for SQLite files), each set to WAL mode on connect.
        url = self.engine.url
        self.engine.dispose()
        self.engine = sa.create_engine(
            url, poolclass=sa.pool.QueuePool, pool_size=2, max_overflow=8, connect_args={"check_same_thread": False}
        )

        @sa.event.listens_for(self.engine, "connect")
        def _pragmas(connection: Any, _record: Any) -> None:
            cursor = connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.close()

        self.sessionmaker = sa.orm.session.sessionmaker(bind=self.engine)

    async def retrieve(self, sender_id: Text) -> Optional[DialogueStateTracker]:
        known = self._known.get(sender_id)
        if known is not None and _fingerprint(known[0]) == known[1]:
            self._known.move_to_end(sender_id)
            return known[0]
        self._known.pop(sender_id, None)  # changed but not saved: the database is the truth
        tracker = await super().retrieve(sender_id)
        if tracker is not None:
            self._remember(tracker)
        return tracker

    def _stored_count(self, tracker: DialogueStateTracker) -> Optional[int]:
        """How many of this tracker's events are in the database, if this store knows."""
        known = self._known.get(tracker.sender_id)
        return known[1][0] if known is not None and known[0] is tracker else None

    def _additional_events(self, session: Any, tracker: DialogueStateTracker) -> Iterator:
        """The events Rasa's save() writes: for a known tracker, those after the stored ones,
        without Rasa's count of the stored rows."""
        stored = self._stored_count(tracker)
        if stored is None:
            return super()._additional_events(session, tracker)
        return itertools.islice(tracker.events, stored, None)

    async def save(self, tracker: DialogueStateTracker) -> None:
        stored = self._stored_count(tracker)
        await super().save(tracker)
        if (
            stored is None
            or self._stored_count(tracker) is None
            or any(isinstance(event, SessionStarted) for event in itertools.islice(tracker.events, stored, None))
        ):
            # Not ours, or a new session (retrieve() returns the latest session only, as
            # the database cuts it): the next retrieve() reads the database.
            self._known.pop(tracker.sender_id, None)
        else:
            self._remember(tracker)

    def _remember(self, tracker: DialogueStateTracker) -> None:
        """`tracker` now holds exactly the conversation's events in the database."""
        if not self._cache_size or tracker.events.maxlen is not None:
            return  # a bounded tracker drops events; its count would no longer say what is stored
        self._known[tracker.sender_id] = (tracker, _fingerprint(tracker))
        self._known.move_to_end(tracker.sender_id)
        while len(self._known) > self._cache_size:
            self._known.popitem(last=False)

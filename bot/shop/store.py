"""The shop's SQL store (SQLAlchemy): orders, tickets, unanswered questions, ratings.

SQLite under var/ by default; any SQLAlchemy URL through DATABASE_URL. The action
server writes here and the Rasa server's channels (agent console, WeChat) read here:
the two processes never import each other, they meet in this store.
"""

from __future__ import annotations

import datetime as dt
from contextlib import contextmanager
from functools import lru_cache
from typing import Any, Dict, Iterator, List, Optional

from sqlalchemy import JSON, Column, DateTime, Integer, String, Text, create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, declarative_base, sessionmaker

Base = declarative_base()


def now() -> dt.datetime:
    return dt.datetime.utcnow()


class Order(Base):
    __tablename__ = "orders"
    id = Column(String(16), primary_key=True)  # SO + 8 digits
    status = Column(String(24), nullable=False)
    phone = Column(String(20), nullable=False)
    customer_name = Column(String(64))
    address = Column(JSON, nullable=False)  # {region, city, detail}
    courier = Column(String(16))
    tracking_no = Column(String(32))
    items = Column(JSON, nullable=False)  # [{product, qty}]
    created_at = Column(DateTime, nullable=False)
    paid_at = Column(DateTime)
    shipped_at = Column(DateTime)
    delivered_at = Column(DateTime)
    scans = Column(JSON, nullable=False, default=list)  # [{at, location{zh,en}, text{zh,en}}]


class Ticket(Base):
    """Work for people: a hand-off to an agent, a courier follow-up, a return, a refund."""

    __tablename__ = "tickets"
    id = Column(Integer, primary_key=True, autoincrement=True)
    kind = Column(String(24), nullable=False)  # handoff, urge_courier, return_refund, exchange, reship, ...
    status = Column(String(16), nullable=False, default="open")  # open/waiting, active, closed
    conversation_id = Column(String(128), index=True)
    channel = Column(String(32))
    language = Column(String(4))
    reason = Column(String(64))
    category = Column(String(32))
    order_id = Column(String(16))
    remedies = Column(JSON, default=list)
    summary = Column(Text)
    transcript = Column(JSON, default=list)  # last messages: [{sender, text, at}]
    agent = Column(String(64))
    created_at = Column(DateTime, default=now, nullable=False)
    updated_at = Column(DateTime, default=now, onupdate=now, nullable=False)
    closed_at = Column(DateTime)


class UnansweredQuestion(Base):
    """A question the shop data could not answer (seed 002 客服职责: record it, pass it on)."""

    __tablename__ = "unanswered_questions"
    id = Column(Integer, primary_key=True, autoincrement=True)
    conversation_id = Column(String(128), index=True)
    language = Column(String(4))
    product_id = Column(String(64))
    question = Column(Text, nullable=False)
    created_at = Column(DateTime, default=now, nullable=False)


class Rating(Base):
    __tablename__ = "ratings"
    id = Column(Integer, primary_key=True, autoincrement=True)
    conversation_id = Column(String(128), index=True)
    score = Column(Integer, nullable=False)
    created_at = Column(DateTime, default=now, nullable=False)


class VerificationFailure(Base):
    """A wrong answer to the privacy check (phone digits) for an order, or by a conversation.
    Counted across conversations, channels and restarts, so naming the order again,
    starting a new conversation or restarting the bot never resets the count."""

    __tablename__ = "verification_failures"
    id = Column(Integer, primary_key=True, autoincrement=True)
    key = Column(String(160), index=True, nullable=False)  # "order:SO20261101" or "conversation:<id>"
    created_at = Column(DateTime, default=now, nullable=False, index=True)


def _sqlite_pragmas(dbapi_connection: Any, _: Any) -> None:
    # Two processes write here: WAL lets readers and one writer work at once.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.close()


class Store:
    def __init__(self, url: str) -> None:
        if url.startswith("sqlite:///"):
            from pathlib import Path

            Path(url[len("sqlite:///") :]).parent.mkdir(parents=True, exist_ok=True)
        self.engine: Engine = create_engine(url, future=True)
        if url.startswith("sqlite"):
            event.listen(self.engine, "connect", _sqlite_pragmas)
        Base.metadata.create_all(self.engine)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False, future=True)

    @contextmanager
    def session(self) -> Iterator[Session]:
        with self._sessions() as session, session.begin():
            yield session

    # Unanswered questions -------------------------------------------------
    def record_unanswered(
        self, conversation_id: str, language: str, question: str, product_id: Optional[str] = None
    ) -> int:
        with self.session() as session:
            row = UnansweredQuestion(
                conversation_id=conversation_id, language=language, product_id=product_id, question=question
            )
            session.add(row)
            session.flush()
            return row.id

    # Tickets --------------------------------------------------------------
    def open_ticket(self, **fields: Any) -> int:
        with self.session() as session:
            ticket = Ticket(**fields)
            session.add(ticket)
            session.flush()
            return ticket.id

    def tickets(self, **filters: Any) -> List[Ticket]:
        with self.session() as session:
            return list(session.query(Ticket).filter_by(**filters).order_by(Ticket.id))

    # Privacy check: failed attempts and locks --------------------------------
    def record_verification_failure(self, *keys: str) -> None:
        with self.session() as session:
            for key in keys:
                session.add(VerificationFailure(key=key))

    def verification_lock_minutes(self, key: str, max_failures: int, window_minutes: int) -> int:
        """Minutes left before `key` may try again: 0 unless it failed `max_failures` times
        within the last `window_minutes` (the lock lasts until the oldest of those ages out)."""
        since = now() - dt.timedelta(minutes=window_minutes)
        with self.session() as session:
            times = [
                t
                for (t,) in session.query(VerificationFailure.created_at)
                .filter(VerificationFailure.key == key, VerificationFailure.created_at > since)
                .order_by(VerificationFailure.created_at.desc())
                .limit(max_failures)
            ]
        if len(times) < max_failures:
            return 0
        unlock = times[-1] + dt.timedelta(minutes=window_minutes)
        return max(1, int((unlock - now()).total_seconds() // 60) + 1)

    def clear_verification_failures(self, key: str) -> None:
        with self.session() as session:
            session.query(VerificationFailure).filter(VerificationFailure.key == key).delete()

    # Ratings --------------------------------------------------------------
    def record_rating(self, conversation_id: str, score: int) -> None:
        with self.session() as session:
            session.add(Rating(conversation_id=conversation_id, score=score))


@lru_cache(maxsize=4)
def store_for(url: str) -> Store:
    return Store(url)


def default_store() -> Store:
    from bot import settings

    return store_for(settings.database_url())


def as_dict(row: Any) -> Dict[str, Any]:
    return {c.name: getattr(row, c.name) for c in row.__table__.columns}

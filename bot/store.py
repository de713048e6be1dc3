"""What the Telegram adapter remembers: staff registrations, wrong invite codes, the question log
and feedback. SQLAlchemy 2 async: a SQLite file by default, PostgreSQL when replicas share it.
Every write is one statement (an upsert where rows may race), so concurrent updates are safe."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    DateTime,
    Float,
    Integer,
    String,
    Text,
    UniqueConstraint,
    case,
    delete,
    event,
    func,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

log = logging.getLogger(__name__)

# Telegram ids need 64 bits; SQLite numbers a row by itself only in an INTEGER primary key.
_ROW_ID = BigInteger().with_variant(Integer, "sqlite")


class _Base(DeclarativeBase):
    type_annotation_map: ClassVar = {datetime: DateTime(timezone=True), int: BigInteger}


class StaffUser(_Base):
    __tablename__ = "staff_users"
    user_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    branch: Mapped[str] = mapped_column(String(100))
    registered_at: Mapped[datetime]


class RegisterFailures(_Base):
    __tablename__ = "register_failures"
    user_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    failures: Mapped[int]
    window_start: Mapped[datetime]


class LoggedQuestion(_Base):
    __tablename__ = "question_log"
    id: Mapped[int] = mapped_column(_ROW_ID, primary_key=True, autoincrement=True)
    asked_at: Mapped[datetime] = mapped_column(index=True)
    user_id: Mapped[int]
    chat_id: Mapped[int]
    language: Mapped[str] = mapped_column(String(8))
    abstained: Mapped[bool]
    latency_ms: Mapped[float] = mapped_column(Float)
    question: Mapped[str] = mapped_column(Text)
    answer: Mapped[str] = mapped_column(Text)
    # The cited passages: source fields plus the passage text, for the "Sources" button.
    sources: Mapped[list] = mapped_column(JSON)


class Feedback(_Base):
    """A vote on an answer, with a copy of what was asked and answered: the question log is
    pruned after its retention period, feedback is not."""

    __tablename__ = "feedback"
    __table_args__ = (UniqueConstraint("question_id", "user_id"),)
    id: Mapped[int] = mapped_column(_ROW_ID, primary_key=True, autoincrement=True)
    question_id: Mapped[int]
    user_id: Mapped[int]
    vote: Mapped[int]  # +1 or -1; voting again replaces the vote
    voted_at: Mapped[datetime]
    question: Mapped[str] = mapped_column(Text)
    answer: Mapped[str] = mapped_column(Text)
    sources: Mapped[list] = mapped_column(JSON)


class HandledUpdate(_Base):
    """Telegram re-delivers updates whose receipt it never heard of (a bot killed mid-batch, a
    second replica behind a webhook): each is handled once."""

    __tablename__ = "handled_updates"
    update_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    claimed_at: Mapped[datetime] = mapped_column(index=True)
    done: Mapped[bool]


@dataclass(frozen=True)
class DayStats:
    day: date
    questions: int
    abstained: int


@dataclass(frozen=True)
class Stats:
    days: list[DayStats]  # newest first, days without questions left out
    helpful: int
    unhelpful: int
    staff_users: int


def _now() -> datetime:
    return datetime.now(UTC)


class Store:
    def __init__(self, engine: AsyncEngine, retention: timedelta) -> None:
        self._engine = engine
        self._sessions = async_sessionmaker(engine, expire_on_commit=False)
        self._retention = retention
        self._pruned_at: datetime | None = None

    @classmethod
    async def open(cls, url: str, retention_days: int = 90) -> Store:
        """Connect and create the tables if needed; a SQLite file's folder is created too."""
        parsed = make_url(url)
        if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_async_engine(url)
        if parsed.get_backend_name() == "sqlite":
            event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        async with engine.begin() as connection:
            await connection.run_sync(_Base.metadata.create_all)
        store = cls(engine, timedelta(days=retention_days))
        await store.prune()
        return store

    async def close(self) -> None:
        await self._engine.dispose()

    def _insert(self, table: type[_Base]):  # the dialect's own Insert, with on_conflict_*
        dialect = postgresql if self._engine.dialect.name == "postgresql" else sqlite
        return dialect.insert(table)

    # Roles
    async def staff_branch(self, user_id: int) -> str | None:
        async with self._sessions() as session:
            row = await session.get(StaffUser, user_id)
            return row.branch if row else None

    async def register_staff(self, user_id: int, branch: str) -> None:
        statement = self._insert(StaffUser).values(
            user_id=user_id, branch=branch, registered_at=_now()
        )
        statement = statement.on_conflict_do_update(
            index_elements=["user_id"], set_={"branch": branch, "registered_at": _now()}
        )
        async with self._sessions.begin() as session:
            await session.execute(statement)
            forgiven = delete(RegisterFailures).where(RegisterFailures.user_id == user_id)
            await session.execute(forgiven)

    async def failures(self, user_id: int, window: timedelta) -> int:
        """Wrong invite codes this user sent within the current window."""
        async with self._sessions() as session:
            row = await session.get(RegisterFailures, user_id)
        if row is None or _aware(row.window_start) < _now() - window:
            return 0
        return row.failures

    async def record_failure(self, user_id: int, window: timedelta) -> int:
        """Count one wrong code (a new window when the last one expired); the count after it."""
        now = _now()
        table = RegisterFailures.__table__
        expired = table.c.window_start < now - window
        statement = (
            self._insert(RegisterFailures)
            .values(user_id=user_id, failures=1, window_start=now)
            .on_conflict_do_update(
                index_elements=["user_id"],
                set_={
                    "failures": case((expired, 1), else_=table.c.failures + 1),
                    "window_start": case((expired, now), else_=table.c.window_start),
                },
            )
        )
        async with self._sessions.begin() as session:
            await session.execute(statement)
            row = await session.get(RegisterFailures, user_id, populate_existing=True)
            return row.failures if row else 1

    # Updates
    async def claim_update(self, update_id: int, stale_after: timedelta) -> bool:
        """True when this process should handle the update: never seen, or claimed by a
        process that did not finish it within `stale_after` (it crashed)."""
        now = _now()
        table = HandledUpdate.__table__
        statement = (
            self._insert(HandledUpdate)
            .values(update_id=update_id, claimed_at=now, done=False)
            .on_conflict_do_update(
                index_elements=["update_id"],
                set_={"claimed_at": now},
                where=table.c.done.is_(False) & (table.c.claimed_at < now - stale_after),
            )
        )
        async with self._sessions.begin() as session:
            result = await session.execute(statement)
        return result.rowcount == 1

    async def finish_update(self, update_id: int) -> None:
        async with self._sessions.begin() as session:
            await session.execute(
                update(HandledUpdate).where(HandledUpdate.update_id == update_id).values(done=True)
            )

    # Question log and feedback
    async def log_question(
        self,
        *,
        user_id: int,
        chat_id: int,
        question: str,
        answer: str,
        language: str,
        abstained: bool,
        latency_ms: float,
        sources: list[dict],
    ) -> int:
        row = LoggedQuestion(
            asked_at=_now(),
            user_id=user_id,
            chat_id=chat_id,
            question=question,
            answer=answer,
            language=language,
            abstained=abstained,
            latency_ms=latency_ms,
            sources=sources,
        )
        async with self._sessions.begin() as session:
            session.add(row)
            await session.flush()
            question_id = row.id
        if self._pruned_at is None or _now() - self._pruned_at > timedelta(hours=1):
            await self.prune()
        return question_id

    async def logged(self, question_id: int) -> LoggedQuestion | None:
        async with self._sessions() as session:
            return await session.get(LoggedQuestion, question_id)

    async def record_feedback(self, question_id: int, user_id: int, vote: int) -> bool:
        """Store (or change) a vote; False when the answer is no longer in the log."""
        logged = await self.logged(question_id)
        if logged is None:
            return False
        values = {
            "question_id": question_id,
            "user_id": user_id,
            "vote": vote,
            "voted_at": _now(),
            "question": logged.question,
            "answer": logged.answer,
            "sources": logged.sources,
        }
        statement = (
            self._insert(Feedback)
            .values(**values)
            .on_conflict_do_update(
                index_elements=["question_id", "user_id"],
                set_={"vote": vote, "voted_at": values["voted_at"]},
            )
        )
        async with self._sessions.begin() as session:
            await session.execute(statement)
        return True

    async def stats(self, days: int = 7) -> Stats:
        since = _now() - timedelta(days=days)
        day = func.date(LoggedQuestion.asked_at)
        async with self._sessions() as session:
            per_day = await session.execute(
                select(
                    day,
                    func.count(),
                    func.sum(case((LoggedQuestion.abstained, 1), else_=0)),
                )
                .where(LoggedQuestion.asked_at >= since)
                .group_by(day)
                .order_by(day.desc())
            )
            by_vote = select(Feedback.vote, func.count()).group_by(Feedback.vote)
            tally = await session.execute(by_vote)
            votes = {vote: count for vote, count in tally}
            staff = await session.scalar(select(func.count()).select_from(StaffUser))
        return Stats(
            days=[
                DayStats(date.fromisoformat(str(d)[:10]), int(n), int(a or 0))
                for d, n, a in per_day
            ],
            helpful=votes.get(1, 0),
            unhelpful=votes.get(-1, 0),
            staff_users=staff or 0,
        )

    async def prune(self) -> int:
        """Forget logged questions older than the retention period, and updates handled more
        than a day ago (Telegram keeps undelivered updates for 24 hours)."""
        self._pruned_at = _now()
        async with self._sessions.begin() as session:
            result = await session.execute(
                delete(LoggedQuestion).where(LoggedQuestion.asked_at < _now() - self._retention)
            )
            await session.execute(
                delete(HandledUpdate).where(HandledUpdate.claimed_at < _now() - timedelta(days=1))
            )
        if result.rowcount:
            log.info("pruned %d logged questions past their retention", result.rowcount)
        return result.rowcount


def _aware(moment: datetime) -> datetime:
    """SQLite hands back naive datetimes; they were stored in UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _sqlite_pragmas(connection: object, _record: object) -> None:
    # WAL lets readers and one writer overlap; busy_timeout waits for a lock instead of failing.
    # synchronous=NORMAL skips an fsync per commit: a crash loses nothing, a power cut at most
    # the last commits.
    cursor = connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.close()

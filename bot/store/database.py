"""What the channels remember and their replicas share: staff registrations, wrong invite
codes, the question log (and so each conversation's memory), feedback, handled updates and each
user's question pace (tables in `bot.store.tables`). SQLAlchemy 2 async: a SQLite file by
default, PostgreSQL when replicas share it. Every write is one statement (an upsert where rows
may race), so concurrent updates are safe."""

from __future__ import annotations

import asyncio
import itertools
import logging
import sqlite3
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import (
    BigInteger,
    DateTime,
    Select,
    case,
    delete,
    event,
    exists,
    func,
    insert,
    literal,
    literal_column,
    select,
    update,
)
from sqlalchemy.engine import make_url
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.orm import InstrumentedAttribute
from sqlalchemy.sql import ColumnElement

from alliance.language import detect_language
from bot.store import backups, migrations
from bot.store.accounts import Accounts
from bot.store.curated import Curated
from bot.store.guesses import Guesses
from bot.store.leases import Leases
from bot.store.records import Logged, record
from bot.store.tables import (
    Base,
    ConversationStart,
    DayStats,
    Feedback,
    HandledUpdate,
    LoggedQuestion,
    QuestionPace,
    StaffUser,
    Stats,
    Ticket,
    Unanswered,
    aware,
    dialect_insert,
    utc_now,
)
from bot.store.tickets import Tickets
from bot.store.uploads import Uploads
from bot.store.web_access import WebAccess
from bot.store.wecom import WeComConversations

log = logging.getLogger(__name__)

# Telegram keeps an undelivered update for 24 hours: an older claim is never re-delivered.
REDELIVERY_WINDOW = timedelta(days=1)
# Waits between tries to reach a database server that does not answer yet, in seconds; the
# last is repeated until it answers.
SERVER_WAITS = (0.5, 1.0, 2.0, 4.0, 8.0, 15.0)
# What a DayStats counts, each 0 on a day that had none of it.
_DAY_COUNTS = ("questions", "abstained", "escalated", "helpful", "unhelpful")


class Store:
    def __init__(self, engine: AsyncEngine, retention: timedelta) -> None:
        self._engine = engine
        self._retention = retention
        self._pruned_at: datetime | None = None
        self.tickets = Tickets(engine)
        self.curated = Curated(engine)
        self.web = WebAccess(engine)
        self.uploads = Uploads(engine)
        self.guesses = Guesses(engine)
        self.accounts = Accounts(engine)
        self.wecom = WeComConversations(engine)
        self.leases = Leases(engine)

    @classmethod
    async def open(cls, url: str, retention_days: int = 90) -> Store:
        """Connect and bring the schema up to date; a SQLite file's folder is created too. A
        database server that does not answer yet (it may start after the assistant) is waited
        for, with the reason in the log and the password left out."""
        parsed = make_url(url)
        delays = itertools.chain(SERVER_WAITS, itertools.repeat(SERVER_WAITS[-1]))
        while True:
            try:
                return await cls._open(url, retention_days)
            except (OSError, OperationalError, InterfaceError) as exc:
                if parsed.get_backend_name() == "sqlite":  # a local file: nothing to wait for
                    raise
                delay, where = next(delays), parsed.render_as_string(hide_password=True)
                log.warning("database %s not reachable (%s); retrying in %.1f s", where, exc, delay)
                await asyncio.sleep(delay)

    @classmethod
    async def _open(cls, url: str, retention_days: int) -> Store:
        parsed = make_url(url)
        if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        # Every use is a `connect()` or `begin()` block, which ends its own transaction: the
        # pool's extra rollback on return would only cost a round trip per statement. A database
        # server may restart under the bot: its pooled connections are checked before use.
        # Errors leave out the statement's parameters: they hold what users wrote.
        server = parsed.get_backend_name() != "sqlite"
        engine = create_async_engine(
            url, pool_reset_on_return=None, pool_pre_ping=server, hide_parameters=True
        )
        if not server:
            event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        try:
            async with engine.begin() as connection:
                await connection.run_sync(migrations.upgrade)
        except BaseException:
            await engine.dispose()
            raise
        store = cls(engine, timedelta(days=retention_days))
        await store.prune()
        return store

    async def close(self) -> None:
        await self._engine.dispose()

    async def back_up(self, folder: Path) -> dict[str, int]:
        """A consistent backup of every table into `folder` (bot.store.backups)."""
        return await backups.back_up(self._engine, folder)

    async def restore(self, folder: Path) -> dict[str, int]:
        """A backup loaded into this store, which must hold no data (bot.store.backups)."""
        return await backups.restore(self._engine, folder)

    async def reachable(self) -> bool:
        """Whether the database answers a query now (for health checks)."""
        try:
            async with self._engine.connect() as connection:
                await connection.execute(select(literal(1)))
        except (OSError, OperationalError, InterfaceError) as exc:
            log.warning("database not reachable: %s", exc)
            return False
        return True

    # Roles
    async def staff_branch(self, user_id: int) -> str | None:
        async with self._engine.connect() as connection:
            return await connection.scalar(
                select(StaffUser.branch).where(StaffUser.user_id == user_id)
            )

    async def register_staff(self, user_id: int, branch: str) -> None:
        statement = dialect_insert(self._engine, StaffUser).values(
            user_id=user_id, branch=branch, registered_at=utc_now()
        )
        statement = statement.on_conflict_do_update(
            index_elements=["user_id"], set_={"branch": branch, "registered_at": utc_now()}
        )
        async with self._engine.begin() as connection:
            await connection.execute(statement)

    # Updates
    async def claim_update(self, bot_id: int, update_id: int, abandoned_before: datetime) -> bool:
        """True when this process should handle the bot's update: never seen, claimed before
        `abandoned_before` and never finished (the process that claimed it died), or claimed
        so long ago that it cannot be a re-delivery (after a quiet week Telegram may number
        updates afresh)."""
        now = utc_now()
        table = HandledUpdate.__table__
        abandoned = table.c.done.is_(False) & (table.c.claimed_at < abandoned_before)
        statement = (
            dialect_insert(self._engine, HandledUpdate)
            .values(bot_id=bot_id, update_id=update_id, claimed_at=now, done=False)
            .on_conflict_do_update(
                index_elements=["bot_id", "update_id"],
                set_={"claimed_at": now, "done": False},
                where=abandoned | (table.c.claimed_at < now - REDELIVERY_WINDOW),
            )
        )
        async with self._engine.begin() as connection:
            result = await connection.execute(statement)
        return result.rowcount == 1

    async def finish_update(self, bot_id: int, update_id: int) -> None:
        finished = (
            update(HandledUpdate)
            .where(HandledUpdate.bot_id == bot_id, HandledUpdate.update_id == update_id)
            .values(done=True)
        )
        async with self._engine.begin() as connection:
            await connection.execute(finished)

    async def update_finished(self, bot_id: int, update_id: int) -> bool:
        """Whether the bot's update was handled to the end (not merely claimed)."""
        statement = select(HandledUpdate.done).where(
            HandledUpdate.bot_id == bot_id, HandledUpdate.update_id == update_id
        )
        async with self._engine.connect() as connection:
            return bool((await connection.execute(statement)).scalar())

    # Abuse control
    async def take_question(self, user_id: int, per_minute: int, now: float | None = None) -> float:
        """Spend one of the user's questions: 0 when it may go ahead, else the seconds until it
        may. A burst of `per_minute` questions, then one every 60 / `per_minute` seconds; one
        statement, so replicas sharing the database share the allowance."""
        now = time.time() if now is None else now
        interval = 60.0 / per_minute
        full_at = QuestionPace.__table__.c.full_at
        statement = (
            dialect_insert(self._engine, QuestionPace)
            .values(user_id=user_id, full_at=now + interval)
            .on_conflict_do_update(
                index_elements=["user_id"],
                set_={"full_at": case((full_at > now, full_at), else_=now) + interval},
                where=full_at + interval - now <= 60.0,
            )
        )
        async with self._engine.begin() as connection:
            taken = (await connection.execute(statement)).rowcount == 1
            if taken:
                return 0.0
            owed = await connection.scalar(
                select(QuestionPace.full_at).where(QuestionPace.user_id == user_id)
            )
        # The row exists: the upsert above did not take because it was there and owed.
        return max(0.0, float(owed or now) + interval - 60.0 - now)

    # Conversations
    async def history(
        self, chat_id: int, user_id: int, turns: int, max_age: timedelta
    ) -> list[tuple[str, str]]:
        """The (question, answer) turns of this user in this chat, oldest first: at most
        `turns`, none older than `max_age` or from before the user's last /new."""
        if turns == 0:
            return []
        restarted = exists().where(
            ConversationStart.chat_id == chat_id,
            ConversationStart.user_id == user_id,
            ConversationStart.started_at >= LoggedQuestion.asked_at,
        )
        recent = (
            select(LoggedQuestion.question, LoggedQuestion.answer)
            .where(
                LoggedQuestion.chat_id == chat_id,
                LoggedQuestion.user_id == user_id,
                LoggedQuestion.asked_at >= utc_now() - max_age,
                ~restarted,
            )
            .order_by(LoggedQuestion.asked_at.desc(), LoggedQuestion.id.desc())
            .limit(turns)
        )
        async with self._engine.connect() as connection:
            rows = (await connection.execute(recent)).all()
        return [(question, answer) for question, answer in reversed(rows)]

    async def new_conversation(self, chat_id: int, user_id: int) -> None:
        """/new: the questions asked so far are no longer this user's memory in this chat."""
        now = utc_now()
        statement = (
            dialect_insert(self._engine, ConversationStart)
            .values(chat_id=chat_id, user_id=user_id, started_at=now)
            .on_conflict_do_update(index_elements=["chat_id", "user_id"], set_={"started_at": now})
        )
        async with self._engine.begin() as connection:
            await connection.execute(statement)

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
        sources: list[dict[str, Any]],
    ) -> int:
        statement = (
            insert(LoggedQuestion)
            .values(
                asked_at=utc_now(),
                user_id=user_id,
                chat_id=chat_id,
                question=question,
                answer=answer,
                language=language,
                abstained=abstained,
                latency_ms=latency_ms,
                sources=sources,
            )
            .returning(LoggedQuestion.id)
        )
        async with self._engine.begin() as connection:
            question_id = (await connection.execute(statement)).scalar_one()
        if self._pruned_at is None or utc_now() - self._pruned_at > timedelta(hours=1):
            await self.prune()
        return question_id

    async def logged(self, question_id: int) -> Logged | None:
        """The logged question (question, answer, language, sources…), if still kept."""
        async with self._engine.connect() as connection:
            row = (await connection.execute(_row(LoggedQuestion, question_id))).first()
        return None if row is None else record(Logged, row)

    async def record_feedback(self, question_id: int, user_id: int, vote: int) -> bool:
        """Store (or change) a vote, with a copy of the logged question and answer; False when
        the answer is no longer in the log."""
        now = utc_now()
        copied = ["question_id", "user_id", "vote", "voted_at", "question", "answer", "sources"]
        logged = select(
            LoggedQuestion.id,
            literal(user_id, BigInteger),
            literal(vote),
            literal(now, DateTime(timezone=True)),
            LoggedQuestion.question,
            LoggedQuestion.answer,
            LoggedQuestion.sources,
        ).where(LoggedQuestion.id == question_id)
        statement = (
            dialect_insert(self._engine, Feedback)
            .from_select(copied, logged)
            .on_conflict_do_update(
                index_elements=["question_id", "user_id"], set_={"vote": vote, "voted_at": now}
            )
        )
        async with self._engine.begin() as connection:
            return (await connection.execute(statement)).rowcount == 1

    async def unanswered(self, since: datetime, limit: int = 5000) -> list[Unanswered]:
        """Questions asked since `since` that the documents did not answer well: abstained,
        escalated to a person or voted 👎 (one row per question and reason), newest first."""
        abstained = select(
            LoggedQuestion.question, LoggedQuestion.language, LoggedQuestion.asked_at
        ).where(LoggedQuestion.abstained.is_(True), LoggedQuestion.asked_at >= since)
        escalated = select(Ticket.question, Ticket.language, Ticket.opened_at).where(
            Ticket.opened_at >= since
        )
        voted = select(Feedback.question, Feedback.voted_at).where(
            Feedback.vote == -1, Feedback.voted_at >= since
        )
        found: list[Unanswered] = []
        async with self._engine.connect() as connection:
            for reason, statement, moment in (
                ("abstained", abstained, LoggedQuestion.asked_at),
                ("escalated", escalated, Ticket.opened_at),
            ):
                rows = await connection.execute(statement.order_by(moment.desc()).limit(limit))
                found += [Unanswered(q, lang, aware(at), reason) for q, lang, at in rows]
            votes = await connection.execute(voted.order_by(Feedback.voted_at.desc()).limit(limit))
            found += [Unanswered(q, detect_language(q), aware(at), "voted") for q, at in votes]
        return sorted(found, key=lambda u: u.at, reverse=True)[:limit]

    async def stats(self, days: int = 7, today: date | None = None) -> Stats:
        """Questions (and abstentions), tickets opened and votes per UTC day over the `days`
        days ending with `today`, newest first and only days with any; the totals of the votes
        ever kept and of registered staff."""
        today = today or utc_now().date()
        first = today - timedelta(days=days - 1)
        since = datetime(first.year, first.month, first.day, tzinfo=UTC)
        until = since + timedelta(days=days)

        def within(column: InstrumentedAttribute[datetime]) -> ColumnElement[bool]:
            return (column >= since) & (column < until)

        asked = self._utc_day(LoggedQuestion.asked_at)
        opened = self._utc_day(Ticket.opened_at)
        voted = self._utc_day(Feedback.voted_at)
        per_day = {
            ("questions", "abstained"): select(
                asked, func.count(), func.sum(case((LoggedQuestion.abstained, 1), else_=0))
            )
            .where(within(LoggedQuestion.asked_at))
            .group_by(asked),
            ("escalated",): select(opened, func.count())
            .where(within(Ticket.opened_at))
            .group_by(opened),
            ("helpful", "unhelpful"): select(
                voted,
                func.sum(case((Feedback.vote == 1, 1), else_=0)),
                func.sum(case((Feedback.vote == -1, 1), else_=0)),
            )
            .where(within(Feedback.voted_at))
            .group_by(voted),
        }
        counts: dict[date, dict[str, int]] = {}
        async with self._engine.connect() as connection:
            for names, statement in per_day.items():
                for day, *values in await connection.execute(statement):
                    found = counts.setdefault(_as_date(day), dict.fromkeys(_DAY_COUNTS, 0))
                    found.update(zip(names, (int(value or 0) for value in values), strict=True))
            by_vote = select(Feedback.vote, func.count()).group_by(Feedback.vote)
            tally = await connection.execute(by_vote)
            votes = {vote: count for vote, count in tally}
            staff = await connection.scalar(select(func.count()).select_from(StaffUser))
        return Stats(
            days=[DayStats(day=day, **counts[day]) for day in sorted(counts, reverse=True)],
            helpful=votes.get(1, 0),
            unhelpful=votes.get(-1, 0),
            staff_users=staff or 0,
        )

    def _utc_day(self, column: InstrumentedAttribute[datetime]) -> ColumnElement[Any]:
        """A timestamp's UTC date: PostgreSQL's date() of a timestamptz would take the
        session's time zone; SQLite stores UTC already. The zone is a literal: as a parameter
        the same expression in SELECT and GROUP BY would be two, and PostgreSQL refuses that."""
        if self._engine.dialect.name == "postgresql":
            return func.date(func.timezone(literal_column("'UTC'"), column))
        return func.date(column)

    async def prune(self) -> int:
        """Forget logged questions older than the retention period, updates handled more than
        a day ago (Telegram keeps undelivered updates for 24 hours), and question allowances
        that are whole again (a missing row is a whole allowance)."""
        self._pruned_at = utc_now()
        async with self._engine.begin() as connection:
            result = await connection.execute(
                delete(LoggedQuestion).where(LoggedQuestion.asked_at < utc_now() - self._retention)
            )
            await connection.execute(
                delete(HandledUpdate).where(
                    HandledUpdate.claimed_at < utc_now() - REDELIVERY_WINDOW
                )
            )
            await connection.execute(delete(QuestionPace).where(QuestionPace.full_at < time.time()))
        if result.rowcount:
            log.info("pruned %d logged questions past their retention", result.rowcount)
        return result.rowcount


def _row(table: type[Base], key: int) -> Select[Any]:
    """The row of `table` with this primary key, all its columns."""
    [column] = table.__table__.primary_key.columns  # type: ignore[attr-defined]
    return select(table.__table__).where(column == key)


def _as_date(day: object) -> date:
    """SQLite's date() is text, PostgreSQL's a date."""
    return day if isinstance(day, date) else date.fromisoformat(str(day)[:10])


def _sqlite_pragmas(connection: sqlite3.Connection, _record: object) -> None:
    # WAL lets readers and one writer overlap; busy_timeout waits for a lock instead of failing.
    # synchronous=NORMAL skips an fsync per commit: a crash loses nothing, a power cut at most
    # the last commits.
    cursor = connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.close()

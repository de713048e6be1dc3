"""The staff loop's state: tickets (a learner's question for a person), the messages that
stand for them in staff and learner chats, the replies, and each learner's chosen branch.

Every change that two replicas could race on is one conditional statement: a ticket per logged
question (a second press finds the first ticket), an announcement claimed before it is posted,
an answer that moves a ticket from open to answered once."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import Select, func, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.store.records import Person, Reply, StaffAnswer, Ticket, record, records
from bot.store.tables import LearnerBranch, TicketMessage, dialect_insert, utc_now
from bot.store.tables import Ticket as TicketTable
from bot.store.tables import TicketReply as ReplyTable

OPEN, ANSWERED, CLOSED, EXPIRED = "open", "answered", "closed", "expired"
# An open ticket nobody answered in this long is expired: the learner was told to ask again.
EXPIRE_AFTER = timedelta(days=30)


@dataclass(frozen=True)
class NewTicket:
    """What a learner's escalation records."""

    question_id: int
    learner_id: int
    learner_chat_id: int
    learner_name: str
    language: str
    question: str
    answer: str
    branch: str | None
    staff_chat_id: int | None  # None: the web workspace is where staff see it
    learner_contact: str | None = None


class Tickets:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def open(self, new: NewTicket) -> tuple[Ticket, bool]:
        """The ticket of the question, and True when this call opened it."""
        values = {
            **asdict(new),
            "state": OPEN,
            "opened_at": utc_now(),
            "learner_unreachable": False,
        }
        statement = (
            dialect_insert(self._engine, TicketTable).values(**values).on_conflict_do_nothing()
        )
        async with self._engine.begin() as connection:
            created = (await connection.execute(statement)).rowcount == 1
            found = select(TicketTable).where(TicketTable.question_id == new.question_id)
            row = (await connection.execute(found)).one()
        return record(Ticket, row), created

    async def get(self, ticket_id: int) -> Ticket | None:
        async with self._engine.connect() as connection:
            found = select(TicketTable).where(TicketTable.id == ticket_id)
            row = (await connection.execute(found)).first()
        return None if row is None else record(Ticket, row)

    async def claim_announcement(self, ticket_id: int, reminder: bool = False) -> bool:
        """True for the one caller that may post the ticket (or its reminder) now."""
        column = TicketTable.reminded_at if reminder else TicketTable.announced_at
        statement = (
            update(TicketTable)
            .where(TicketTable.id == ticket_id, column.is_(None), TicketTable.state == OPEN)
            .values({column: utc_now()})
        )
        async with self._engine.begin() as connection:
            return (await connection.execute(statement)).rowcount == 1

    async def release_announcement(self, ticket_id: int) -> None:
        """The post failed: the ticket waits to be announced again."""
        statement = update(TicketTable).where(TicketTable.id == ticket_id).values(announced_at=None)
        async with self._engine.begin() as connection:
            await connection.execute(statement)

    async def add_message(self, ticket_id: int, chat_id: int, message_id: int, kind: str) -> None:
        statement = dialect_insert(self._engine, TicketMessage).values(
            chat_id=chat_id, message_id=message_id, ticket_id=ticket_id, kind=kind
        )
        async with self._engine.begin() as connection:
            await connection.execute(statement.on_conflict_do_nothing())

    async def by_message(self, chat_id: int, message_id: int) -> tuple[Ticket, str] | None:
        """The ticket a message stands for, with the message's kind."""
        statement = (
            select(TicketTable, TicketMessage.kind)
            .join(TicketMessage, TicketMessage.ticket_id == TicketTable.id)
            .where(TicketMessage.chat_id == chat_id, TicketMessage.message_id == message_id)
        )
        async with self._engine.connect() as connection:
            row = (await connection.execute(statement)).first()
        return None if row is None else (record(Ticket, row), row.kind)

    async def add_reply(
        self,
        ticket_id: int,
        author: Person,
        from_staff: bool,
        text: str,
        *,
        delivered: bool = True,
        kind: str = "answer",
    ) -> tuple[int, bool]:
        """Record a reply: its id, and True when it is a staff answer that answered an open
        ticket (a later one is kind "addition"). An undelivered one waits for its channel's
        rounds (`undelivered`)."""
        now = utc_now()
        async with self._engine.begin() as connection:
            first = False
            if from_staff:
                answered = (
                    update(TicketTable)
                    .where(TicketTable.id == ticket_id, TicketTable.state == OPEN)
                    .values(state=ANSWERED, answered_at=now)
                )
                first = (await connection.execute(answered)).rowcount == 1
                if kind == "answer" and not first:
                    kind = "addition"
            added = await connection.execute(
                dialect_insert(self._engine, ReplyTable)
                .values(
                    ticket_id=ticket_id,
                    author_id=author.telegram_id,
                    author_account_id=author.account_id,
                    from_staff=from_staff,
                    kind=kind,
                    text=text,
                    sent_at=now,
                    delivered_at=now if delivered else None,
                )
                .returning(ReplyTable.id)
            )
            return int(added.scalar_one()), first

    async def reply(self, reply_id: int) -> StaffAnswer | None:
        """A staff reply with its ticket's question and language."""
        statement = _staff_answers().where(ReplyTable.id == reply_id)
        async with self._engine.connect() as connection:
            row = (await connection.execute(statement)).first()
        return None if row is None else record(StaffAnswer, row)

    async def undelivered(self, limit: int = 50, reply_id: int | None = None) -> list[StaffAnswer]:
        """Staff answers still to be delivered in their learner's channel (that one, if
        `reply_id`), oldest first."""
        statement = _staff_answers().where(ReplyTable.delivered_at.is_(None)).limit(limit)
        if reply_id is not None:
            statement = statement.where(ReplyTable.id == reply_id)
        async with self._engine.connect() as connection:
            return records(StaffAnswer, await connection.execute(statement))

    async def claim_delivery(self, reply_id: int) -> bool:
        """True for the one caller that may deliver the answer now."""
        statement = (
            update(ReplyTable)
            .where(ReplyTable.id == reply_id, ReplyTable.delivered_at.is_(None))
            .values(delivered_at=utc_now())
        )
        async with self._engine.begin() as connection:
            return (await connection.execute(statement)).rowcount == 1

    async def release_delivery(self, reply_id: int) -> None:
        """The delivery failed for now: the next round tries again."""
        statement = update(ReplyTable).where(ReplyTable.id == reply_id).values(delivered_at=None)
        async with self._engine.begin() as connection:
            await connection.execute(statement)

    async def mark_unreachable(self, ticket_id: int) -> None:
        statement = (
            update(TicketTable).where(TicketTable.id == ticket_id).values(learner_unreachable=True)
        )
        async with self._engine.begin() as connection:
            await connection.execute(statement)

    async def close(self, ticket_id: int) -> bool:
        statement = (
            update(TicketTable)
            .where(TicketTable.id == ticket_id, TicketTable.state.in_((OPEN, ANSWERED)))
            .values(state=CLOSED, closed_at=utc_now())
        )
        async with self._engine.begin() as connection:
            return (await connection.execute(statement)).rowcount == 1

    async def open_tickets(self, staff_chat_id: int | None = None) -> list[Ticket]:
        """Open tickets, oldest first (of one staff chat, if given)."""
        statement = (
            select(TicketTable).where(TicketTable.state == OPEN).order_by(TicketTable.opened_at)
        )
        if staff_chat_id is not None:
            statement = statement.where(TicketTable.staff_chat_id == staff_chat_id)
        async with self._engine.connect() as connection:
            return records(Ticket, await connection.execute(statement))

    async def count_by_state(self) -> dict[str, int]:
        """How many tickets are in each state (every state named, 0 included)."""
        statement = select(TicketTable.state, func.count()).group_by(TicketTable.state)
        async with self._engine.connect() as connection:
            found = dict((await connection.execute(statement)).tuples().all())
        return {state: int(found.get(state, 0)) for state in (OPEN, ANSWERED, CLOSED, EXPIRED)}

    async def of_learner_chat(self, learner_chat_id: int, limit: int = 50) -> list[Ticket]:
        """The tickets a learner's conversation opened, oldest first."""
        statement = (
            select(TicketTable)
            .where(TicketTable.learner_chat_id == learner_chat_id)
            .order_by(TicketTable.id)
            .limit(limit)
        )
        async with self._engine.connect() as connection:
            return records(Ticket, await connection.execute(statement))

    async def for_workspace(
        self, branch: str | None, since: timedelta, limit: int = 100
    ) -> list[Ticket]:
        """What a branch's staff see (all branches' for None): open tickets, then the others
        opened within `since`, oldest first in each. Tickets of no branch go to every branch."""
        statement = select(TicketTable).where(
            (TicketTable.state == OPEN) | (TicketTable.opened_at >= utc_now() - since)
        )
        if branch is not None:
            statement = statement.where(
                (TicketTable.branch == branch) | TicketTable.branch.is_(None)
            )
        statement = statement.order_by(
            TicketTable.state != OPEN, TicketTable.opened_at, TicketTable.id
        )
        statement = statement.limit(limit)
        async with self._engine.connect() as connection:
            return records(Ticket, await connection.execute(statement))

    async def replies_to(self, ticket_ids: list[int]) -> list[Reply]:
        """Every reply (staff answers and learners' follow-ups) to these tickets, in order."""
        if not ticket_ids:
            return []
        statement = (
            select(ReplyTable).where(ReplyTable.ticket_id.in_(ticket_ids)).order_by(ReplyTable.id)
        )
        async with self._engine.connect() as connection:
            return records(Reply, await connection.execute(statement))

    async def of_learner(self, learner_id: int, limit: int = 10) -> list[Ticket]:
        """A learner's own tickets, newest first."""
        statement = (
            select(TicketTable)
            .where(TicketTable.learner_id == learner_id)
            .order_by(TicketTable.opened_at.desc())
            .limit(limit)
        )
        async with self._engine.connect() as connection:
            return records(Ticket, await connection.execute(statement))

    async def staff_replies(self, learner_id: int, after: int = 0) -> list[StaffAnswer]:
        """Staff answers to a learner's tickets with ids above `after`, oldest first (what a
        web page that polls shows)."""
        statement = (
            _staff_answers()
            .where(TicketTable.learner_id == learner_id, ReplyTable.id > after)
            .limit(50)
        )
        async with self._engine.connect() as connection:
            return records(StaffAnswer, await connection.execute(statement))

    async def waiting(self, remind_after: timedelta) -> tuple[list[Ticket], list[Ticket]]:
        """Open tickets not yet posted to their staff chat, and those due their one reminder."""
        due = utc_now() - remind_after
        async with self._engine.connect() as connection:
            posted_to_a_chat = TicketTable.staff_chat_id.is_not(None)
            unposted = select(TicketTable).where(
                TicketTable.state == OPEN, TicketTable.announced_at.is_(None), posted_to_a_chat
            )
            reminders = select(TicketTable).where(
                TicketTable.state == OPEN,
                TicketTable.announced_at < due,
                TicketTable.reminded_at.is_(None),
                posted_to_a_chat,
            )
            return (
                records(Ticket, await connection.execute(unposted.order_by(TicketTable.opened_at))),
                records(
                    Ticket, await connection.execute(reminders.order_by(TicketTable.opened_at))
                ),
            )

    async def expire(self) -> int:
        """Open tickets older than EXPIRE_AFTER become expired; how many did."""
        statement = (
            update(TicketTable)
            .where(TicketTable.state == OPEN, TicketTable.opened_at < utc_now() - EXPIRE_AFTER)
            .values(state=EXPIRED, closed_at=utc_now())
        )
        async with self._engine.begin() as connection:
            return (await connection.execute(statement)).rowcount

    async def branch_of(self, user_id: int) -> str | None:
        async with self._engine.connect() as connection:
            return await connection.scalar(
                select(LearnerBranch.branch).where(LearnerBranch.user_id == user_id)
            )

    async def choose_branch(self, user_id: int, branch: str) -> None:
        statement = dialect_insert(self._engine, LearnerBranch).values(
            user_id=user_id, branch=branch, chosen_at=utc_now()
        )
        statement = statement.on_conflict_do_update(
            index_elements=["user_id"], set_={"branch": branch, "chosen_at": utc_now()}
        )
        async with self._engine.begin() as connection:
            await connection.execute(statement)


def _staff_answers() -> Select[Any]:
    """Staff replies with what their learner's channel needs to show them, oldest first."""
    return (
        select(ReplyTable.id, ReplyTable.ticket_id, ReplyTable.kind, ReplyTable.text)
        .add_columns(ReplyTable.sent_at, TicketTable.question, TicketTable.language)
        .add_columns(TicketTable.branch, TicketTable.learner_chat_id)
        .join(TicketTable, TicketTable.id == ReplyTable.ticket_id)
        .where(ReplyTable.from_staff.is_(True))
        .order_by(ReplyTable.id)
    )

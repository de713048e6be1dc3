"""The staff loop's state: tickets (a learner's question for a person), the messages that
stand for them in staff and learner chats, the replies, and each learner's chosen branch.

Every change that two replicas could race on is one conditional statement: a ticket per logged
question (a second press finds the first ticket), an announcement claimed before it is posted,
an answer that moves a ticket from open to answered once."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import timedelta

from sqlalchemy import Row, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.store.tables import (
    Base,
    LearnerBranch,
    Ticket,
    TicketMessage,
    TicketReply,
    dialect_insert,
    utc_now,
)

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


class Tickets:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    def _insert(self, table: type[Base]):  # the dialect's own Insert, with on_conflict_*
        return dialect_insert(self._engine, table)

    async def open(self, new: NewTicket) -> tuple[Row, bool]:
        """The ticket of the question, and True when this call opened it."""
        values = {
            **asdict(new),
            "state": OPEN,
            "opened_at": utc_now(),
            "learner_unreachable": False,
        }
        statement = self._insert(Ticket).values(**values).on_conflict_do_nothing()
        async with self._engine.begin() as connection:
            created = (await connection.execute(statement)).rowcount == 1
            found = select(Ticket).where(Ticket.question_id == new.question_id)
            row = (await connection.execute(found)).one()
        return row, created

    async def get(self, ticket_id: int) -> Row | None:
        async with self._engine.connect() as connection:
            found = select(Ticket).where(Ticket.id == ticket_id)
            return (await connection.execute(found)).first()

    async def claim_announcement(self, ticket_id: int, reminder: bool = False) -> bool:
        """True for the one caller that may post the ticket (or its reminder) now."""
        column = Ticket.reminded_at if reminder else Ticket.announced_at
        statement = (
            update(Ticket)
            .where(Ticket.id == ticket_id, column.is_(None), Ticket.state == OPEN)
            .values({column: utc_now()})
        )
        async with self._engine.begin() as connection:
            return (await connection.execute(statement)).rowcount == 1

    async def release_announcement(self, ticket_id: int) -> None:
        """The post failed: the ticket waits to be announced again."""
        statement = update(Ticket).where(Ticket.id == ticket_id).values(announced_at=None)
        async with self._engine.begin() as connection:
            await connection.execute(statement)

    async def add_message(self, ticket_id: int, chat_id: int, message_id: int, kind: str) -> None:
        statement = self._insert(TicketMessage).values(
            chat_id=chat_id, message_id=message_id, ticket_id=ticket_id, kind=kind
        )
        async with self._engine.begin() as connection:
            await connection.execute(statement.on_conflict_do_nothing())

    async def by_message(self, chat_id: int, message_id: int) -> tuple[Row, str] | None:
        """The ticket a message stands for, with the message's kind."""
        statement = (
            select(Ticket, TicketMessage.kind)
            .join(TicketMessage, TicketMessage.ticket_id == Ticket.id)
            .where(TicketMessage.chat_id == chat_id, TicketMessage.message_id == message_id)
        )
        async with self._engine.connect() as connection:
            row = (await connection.execute(statement)).first()
        return None if row is None else (row, row.kind)

    async def add_reply(
        self,
        ticket_id: int,
        author_id: int,
        from_staff: bool,
        text: str,
        *,
        account_id: int | None = None,
        delivered: bool = True,
    ) -> tuple[int, bool]:
        """Record a reply: its id, and True when it is a staff answer that answered an open
        ticket. An undelivered one waits for its channel's rounds (`undelivered`)."""
        now = utc_now()
        async with self._engine.begin() as connection:
            added = await connection.execute(
                self._insert(TicketReply)
                .values(
                    ticket_id=ticket_id,
                    author_id=author_id,
                    author_account_id=account_id,
                    from_staff=from_staff,
                    text=text,
                    sent_at=now,
                    delivered_at=now if delivered else None,
                )
                .returning(TicketReply.id)
            )
            reply_id = int(added.scalar_one())
            if not from_staff:
                return reply_id, False
            answered = (
                update(Ticket)
                .where(Ticket.id == ticket_id, Ticket.state == OPEN)
                .values(state=ANSWERED, answered_at=utc_now())
            )
            return reply_id, (await connection.execute(answered)).rowcount == 1

    async def reply(self, reply_id: int) -> Row | None:
        """A staff reply with its ticket's question and language."""
        statement = (
            select(TicketReply, Ticket.question, Ticket.language)
            .join(Ticket, Ticket.id == TicketReply.ticket_id)
            .where(TicketReply.id == reply_id, TicketReply.from_staff.is_(True))
        )
        async with self._engine.connect() as connection:
            return (await connection.execute(statement)).first()

    async def undelivered(self, limit: int = 50) -> list[Row]:
        """Staff answers still to be delivered, oldest first, each with its ticket's learner
        chat, language, branch and the state the answer found it in."""
        statement = (
            select(TicketReply.id, TicketReply.text, TicketReply.ticket_id)
            .add_columns(Ticket.learner_chat_id, Ticket.language, Ticket.branch)
            .join(Ticket, Ticket.id == TicketReply.ticket_id)
            .where(TicketReply.from_staff.is_(True), TicketReply.delivered_at.is_(None))
            .order_by(TicketReply.id)
            .limit(limit)
        )
        async with self._engine.connect() as connection:
            return list((await connection.execute(statement)).all())

    async def claim_delivery(self, reply_id: int) -> bool:
        """True for the one caller that may deliver the answer now."""
        statement = (
            update(TicketReply)
            .where(TicketReply.id == reply_id, TicketReply.delivered_at.is_(None))
            .values(delivered_at=utc_now())
        )
        async with self._engine.begin() as connection:
            return (await connection.execute(statement)).rowcount == 1

    async def release_delivery(self, reply_id: int) -> None:
        """The delivery failed for now: the next round tries again."""
        statement = update(TicketReply).where(TicketReply.id == reply_id).values(delivered_at=None)
        async with self._engine.begin() as connection:
            await connection.execute(statement)

    async def mark_unreachable(self, ticket_id: int) -> None:
        statement = update(Ticket).where(Ticket.id == ticket_id).values(learner_unreachable=True)
        async with self._engine.begin() as connection:
            await connection.execute(statement)

    async def close(self, ticket_id: int) -> bool:
        statement = (
            update(Ticket)
            .where(Ticket.id == ticket_id, Ticket.state.in_((OPEN, ANSWERED)))
            .values(state=CLOSED, closed_at=utc_now())
        )
        async with self._engine.begin() as connection:
            return (await connection.execute(statement)).rowcount == 1

    async def open_tickets(self, staff_chat_id: int | None = None) -> list[Row]:
        """Open tickets, oldest first (of one staff chat, if given)."""
        statement = select(Ticket).where(Ticket.state == OPEN).order_by(Ticket.opened_at)
        if staff_chat_id is not None:
            statement = statement.where(Ticket.staff_chat_id == staff_chat_id)
        async with self._engine.connect() as connection:
            return list((await connection.execute(statement)).all())

    async def for_workspace(
        self, branch: str | None, since: timedelta, limit: int = 100
    ) -> list[Row]:
        """What a branch's staff see (all branches' for None): open tickets, then the others
        opened within `since`, oldest first in each. Tickets of no branch go to every branch."""
        statement = select(Ticket).where(
            (Ticket.state == OPEN) | (Ticket.opened_at >= utc_now() - since)
        )
        if branch is not None:
            statement = statement.where((Ticket.branch == branch) | Ticket.branch.is_(None))
        statement = statement.order_by(Ticket.state != OPEN, Ticket.opened_at, Ticket.id)
        statement = statement.limit(limit)
        async with self._engine.connect() as connection:
            return list((await connection.execute(statement)).all())

    async def replies_to(self, ticket_ids: list[int]) -> list[Row]:
        """Every reply (staff answers and learners' follow-ups) to these tickets, in order."""
        if not ticket_ids:
            return []
        statement = (
            select(TicketReply)
            .where(TicketReply.ticket_id.in_(ticket_ids))
            .order_by(TicketReply.id)
        )
        async with self._engine.connect() as connection:
            return list((await connection.execute(statement)).all())

    async def of_learner(self, learner_id: int, limit: int = 10) -> list[Row]:
        """A learner's own tickets, newest first."""
        statement = (
            select(Ticket)
            .where(Ticket.learner_id == learner_id)
            .order_by(Ticket.opened_at.desc())
            .limit(limit)
        )
        async with self._engine.connect() as connection:
            return list((await connection.execute(statement)).all())

    async def staff_replies(self, learner_id: int, after: int = 0) -> list[Row]:
        """Staff answers to a learner's tickets with ids above `after`, oldest first, each with
        its ticket's question (what a web page that polls shows)."""
        statement = (
            select(TicketReply.id, TicketReply.text, TicketReply.sent_at, Ticket.question)
            .add_columns(Ticket.id.label("ticket_id"), Ticket.branch, Ticket.language)
            .join(Ticket, Ticket.id == TicketReply.ticket_id)
            .where(
                Ticket.learner_id == learner_id,
                TicketReply.from_staff.is_(True),
                TicketReply.id > after,
            )
            .order_by(TicketReply.id)
            .limit(50)
        )
        async with self._engine.connect() as connection:
            return list((await connection.execute(statement)).all())

    async def waiting(self, remind_after: timedelta) -> tuple[list[Row], list[Row]]:
        """Open tickets not yet posted to their staff chat, and those due their one reminder."""
        due = utc_now() - remind_after
        async with self._engine.connect() as connection:
            posted_to_a_chat = Ticket.staff_chat_id.is_not(None)
            unposted = select(Ticket).where(
                Ticket.state == OPEN, Ticket.announced_at.is_(None), posted_to_a_chat
            )
            reminders = select(Ticket).where(
                Ticket.state == OPEN,
                Ticket.announced_at < due,
                Ticket.reminded_at.is_(None),
                posted_to_a_chat,
            )
            return (
                list((await connection.execute(unposted.order_by(Ticket.opened_at))).all()),
                list((await connection.execute(reminders.order_by(Ticket.opened_at))).all()),
            )

    async def expire(self) -> int:
        """Open tickets older than EXPIRE_AFTER become expired; how many did."""
        statement = (
            update(Ticket)
            .where(Ticket.state == OPEN, Ticket.opened_at < utc_now() - EXPIRE_AFTER)
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
        statement = self._insert(LearnerBranch).values(
            user_id=user_id, branch=branch, chosen_at=utc_now()
        )
        statement = statement.on_conflict_do_update(
            index_elements=["user_id"], set_={"branch": branch, "chosen_at": utc_now()}
        )
        async with self._engine.begin() as connection:
            await connection.execute(statement)

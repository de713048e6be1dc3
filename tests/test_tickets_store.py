"""The staff loop's tickets in the store, on SQLite and PostgreSQL: one ticket per question,
one announcement, state changes once, and two replicas on one database agreeing."""

import asyncio
import dataclasses
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import update

from bot.store import records
from bot.store.database import Store
from bot.store.tables import Ticket
from bot.store.tickets import EXPIRE_AFTER, NewTicket


def _new(question_id: int, learner: int = 5, staff_chat: int = -100) -> NewTicket:
    return NewTicket(
        question_id=question_id,
        learner_id=learner,
        learner_chat_id=learner,
        learner_name="Learner <b>",
        language="en",
        question="Is there a dormitory?",
        answer="The documents do not cover it.",
        branch=None,
        staff_chat_id=staff_chat,
    )


async def test_a_question_has_one_ticket_however_often_it_is_escalated(store):
    results = await asyncio.gather(*(store.tickets.open(_new(1)) for _ in range(10)))
    assert sum(created for _, created in results) == 1
    assert len({row.id for row, _ in results}) == 1
    row = results[0][0]
    assert row.state == "open" and row.announced_at is None and row.learner_name == "Learner <b>"


async def test_tickets_and_replies_come_up_as_frozen_records_with_utc_times(store):
    ticket, _ = await store.tickets.open(_new(8))
    assert isinstance(ticket, records.Ticket) and ticket.opened_at.tzinfo is not None
    with pytest.raises(dataclasses.FrozenInstanceError):
        ticket.state = "closed"  # type: ignore[misc]
    reply_id, first = await store.tickets.add_reply(
        ticket.id, records.Person(99, account_id=3), True, "Yes.", delivered=False
    )
    assert first
    [waiting] = await store.tickets.undelivered()
    assert waiting == records.StaffAnswer(
        id=reply_id,
        ticket_id=ticket.id,
        kind="answer",
        text="Yes.",
        sent_at=waiting.sent_at,
        question="Is there a dormitory?",
        language="en",
        branch=None,
        learner_chat_id=5,
    )
    assert await store.tickets.reply(reply_id) == waiting
    [reply] = await store.tickets.replies_to([ticket.id])
    assert isinstance(reply, records.Reply) and reply.delivered_at is None
    assert reply.author == records.Person(99, account_id=3)


async def test_an_announcement_is_claimed_once_and_released_when_posting_fails(store):
    ticket, _ = await store.tickets.open(_new(2))
    claims = await asyncio.gather(*(store.tickets.claim_announcement(ticket.id) for _ in range(8)))
    assert claims.count(True) == 1
    unposted, _ = await store.tickets.waiting(timedelta(hours=1))
    assert ticket.id not in {row.id for row in unposted}
    await store.tickets.release_announcement(ticket.id)
    unposted, _ = await store.tickets.waiting(timedelta(hours=1))
    assert ticket.id in {row.id for row in unposted}


async def test_answers_move_a_ticket_to_answered_once(store):
    ticket, _ = await store.tickets.open(_new(3))
    learner, staff = records.Person(5), records.Person(99)
    assert (await store.tickets.add_reply(ticket.id, learner, False, "follow-up"))[1] is False
    first = await asyncio.gather(
        *(store.tickets.add_reply(ticket.id, staff, True, "a") for _ in "ab")
    )
    assert sorted(answered for _, answered in first) == [False, True]
    row = await store.tickets.get(ticket.id)
    assert row.state == "answered" and row.answered_at is not None
    assert await store.tickets.close(ticket.id) is True
    assert await store.tickets.close(ticket.id) is False
    assert (await store.tickets.get(ticket.id)).state == "closed"


async def test_messages_map_back_to_their_ticket(store):
    ticket, _ = await store.tickets.open(_new(4))
    await store.tickets.add_message(ticket.id, -100, 700, "announcement")
    await store.tickets.add_message(ticket.id, -100, 700, "announcement")  # twice: no error
    await store.tickets.add_message(ticket.id, 5, 701, "relay")
    found, kind = await store.tickets.by_message(-100, 700)
    assert found.id == ticket.id and kind == "announcement"
    assert (await store.tickets.by_message(5, 701))[1] == "relay"
    assert await store.tickets.by_message(-100, 701) is None


async def test_open_tickets_oldest_first_and_a_learner_sees_only_theirs(store):
    first, _ = await store.tickets.open(_new(5, learner=6))
    second, _ = await store.tickets.open(_new(6, learner=7, staff_chat=-200))
    assert [r.id for r in await store.tickets.open_tickets()][-2:] == [first.id, second.id]
    assert [r.id for r in await store.tickets.open_tickets(-200)] == [second.id]
    assert [r.id for r in await store.tickets.of_learner(7)] == [second.id]


async def test_reminders_fall_due_once_and_old_tickets_expire(store, database_url):
    ticket, _ = await store.tickets.open(_new(7))
    assert await store.tickets.claim_announcement(ticket.id)
    _, due = await store.tickets.waiting(timedelta(0))
    assert ticket.id in {row.id for row in due}
    assert await store.tickets.claim_announcement(ticket.id, reminder=True)
    assert not await store.tickets.claim_announcement(ticket.id, reminder=True)
    _, due = await store.tickets.waiting(timedelta(0))
    assert ticket.id not in {row.id for row in due}
    old = datetime.now(UTC) - EXPIRE_AFTER - timedelta(hours=1)
    async with store._engine.begin() as connection:
        await connection.execute(update(Ticket).where(Ticket.id == ticket.id).values(opened_at=old))
    assert await store.tickets.expire() == 1
    assert (await store.tickets.get(ticket.id)).state == "expired"


async def test_two_replicas_on_one_database_agree(database_url):
    first, second = await Store.open(database_url), await Store.open(database_url)
    try:
        opened = await asyncio.gather(
            *(replica.tickets.open(_new(n)) for n in range(20, 70) for replica in (first, second))
        )
        assert sum(created for _, created in opened) == 50
        tickets = {row.id for row, _ in opened}
        claims = await asyncio.gather(
            *(r.tickets.claim_announcement(t) for t in tickets for r in (first, second))
        )
        assert claims.count(True) == 50  # each posted by one replica only
        await first.tickets.choose_branch(5, "Chengdu-Jinniu")
        assert await second.tickets.branch_of(5) == "Chengdu-Jinniu"
    finally:
        await first.close()
        await second.close()

"""The staff loop's rounds on a real database (SQLite and PostgreSQL): one process per channel
at a time holds the lease, tickets are posted and answers delivered once each, a channel that
fails keeps them for the next round, an unreachable learner is recorded. The channel is a
recording notifier: the rounds are what is under test."""

import asyncio
from datetime import timedelta

from bot.services.rounds import POSTS_PER_ROUND, Delivery, Rounds
from bot.store.records import Person
from bot.store.tickets import NewTicket

WEB_LEARNER = -(1 << 60)  # a web conversation's id: its page fetches answers itself
WEB_STAFF = Person(account_id=1)  # staff who answer in the web workspace


class Recorder:
    channel = "telegram"

    def __init__(self, delivery=Delivery.SENT, reachable=True):
        self.announced: list[tuple[int, bool]] = []
        self.delivered: list[int] = []
        self.delivery = delivery
        self.reachable = reachable

    def reaches(self, learner_chat_id):
        return learner_chat_id > WEB_LEARNER

    async def announce(self, ticket, reminder):
        if not self.reachable:
            return False
        self.announced.append((ticket.id, reminder))
        return True

    async def deliver(self, reply):
        self.delivered.append(reply.id)
        return self.delivery


async def _ticket(store, learner, staff_chat_id=-100):
    question_id = await store.log_question(
        user_id=learner,
        chat_id=learner,
        question="Can I sit the exam at another branch?",
        answer="The documents do not cover this.",
        language="en",
        abstained=True,
        latency_ms=1.0,
        sources=[],
    )
    ticket, _ = await store.tickets.open(
        NewTicket(
            question_id=question_id,
            learner_id=learner,
            learner_chat_id=learner,
            learner_name="Li",
            language="en",
            question="Can I sit the exam at another branch?",
            answer="The documents do not cover this.",
            branch=None,
            staff_chat_id=staff_chat_id,
        )
    )
    return ticket


def _rounds(store, notifier, every_s=60.0):
    return Rounds(store, notifier, every_s, remind_after=timedelta(hours=24))


async def test_one_replica_holds_the_lease_and_each_ticket_is_posted_once(store):
    posted, workspace_only = await _ticket(store, 11), await _ticket(store, 12, None)
    first, second = Recorder(), Recorder()
    holder = _rounds(store, first)
    assert await holder.run_once()
    assert not await _rounds(store, second).run_once()  # the other replica waits its turn
    assert first.announced == [(posted.id, False)] and second.announced == []
    assert (await store.tickets.get(workspace_only.id)).announced_at is None  # no chat to post
    assert await holder.run_once()  # the holder renews its lease; nothing is posted twice
    assert first.announced == [(posted.id, False)]


async def test_a_lapsed_lease_passes_to_another_process(store):
    await _ticket(store, 13)
    holder = _rounds(store, Recorder(reachable=False), every_s=0.001)  # its lease lasts 3 ms
    assert await holder.run_once()
    await asyncio.sleep(0.01)
    taker = Recorder()
    assert await _rounds(store, taker).run_once()
    assert len(taker.announced) == 1  # what the chat could not take before


async def test_workspace_answers_are_delivered_once_and_kept_when_the_channel_fails(store):
    telegram_ticket = await _ticket(store, 14)
    web_ticket = await _ticket(store, WEB_LEARNER - 5)
    reply, _ = await store.tickets.add_reply(
        telegram_ticket.id, WEB_STAFF, True, "Yes, at any branch.", delivered=False
    )
    await store.tickets.add_reply(web_ticket.id, WEB_STAFF, True, "On your page.")
    channel = Recorder(delivery=Delivery.LATER)
    rounds = _rounds(store, channel)
    assert await rounds.run_once()
    assert channel.delivered == [reply]
    assert [r.id for r in await store.tickets.undelivered()] == [reply]  # kept for later

    channel.delivery = Delivery.SENT  # the channel is back
    assert await rounds.run_once()
    assert await rounds.run_once()
    assert channel.delivered == [reply, reply]  # once more; the web answer is not the channel's
    assert await store.tickets.undelivered() == []
    assert (await store.tickets.get(telegram_ticket.id)).state == "answered"


async def test_an_unreachable_learner_is_recorded(store):
    ticket = await _ticket(store, 15)
    await store.tickets.add_reply(ticket.id, WEB_STAFF, True, "Yes.", delivered=False)
    assert await _rounds(store, Recorder(delivery=Delivery.UNREACHABLE)).run_once()
    assert (await store.tickets.get(ticket.id)).learner_unreachable
    assert await store.tickets.undelivered() == []  # given up, not retried forever


async def test_a_backlog_is_spread_over_rounds_new_tickets_first(store):
    for learner in range(20, 27):
        await _ticket(store, learner)
    channel = Recorder()
    rounds = _rounds(store, channel)
    assert await rounds.run_once()
    assert len(channel.announced) == POSTS_PER_ROUND
    assert await rounds.run_once()
    assert len(channel.announced) == 7 and not any(reminder for _, reminder in channel.announced)

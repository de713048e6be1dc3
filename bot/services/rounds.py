"""The staff loop's rounds, for every channel: post the tickets a staff chat could not take yet,
remind once of those left open, deliver staff answers written elsewhere (the web workspace) to
learners in this channel, and expire the abandoned. One process per channel runs them at a time:
whichever holds the channel's lease in the database, so replicas take turns and a web-only
deployment has them too."""

from __future__ import annotations

import asyncio
import enum
import logging
import secrets
from datetime import timedelta
from typing import Protocol

from bot.store.database import Store
from bot.store.records import StaffAnswer, Ticket
from bot.store.tickets import EXPIRE_AFTER

log = logging.getLogger(__name__)

# Posts to staff chats per round, new tickets before reminders: a chat's posts are paced
# (Telegram allows a group 20 a minute), so a backlog is spread over rounds and never holds
# up the next round's deliveries to learners.
POSTS_PER_ROUND = 5


class Delivery(enum.Enum):
    SENT = "sent"
    UNREACHABLE = "unreachable"  # the learner blocked the channel: given up, recorded
    LATER = "later"  # the channel failed for now: the next round tries again


class Notifier(Protocol):
    """What a channel does for the rounds."""

    channel: str

    def reaches(self, chat_id: int) -> bool:
        """Whether a chat is this channel's: a learner who asked here, a staff chat here."""

    async def announce(self, ticket: Ticket, reminder: bool) -> bool:
        """Post the ticket (or its reminder) to its staff chat; False when it cannot now.
        Called through `post_ticket`, which makes sure it is posted once."""

    async def deliver(self, reply: StaffAnswer) -> Delivery:
        """Send a staff answer (a row of `Tickets.undelivered`) to its learner."""


async def post_ticket(
    store: Store, notifier: Notifier, ticket: Ticket, reminder: bool = False
) -> bool:
    """Post the ticket (or its one reminder) to its staff chat, once across processes; False
    when the chat cannot be reached: an unposted ticket then waits for the next round. True
    when it is not this channel's chat (its own channel's rounds post it)."""
    if ticket.staff_chat_id is None or not notifier.reaches(ticket.staff_chat_id):
        return True
    tickets = store.tickets
    if not await tickets.claim_announcement(ticket.id, reminder):
        return True  # another replica (or round) has it
    if await notifier.announce(ticket, reminder):
        return True
    if not reminder:
        await tickets.release_announcement(ticket.id)
    return False


class Rounds:
    def __init__(
        self, store: Store, notifier: Notifier | None, every_s: float, remind_after: timedelta
    ) -> None:
        self._store = store
        self._notifier = notifier
        self._every_s = every_s
        self._remind_after = remind_after
        self._lease = f"rounds:{notifier.channel if notifier is not None else 'core'}"
        self._holder = secrets.token_hex(8)

    async def run_once(self) -> bool:
        """One round, if this process holds the lease; whether it did."""
        lease_lasts = timedelta(seconds=3 * self._every_s)
        if not await self._store.leases.take(self._lease, self._holder, lease_lasts):
            return False
        if self._notifier is not None:
            # Learners waiting for an answer first: a staff group's posts are paced (Telegram
            # allows a group 20 a minute), and a backlog of reminders can fill a round.
            await self._deliver(self._notifier)
            await self._announce(self._notifier)
        expired = await self._store.tickets.expire()
        if expired:
            log.info("%d tickets expired after %s open", expired, EXPIRE_AFTER)
        return True

    async def keep_running(self) -> None:
        """A round every `every_s` seconds until cancelled."""
        while True:
            await asyncio.sleep(self._every_s)
            try:
                await self.run_once()
            except Exception:  # a database hiccup: log it and try again next round
                log.exception("the staff loop's round failed")

    async def _announce(self, notifier: Notifier) -> None:
        unposted, due = await self._store.tickets.waiting(self._remind_after)
        unposted = [t for t in unposted if t.staff_chat_id and notifier.reaches(t.staff_chat_id)]
        due = [t for t in due if t.staff_chat_id and notifier.reaches(t.staff_chat_id)]
        for ticket in unposted[:POSTS_PER_ROUND]:
            if not await post_ticket(self._store, notifier, ticket):
                return  # the chat is still unreachable: try again next round
        for ticket in due[: max(0, POSTS_PER_ROUND - len(unposted))]:
            await post_ticket(self._store, notifier, ticket, reminder=True)

    async def _deliver(self, notifier: Notifier) -> None:
        for reply in await self._store.tickets.undelivered():
            if await deliver(self._store, notifier, reply) is Delivery.LATER:
                break  # the channel failed for now: the rest wait for the next round


async def deliver(store: Store, notifier: Notifier, reply: StaffAnswer) -> Delivery | None:
    """Send a staff answer (a row of `Tickets.undelivered`) to its learner if they asked in
    the notifier's channel, once across processes; None when it is not this channel's to send
    or was sent meanwhile (a lease that lapsed mid-round, the rounds beside a handler that
    sends at once)."""
    tickets = store.tickets
    if not notifier.reaches(reply.learner_chat_id):
        return None
    if not await tickets.claim_delivery(reply.id):
        return None
    outcome = await notifier.deliver(reply)
    if outcome is Delivery.LATER:
        await tickets.release_delivery(reply.id)
    if outcome is Delivery.UNREACHABLE:
        await tickets.mark_unreachable(reply.ticket_id)
    log.info("ticket %s: %s %s %s", reply.ticket_id, reply.kind, reply.id, outcome.value)
    return outcome


async def deliver_now(store: Store, notifier: Notifier, reply_id: int) -> Delivery | None:
    """Send one staff answer just written (a handler's own, not the next round's); None when
    it is not this channel's to send (a web learner's page fetches it) or was sent already."""
    waiting = await store.tickets.undelivered(reply_id=reply_id)
    return await deliver(store, notifier, waiting[0]) if waiting else None

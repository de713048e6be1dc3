"""What the core's rounds ask of WeCom: post a ticket (or its reminder) to a WeCom staff group,
deliver a staff answer, or a correction, to a learner who asked in WeCom; each as a message of
the bot's own."""

from __future__ import annotations

import logging

from bot.channels import labels
from bot.channels.wecom import texts
from bot.channels.wecom.connection import LongConnection, WeComReplyFailed
from bot.channels.wecom.render import plain, within_limit
from bot.services import staff_loop
from bot.services.core import Core
from bot.services.rounds import Delivery
from bot.store.records import StaffAnswer, Ticket

log = logging.getLogger(__name__)


ANNOUNCED_ANSWER_CHARS = 1500  # the assistant's reply, as far as the staff group shows it


class WeComNotifier:
    channel = "wecom"

    def __init__(self, connection: LongConnection, core: Core) -> None:
        self._connection = connection
        self._core = core

    def reaches(self, chat_id: int) -> bool:
        return staff_loop.is_wecom(chat_id)

    async def announce(self, ticket: Ticket, reminder: bool) -> bool:
        """Post the ticket (or its reminder) to its WeCom staff group; False when the group
        cannot be reached (or is no longer in the settings)."""
        assert ticket.staff_chat_id is not None  # `post_ticket` checked it
        chat = staff_loop.wecom_staff_chats(self._core.settings).get(ticket.staff_chat_id)
        if chat is None:
            log.warning("ticket %s: its WeCom staff group is no longer set", ticket.id)
            return False
        body = texts.ANNOUNCEMENT.format(
            ticket=ticket.id,
            branch=plain(ticket.branch or texts.NO_BRANCH),
            language=ticket.language,
            channel=texts.CHANNELS[staff_loop.channel_of(ticket.learner_chat_id)],
            name=plain(ticket.learner_name),
            question=plain(ticket.question),
            answer=plain(ticket.answer[:ANNOUNCED_ANSWER_CHARS]),
        )
        try:
            await self._connection.push(chat, within_limit(texts.REMINDER * reminder + body), 1)
        except WeComReplyFailed as exc:
            log.warning("ticket %s: WeCom staff group not reachable: %s", ticket.id, exc)
            return False
        log.info("ticket %s posted to a WeCom staff group", ticket.id)
        return True

    async def deliver(self, reply: StaffAnswer) -> Delivery:
        chat = await self._core.store.wecom.name(reply.learner_chat_id)
        if chat is None:  # never recorded: nowhere to send it
            return Delivery.UNREACHABLE
        language = reply.language
        if reply.kind == "correction":
            body = labels.CORRECTION[language].format(
                question=plain(reply.question[:200]), answer=plain(reply.text)
            )
        else:
            template = texts.STAFF_ADDITION if reply.kind == "addition" else texts.STAFF_ANSWER
            branch = reply.branch or labels.ALLIANCE_STAFF[language]
            body = template[language].format(
                branch=plain(branch), ticket=reply.ticket_id, text=plain(reply.text)
            )
        try:
            await self._connection.push(chat, within_limit(body), wait_s=1)
        except WeComReplyFailed as exc:
            log.warning("ticket %s: WeCom did not take the answer: %s", reply.ticket_id, exc)
            return Delivery.LATER if exc.errcode is None else Delivery.UNREACHABLE
        return Delivery.SENT

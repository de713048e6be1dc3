"""What the core's rounds ask of Telegram: post a ticket to its staff chat, deliver a staff
answer or a correction to a learner who asked here."""

from __future__ import annotations

import html
import logging

from telegram.constants import ParseMode
from telegram.error import BadRequest, Forbidden, TelegramError
from telegram.ext import ExtBot

from bot.channels import labels
from bot.channels.telegram import ticket_texts
from bot.channels.telegram.render import shortened
from bot.services import staff_loop
from bot.services.core import Core
from bot.services.rounds import Delivery
from bot.store.records import StaffAnswer, Ticket

log = logging.getLogger(__name__)

ANNOUNCED_ANSWER_CHARS = 1500  # the assistant's reply, as far as the staff chat shows it


class TelegramNotifier:
    """What the core's rounds ask of Telegram."""

    channel = "telegram"

    def __init__(self, bot: ExtBot[None], core: Core) -> None:
        self._bot = bot
        self._core = core

    def reaches(self, chat_id: int) -> bool:
        return not (staff_loop.is_web(chat_id) or staff_loop.is_wecom(chat_id))

    async def announce(self, ticket: Ticket, reminder: bool) -> bool:
        """Post the ticket (or its reminder) to its staff chat; False when the chat cannot be
        reached."""
        chat = ticket.staff_chat_id
        if chat is None:  # a workspace-only ticket: `Tickets.waiting` never hands one out
            return False
        body = ticket_texts.ANNOUNCEMENT.format(
            ticket=ticket.id,
            branch=html.escape(ticket.branch or ticket_texts.NO_BRANCH),
            language=ticket.language,
            name=html.escape(ticket.learner_name),
            question=html.escape(ticket.question),
            answer=html.escape(shortened(ticket.answer, ANNOUNCED_ANSWER_CHARS)),
        )
        if reminder:
            body = ticket_texts.REMINDER + body
        try:
            sent = await self._bot.send_message(chat, body, parse_mode=ParseMode.HTML)
        except TelegramError as exc:
            log.warning("ticket %s: staff chat %s not reachable: %s", ticket.id, chat, exc)
            return False
        await self._core.store.tickets.add_message(ticket.id, chat, sent.message_id, "announcement")
        log.info("ticket %s posted to staff chat %s", ticket.id, chat)
        return True

    async def deliver(self, reply: StaffAnswer) -> Delivery:
        """A staff answer (or addition), or a correction to a 👎'd answer, as a message the
        learner can reply to."""
        language = reply.language
        if reply.kind == "correction":
            body = labels.CORRECTION[language].format(
                question=html.escape(shortened(reply.question, 200)),
                answer=html.escape(reply.text),
            )
        else:
            branch = reply.branch or labels.ALLIANCE_STAFF[language]
            template = (
                ticket_texts.STAFF_ADDITION
                if reply.kind == "addition"
                else ticket_texts.STAFF_ANSWER
            )
            body = template[language].format(
                branch=html.escape(branch), ticket=reply.ticket_id, text=html.escape(reply.text)
            )
        try:
            sent = await self._bot.send_message(
                reply.learner_chat_id, body, parse_mode=ParseMode.HTML
            )
        except (Forbidden, BadRequest) as exc:
            log.warning("ticket %s: learner unreachable: %s", reply.ticket_id, exc)
            return Delivery.UNREACHABLE
        except TelegramError as exc:
            log.warning("ticket %s: answer not delivered yet: %s", reply.ticket_id, exc)
            return Delivery.LATER
        await self._core.store.tickets.add_message(
            reply.ticket_id, reply.learner_chat_id, sent.message_id, "relay"
        )
        return Delivery.SENT

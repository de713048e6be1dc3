"""What the core's rounds ask of WeCom: deliver a staff answer, or a correction, to a learner
who asked in WeCom, as a message of the bot's own. (Tickets reach staff in the web workspace
or a Telegram staff chat; a WeCom staff group is not built yet, so this channel announces
none.)"""

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


class WeComNotifier:
    channel = "wecom"
    announces = False

    def __init__(self, connection: LongConnection, core: Core) -> None:
        self._connection = connection
        self._core = core

    def reaches(self, learner_chat_id: int) -> bool:
        return staff_loop.is_wecom(learner_chat_id)

    async def announce(self, ticket: Ticket, reminder: bool) -> bool:
        return False  # never asked: `announces` is False

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

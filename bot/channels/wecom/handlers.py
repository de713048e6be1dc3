"""What the WeCom bot does with each callback: a learner's message (in a single chat, or a
group that mentions the bot) is a question, answered in a stream: a first line at once, then
the answer with its numbered sources; the welcome event gets the bilingual greeting; in a staff
group, an answer to a ticket goes to the staff desk (`staff.py`), as do /register, /link and
/chatid. Each message is handled once across replicas (its msgid claimed in the store), and one
chat's messages in the order they came."""

from __future__ import annotations

import logging
import re
from datetime import UTC, datetime
from typing import Any

from bot.channels import labels
from bot.channels.wecom import cards, staff, texts
from bot.channels.wecom.connection import LongConnection, WeComReplyFailed, new_req_id
from bot.channels.wecom.render import plain, render_answer, render_sources
from bot.engine.answering import question_language
from bot.engine.results import audiences_for
from bot.services.asking import Asked, Asker, SlowDown, TooLong
from bot.services.core import Core
from bot.services.in_order import InOrder
from bot.services.staff_loop import wecom_id
from bot.store.records import Logged

log = logging.getLogger(__name__)

# The mention a group message starts with ("@Assistant ", "＠Assistant "); WeCom passes a
# group's messages to the bot only when they mention it.
_MENTION = re.compile(r"^\s*[@＠]\S+\s*")


class WeComHandlers:
    def __init__(self, core: Core, connection: LongConnection, bot_id: str) -> None:
        """`bot_id`: WeCom's BotID."""
        self.core, self.connection = core, connection
        self.bot_number = wecom_id(bot_id)  # its update claims, apart from Telegram bots'
        self.started = datetime.now(UTC)
        self._chats = InOrder()
        self.desk = staff.StaffDesk(core, connection)

    async def on_callback(self, frame: dict[str, Any]) -> None:
        body, req_id = frame.get("body"), frame.get("headers", {}).get("req_id")
        sender = body.get("from") if isinstance(body, dict) else None
        userid = sender.get("userid") if isinstance(sender, dict) else None
        msgid = body.get("msgid") if isinstance(body, dict) else None
        if not (isinstance(req_id, str) and isinstance(userid, str) and isinstance(msgid, str)):
            log.warning("a WeCom callback without its ids was skipped")
            return
        assert isinstance(body, dict)
        group = body.get("chatid")
        chat = group if isinstance(group, str) else userid  # a group, or the single chat
        number = wecom_id(msgid)
        async with self._chats.turn(chat):
            try:
                if not await self.core.claim(self.bot_number, number, self.started):
                    log.warning("WeCom message %s was handled before; skipped", number)
                    return
                if frame.get("cmd") == "aibot_event_callback":
                    await self._event(body, req_id, userid, chat)
                else:
                    await self._message(body, req_id, userid, chat)
                # Only once its reply went out: a message whose reply was lost is handled again
                # when WeCom delivers it again (after UPDATE_CLAIM_STALE_S, or a restart).
                await self.core.store.finish_update(self.bot_number, number)
            finally:  # the mark that all it caused is done (tests wait for it)
                log.info("WeCom message %s handled", number)

    async def _event(self, body: dict[str, Any], req_id: str, userid: str, chat: str) -> None:
        event = body.get("event")
        kind = event.get("eventtype") if isinstance(event, dict) else None
        if kind == "enter_chat":
            welcome = {"msgtype": "text", "text": {"content": texts.WELCOME}}
            await self.connection.send("aibot_respond_welcome_msg", welcome, req_id)
        elif kind == "template_card_event" and isinstance(event, dict):
            clicked = event.get("template_card_event")
            if not isinstance(clicked, dict):
                return
            press, keep = cards.pressed(clicked), staff.keep_pressed(clicked)
            if press is not None:
                await self._pressed(press, req_id, userid, chat)
            elif keep is not None:
                await self._keep(keep, req_id, userid, chat)

    async def _keep(self, press: staff.Keep, req_id: str, userid: str, chat: str) -> None:
        card = await self.desk.keep(press, userid, chat)
        if card is not None:
            update = {"response_type": "update_template_card", "template_card": card}
            await self.connection.send("aibot_respond_update_msg", update, req_id)

    async def _pressed(self, press: cards.Press, req_id: str, userid: str, chat: str) -> None:
        """A button under an answer: only in the chat the answer was given in."""
        logged = await self.core.store.logged(press.question_id)
        if logged is None or logged.chat_id != wecom_id(chat):
            log.warning("a press on an answer of another chat (or none) was ignored")
            return
        if press.action == "vote":
            voter = wecom_id(userid)
            await self.core.store.record_feedback(logged.id, voter, press.vote)
            log.info("WeCom user %s voted %+d on question %s", voter, press.vote, logged.id)
            person = await self.core.staff_loop_on()
            card = cards.answer_card(logged.id, logged.language, press.vote, press.task_id, person)
            update = {"response_type": "update_template_card", "template_card": card}
            await self.connection.send("aibot_respond_update_msg", update, req_id)
            return
        if press.action == "person":
            await self._ask_person(logged, userid, chat)
            return
        allowed = audiences_for("learner")
        cited = [item for item in logged.sources if item.get("audience") in allowed]
        text = render_sources(cited) if cited else plain(labels.NO_SOURCES[logged.language])
        await self.connection.push(chat, text)

    async def _ask_person(self, logged: Logged, userid: str, chat: str) -> None:
        """The learner's question to branch staff, as a ticket; their answer comes back here."""
        await self.core.store.wecom.remember(wecom_id(chat), chat)
        opened = await self.core.open_ticket(logged, wecom_id(chat), userid)
        language = logged.language
        if opened is None:
            text = texts.NO_STAFF[language]
        elif isinstance(opened, SlowDown):
            text = labels.SLOW_DOWN[language].format(seconds=opened.seconds)
        else:
            template = texts.SENT if opened.created else texts.ALREADY
            text = template[language].format(ticket=opened.ticket.id)
        await self.connection.push(chat, text)

    async def _message(self, body: dict[str, Any], req_id: str, userid: str, chat: str) -> None:
        question = _question(body)
        stream = _Stream(self.connection, req_id, chat)
        if not question:
            await stream.show(plain(texts.TEXT_ONLY), finish=True)
            return
        if await self._staff_message(body, question, userid, chat, stream):
            return
        language = question_language(question)
        too_long = self.core.too_long(question)
        if too_long is not None:  # refused at once, whole
            await stream.show(_reply(too_long, language), finish=True)
            return
        await stream.show(texts.LOOKING[language], finish=False)
        settings = self.core.settings
        # Staff-only documents answer staff in single chats only (a group is read by learners).
        private_staff = chat == userid and await self.desk.staff(userid) is not None
        asker = Asker(
            user_id=wecom_id(userid),
            chat_id=wecom_id(chat),
            role="staff" if private_staff else "learner",
            pace_id=wecom_id(userid),
            per_minute=settings.user_questions_per_minute,
        )
        try:
            asked = await self.core.ask(asker, question)
        except Exception:
            await stream.show(plain(labels.FAILED[language]), finish=True)
            raise
        await stream.show(_reply(asked, language), finish=True)
        # The card in single chats only: WeCom documents cards there, not in groups.
        if isinstance(asked, Asked) and chat == userid:
            person = await self.core.staff_loop_on()
            card = cards.answer_card(asked.question_id, asked.answer.language, person=person)
            body = {"msgtype": "template_card", "template_card": card}
            try:
                await self.connection.send("aibot_respond_msg", body, req_id)
            except WeComReplyFailed as exc:  # the answer is out; the card is a help
                log.warning("an answer's card could not be shown: %s", exc)

    async def _staff_message(
        self, body: dict[str, Any], text: str, userid: str, chat: str, stream: _Stream
    ) -> bool:
        """A command, or an answer to a ticket in a staff group, handled; False for a question."""
        reply = await self.desk.command(text, userid, chat)
        if reply is not None:
            await stream.show(reply, finish=True)
            return True
        answering = staff.answering(body, text) if chat in self.desk.groups else None
        if answering is None:
            return False
        confirmation, reply_id = await self.desk.answer(*answering, userid, chat)
        await stream.show(plain(confirmation), finish=True)
        if reply_id:
            card = {"msgtype": "template_card", "template_card": staff.keep_card(reply_id)}
            try:
                await self.connection.send("aibot_respond_msg", card, stream.req_id)
            except WeComReplyFailed as exc:  # kept from the workspace instead
                log.warning("the card to keep a staff answer could not be shown: %s", exc)
        return True


class _Stream:
    """One streamed reply: each frame replaces what the user sees, the last one finishes it.
    If the last cannot go (the connection lost, the stream expired), the whole reply goes as a
    message of the bot's own once the connection is back."""

    def __init__(self, connection: LongConnection, req_id: str, chat: str) -> None:
        self.connection, self.req_id, self.chat = connection, req_id, chat
        self.id = new_req_id("stream")

    async def show(self, content: str, finish: bool) -> None:
        stream = {"id": self.id, "finish": finish, "content": content}
        try:
            await self.connection.send(
                "aibot_respond_msg", {"msgtype": "stream", "stream": stream}, self.req_id
            )
        except WeComReplyFailed as exc:
            if not finish:
                log.warning("a first line could not be shown: %s", exc)  # the answer still may
                return
            log.warning("a streamed reply failed (%s); sending it as a message", exc.errcode)
            await self.connection.push(self.chat, content)


def _question(body: dict[str, Any]) -> str | None:
    """The question a message asks: its text (a group's without the leading mention), or what
    WeCom heard in a voice message; None for images, files and the like."""
    kind = body.get("msgtype")
    part = body.get(kind) if kind in ("text", "voice") else None
    content = part.get("content") if isinstance(part, dict) else None
    if not isinstance(content, str):
        return None
    if body.get("chattype") == "group":
        content = _MENTION.sub("", content, count=1)
    return content.strip() or None


def _reply(asked: Asked | TooLong | SlowDown, language: str) -> str:
    if isinstance(asked, TooLong):
        return plain(labels.TOO_LONG[language].format(length=asked.length, limit=asked.limit))
    if isinstance(asked, SlowDown):
        return plain(labels.SLOW_DOWN[language].format(seconds=asked.seconds))
    return render_answer(asked.answer)

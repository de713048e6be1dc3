"""The staff loop's staff side in WeCom. A staff group (WECOM_STAFF_CHAT_ID, a branch's in
WECOM_BRANCH_STAFF_CHATS) gets each ticket as a message (markdown: WeCom shows a bot's own cards
in single chats only); a staff member answers by quoting it and mentioning the bot, or with
"#12 the answer"; the answer reaches the learner in whatever channel they asked, and a card
under the bot's confirmation keeps it as a curated answer (for everyone, or staff only). In a
single chat, /register CODE (a branch's invite code) or /link CODE (from the account page) makes
someone staff; /chatid tells an admin a group's id; /branch lets a learner choose the branch
whose staff their questions go to."""

from __future__ import annotations

import logging
import re
import secrets
from dataclasses import dataclass
from typing import Any

from bot.channels import labels
from bot.channels.wecom import texts
from bot.channels.wecom.connection import LongConnection
from bot.channels.wecom.notifier import WeComNotifier
from bot.channels.wecom.render import plain
from bot.services import curation, staff_loop
from bot.services.core import Core, branches_matching, may_answer
from bot.services.rounds import deliver_now
from bot.services.staff_loop import wecom_id
from bot.store.accounts import Account
from bot.store.records import Person, Ticket

log = logging.getLogger(__name__)

_ANSWER = re.compile(r"#(\d{1,9})\s+(\S.*)", re.S)  # "#12 the answer"
_ANNOUNCED = re.compile(r"Ticket #(\d{1,9})")  # in a quoted announcement
_COMMAND = re.compile(r"/(register|link|chatid|branch)(?:\s+(\S.*?))?\s*", re.I | re.S)
_KEEP = re.compile(r"keep:(\d{1,18}):(public|staff)")
_KEEP_TASK = re.compile(r"keep_(\d{1,18})_[0-9a-f]{8}")


@dataclass(frozen=True)
class Keep:
    """A press on the card under a staff answer."""

    reply_id: int
    audience: str  # "public" or "staff"
    task_id: str


def answering(body: dict[str, Any], text: str) -> tuple[int, str] | None:
    """The ticket a staff group's message answers, and the answer: "#12 the answer", or any
    text that quotes the ticket's announcement; None for anything else (a question)."""
    found = _ANSWER.fullmatch(text)
    if found is not None:
        return int(found.group(1)), found.group(2).strip()
    announced = _ANNOUNCED.search(_quoted(body))
    return (int(announced.group(1)), text) if announced is not None else None


def _quoted(body: dict[str, Any]) -> str:
    quote = body.get("quote")
    kind = quote.get("msgtype") if isinstance(quote, dict) else None
    part = quote.get(kind) if isinstance(quote, dict) and isinstance(kind, str) else None
    content = part.get("content") if isinstance(part, dict) else None
    return content if isinstance(content, str) else ""


def keep_card(reply_id: int, kept: str = "", task: str | None = None) -> dict[str, Any]:
    """The card under a staff answer's confirmation (`kept`: what the last press did)."""
    card: dict[str, Any] = {
        "card_type": "button_interaction",
        "main_title": {"title": texts.KEEP_TITLE, "desc": texts.KEEP_DESC},
        "button_list": [
            {"text": text, "style": 1, "key": f"keep:{reply_id}:{audience}"}
            for audience, text in texts.KEEP_BUTTONS.items()
        ],
        "task_id": task or f"keep_{reply_id}_{secrets.token_hex(4)}",
    }
    if kept:
        card["sub_title_text"] = kept
    return card


def keep_pressed(clicked: dict[str, Any]) -> Keep | None:
    """The keep press a card event stands for, on a card of the same reply; None otherwise."""
    key, task = clicked.get("event_key"), clicked.get("task_id")
    found = _KEEP.fullmatch(key) if isinstance(key, str) else None
    card = _KEEP_TASK.fullmatch(task) if isinstance(task, str) else None
    if found is None or card is None or card.group(1) != found.group(1):
        return None
    assert isinstance(task, str)
    return Keep(int(found.group(1)), found.group(2), task)


def _both(text: dict[str, str], **values: object) -> str:
    return f"{text['en'].format(**values)}\n{text['zh'].format(**values)}"


class StaffDesk:
    def __init__(self, core: Core, connection: LongConnection) -> None:
        self.core, self.connection = core, connection
        self.groups = set(staff_loop.wecom_staff_chats(core.settings).values())

    async def staff(self, userid: str) -> tuple[Person, Account | None] | None:
        """A WeCom user as staff (the account that linked them, if any); None for others."""
        account, staff = await self.core.roles.wecom_staff(userid, wecom_id(userid))
        if not staff:
            return None
        return Person(wecom_id(userid), account.id if account is not None else None), account

    async def command(self, text: str, userid: str, chat: str) -> str | None:
        """The reply to /register, /link, /chatid or /branch (markdown); None when `text` is
        none of them."""
        found = _COMMAND.fullmatch(text)
        if found is None:
            return None
        name, argument, private = found.group(1).lower(), found.group(2), chat == userid
        if name == "chatid":
            return plain(texts.CHAT_ID["single" if private else "group"].format(chat=chat))
        if name == "branch":
            return await self._branch(argument or "", userid)
        said = labels.REGISTER if name == "register" else labels.LINK
        if not private:
            return plain(_both(said["private_only"]))
        if argument is None or len(argument) > 100 or " " in argument:
            return plain(_both(said["usage"]))
        if name == "register":
            outcome, branch = await self.core.roles.register(wecom_id(userid), argument)
            return plain(_both(labels.REGISTER[outcome], branch=branch))
        account = await self.core.people.link_wecom(argument, userid)
        if account is None:
            return plain(_both(labels.LINK["wrong"]))
        linked = labels.LINK["linked"]
        return plain(_both(linked, app="WeCom", name=account.name, role=account.described))

    async def _branch(self, search: str, userid: str) -> str:
        """/branch: the branches whose staff answer, or the one `search` names chosen."""
        names = await self.core.branches()
        if not names:
            return plain(_both(labels.BRANCH_NONE))
        matching = branches_matching(names, search[:100])
        if not matching:
            return plain(_both(labels.BRANCH_NONE_MATCH, search=search[:100]))
        if search and len(matching) == 1:
            await self.core.store.tickets.choose_branch(wecom_id(userid), matching[0])
            return texts.BRANCH_CHOSEN.format(branch=plain(matching[0]))
        listed = "\n".join(f"- {plain(name)}" for name in matching[:30])
        return f"{plain(_both(labels.BRANCH_PICK))}\n\n{listed}\n\n{texts.BRANCH_HOW}"

    async def answer(self, ticket_id: int, text: str, userid: str, chat: str) -> tuple[str, int]:
        """A staff member's answer in a staff group: recorded, sent to a WeCom learner at once
        (the Telegram bot's rounds send it to a Telegram learner, a web page fetches it). What
        the group is told, and the reply's id to keep (0: nothing was recorded)."""
        store = self.core.store
        ticket = await store.tickets.get(ticket_id)
        if ticket is None:
            return texts.NO_TICKET.format(ticket=ticket_id), 0
        found = await self.staff(userid)
        if found is None:
            log.info("ticket %s: an answer from a WeCom user who is not staff ignored", ticket_id)
            return texts.NOT_STAFF, 0
        author, account = found
        if not _may_answer_here(ticket, account, chat):
            return texts.OTHER_GROUP.format(ticket=ticket_id), 0
        answered = await staff_loop.answer_ticket(store, ticket, text, author)
        notifier = WeComNotifier(self.connection, self.core)
        sent = await deliver_now(store, notifier, answered.reply_id)
        channel = staff_loop.channel_of(ticket.learner_chat_id)
        return labels.answer_recorded(answered, sent, channel), answered.reply_id

    async def keep(self, press: Keep, userid: str, chat: str) -> dict[str, Any] | None:
        """A keep press: the staff answer saved as a curated answer; the card as it is now,
        None when the presser may not (not staff, another group's ticket) or the reply is gone."""
        store = self.core.store
        found = await self.staff(userid)
        reply = await store.tickets.reply(press.reply_id)
        ticket = await store.tickets.get(reply.ticket_id) if reply is not None else None
        if found is None or ticket is None or not _may_answer_here(ticket, found[1], chat):
            log.info("a keep press on reply %s refused", press.reply_id)
            return None
        curated_id = await curation.save_reply(store, press.reply_id, press.audience, found[0])
        if curated_id is None:
            return None
        log.info("a WeCom staff member kept reply %s as curated %s", press.reply_id, curated_id)
        kept = texts.KEPT.format(
            ticket=ticket.id, curated=curated_id, audience=labels.AUDIENCE_NAMES[press.audience]
        )
        return keep_card(press.reply_id, kept, press.task_id)


def _may_answer_here(ticket: Ticket, account: Account | None, chat: str) -> bool:
    """Admins answer any ticket; other staff those posted to this group, of their branch (or
    of none) when their account has one."""
    if account is not None and account.role == "admin":
        return True
    if ticket.staff_chat_id != wecom_id(chat):
        return False
    return account is None or may_answer(account, ticket.branch)

"""The staff loop's steps that every channel takes the same way: a learner's question opened as
a ticket for the right staff chat, and where a staff answer to it goes."""

from __future__ import annotations

import hashlib
import logging
import secrets
from dataclasses import dataclass
from typing import Literal

from alliance.language import detect_language
from alliance.settings import Settings
from bot.services.asking import SlowDown
from bot.store.database import Store
from bot.store.records import Logged, Person, Ticket, Vote
from bot.store.tickets import NewTicket

log = logging.getLogger(__name__)

# Web conversations and clients have ids of their own, below every Telegram chat id (groups
# are negative, but above -2**53), so the store keeps one id space for both channels.
WEB_IDS_BELOW = -(1 << 53)
_CONVERSATIONS = 1 << 56


def new_conversation_id() -> str:
    """An unguessable id for a web conversation: whoever holds it reads its answers."""
    return secrets.token_urlsafe(18)


def web_chat_id(conversation_id: str) -> int:
    """The store's chat (and user) id of a web conversation."""
    digest = hashlib.sha256(conversation_id.encode()).digest()
    return WEB_IDS_BELOW - int.from_bytes(digest[:7], "big")


def web_client_id(address: str) -> int:
    """The store's id of a web client (its address), whose allowance questions spend."""
    digest = hashlib.sha256(b"client:" + address.encode()).digest()
    return WEB_IDS_BELOW - _CONVERSATIONS - int.from_bytes(digest[:7], "big")


# WeCom users and chats (string ids) have ids above every Telegram one (below 2**53).
WECOM_IDS_FROM = 1 << 53


def wecom_id(name: str) -> int:
    """The store's id of a WeCom user, chat or message (by its WeCom id)."""
    digest = hashlib.sha256(b"wecom:" + name.encode()).digest()
    return WECOM_IDS_FROM + int.from_bytes(digest[:7], "big")


def is_wecom(chat_id: int) -> bool:
    """A WeCom user or group: a staff answer goes out through the WeCom bot."""
    return chat_id >= WECOM_IDS_FROM


def is_web(chat_id: int) -> bool:
    """A web conversation: a staff answer waits in the store for its page to fetch it."""
    return chat_id < WEB_IDS_BELOW


Channel = Literal["web", "wecom", "telegram"]


def channel_of(chat_id: int) -> Channel:
    """The channel a chat (a learner's, a staff group) is in."""
    return "web" if is_web(chat_id) else "wecom" if is_wecom(chat_id) else "telegram"


def staff_chat(settings: Settings, branch: str | None) -> int | None:
    """The staff chat a ticket of `branch` is posted to: the branch's own (in Telegram, else
    WeCom), else the general one (Telegram's, else WeCom's); None: the web workspace only."""
    wecom = {name: wecom_id(chat) for name, chat in settings.wecom_branch_staff_chats.items()}
    general = settings.staff_chat_id
    if general is None and settings.wecom_staff_chat_id is not None:
        general = wecom_id(settings.wecom_staff_chat_id)
    key = branch or ""
    return settings.branch_staff_chats.get(key, wecom.get(key, general))


def wecom_staff_chats(settings: Settings) -> dict[int, str]:
    """The WeCom staff groups of the settings, by their ids in the store."""
    chats = set(settings.wecom_branch_staff_chats.values())
    if settings.wecom_staff_chat_id is not None:
        chats.add(settings.wecom_staff_chat_id)
    return {wecom_id(chat): chat for chat in chats}


@dataclass(frozen=True)
class Opened:
    ticket: Ticket
    created: bool  # False: the question had a ticket already


async def open_ticket(
    store: Store,
    settings: Settings,
    logged: Logged,
    learner_chat_id: int,
    name: str,
    branch: str | None,
    contact: str | None = None,
) -> Opened | SlowDown:
    """Pass the logged question to a person: a ticket for `branch` (one the core knows, or
    None for the alliance's staff), posted to that branch's staff chat or the general one when
    there is one (`staff_chat`), and always shown in the web workspace."""
    wait = await store.take_question(logged.user_id, settings.user_questions_per_minute)
    if wait:
        return SlowDown(max(1, round(wait)))
    ticket, created = await store.tickets.open(
        NewTicket(
            question_id=logged.id,
            learner_id=logged.user_id,
            learner_chat_id=learner_chat_id,
            learner_name=name,
            language=logged.language,
            question=logged.question,
            answer=logged.answer,
            branch=branch,
            staff_chat_id=staff_chat(settings, branch),
            learner_contact=contact,
        )
    )
    if created:
        log.info("user %s opened ticket %s", logged.user_id, ticket.id)
    return Opened(ticket, created)


@dataclass(frozen=True)
class Answered:
    ticket_id: int
    reply_id: int
    first: bool  # the ticket was open: this answered it
    curated_id: int | None = None  # kept as this curated answer

    @property
    def action_detail(self) -> str:
        """What the action log says of it."""
        kept = self.curated_id
        return f"ticket {self.ticket_id}" + (f", kept as curated answer {kept}" if kept else "")


async def answer_ticket(store: Store, ticket: Ticket, text: str, author: Person) -> Answered:
    """A staff answer (from the web workspace, the console or a staff chat), recorded: a web
    page fetches it; for any other channel it waits to be delivered (at once by a staff chat's
    handler, else by that channel's rounds)."""
    reply_id, first = await store.tickets.add_reply(
        ticket.id, author, True, text, delivered=is_web(ticket.learner_chat_id)
    )
    log.info(
        "user %s (account %s) answered ticket %s", author.telegram_id, author.account_id, ticket.id
    )
    return Answered(ticket.id, reply_id, first)


@dataclass(frozen=True)
class Corrected:
    curated_id: int
    vote: Vote
    ticket_id: int  # the ticket that carries the correction to the voter
    reply_id: int


async def tell_voter(store: Store, vote: Vote, text: str, author: Person) -> tuple[int, int]:
    """The right answer to a question its learner voted 👎 on, on its way to them: a reply of
    kind "correction" on the question's ticket (opened for it, answered at once, if the learner
    never asked a person), which their channel delivers like a staff answer. The ticket's id
    and the reply's. A learner's private chat id is their user id, in every channel."""
    ticket, _ = await store.tickets.open(
        NewTicket(
            question_id=vote.question_id,
            learner_id=vote.user_id,
            learner_chat_id=vote.user_id,
            learner_name="",
            language=detect_language(vote.question),
            question=vote.question,
            answer=vote.answer,
            branch=await store.tickets.branch_of(vote.user_id),
            staff_chat_id=None,
        )
    )
    reply_id, _ = await store.tickets.add_reply(
        ticket.id, author, True, text, delivered=is_web(vote.user_id), kind="correction"
    )
    log.info("vote %s: correction %s on its way in ticket %s", vote.id, reply_id, ticket.id)
    return ticket.id, reply_id

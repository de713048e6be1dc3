"""The staff loop in Telegram: a learner passes a question to a person ("Ask a person"), the
bot posts it as a ticket to the branch's staff chat, a staff member answers by replying there,
and the answer comes back to the learner, who may follow up by replying to it.

Tickets live in the store (`bot.store.tickets`), so replicas share them and nothing is lost
when a staff chat cannot be reached: an unposted ticket is posted by the next of the core's
rounds (`bot.services.rounds`), which also re-announce tickets left open too long, once, and
deliver here the answers staff wrote in the web workspace."""

from __future__ import annotations

import html
import logging
import re
from datetime import UTC, datetime, timedelta

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.constants import ParseMode
from telegram.error import TelegramError

from bot.channels import labels
from bot.channels.telegram import curation, handlers, texts, ticket_texts
from bot.channels.telegram.context import (
    Context,
    Incoming,
    Press,
    Services,
    user_language,
)
from bot.channels.telegram.curation import keep_keyboard
from bot.channels.telegram.notifier import TelegramNotifier
from bot.channels.telegram.render import shortened
from bot.services import staff_loop
from bot.services.asking import SlowDown
from bot.services.core import branches_matching
from bot.services.rounds import deliver_now, post_ticket
from bot.store.records import Logged, Person, Ticket
from bot.store.tables import aware

log = logging.getLogger(__name__)

_PERSON = re.compile(r"person(|-ok|-no):(\d{1,18})")
_BRANCH = re.compile(r"branch:(\d{1,4})")
BRANCHES_LISTED = 12  # buttons /branch shows at once; more are found by searching


def staff_chats(services: Services) -> set[int]:
    settings = services.core.settings
    chats = set(settings.branch_staff_chats.values())
    if settings.staff_chat_id is not None:
        chats.add(settings.staff_chat_id)
    return chats


# The learner's side
async def person_pressed(update: Update, context: Context) -> None:
    """ "Ask a person", then "Send" or "Cancel" under the confirmation."""
    press, found = Press.of(update), context.services
    language = user_language(update)
    match = _PERSON.fullmatch(press.data)
    logged = await found.core.store.logged(int(match.group(2))) if match else None
    learner = press.query.from_user
    if match is None or logged is None or logged.user_id != learner.id or not press.private:
        await press.query.answer(texts.EXPIRED[language])  # forged, stale or not theirs
        return
    if not await found.core.staff_loop_on():
        await press.query.answer(ticket_texts.STAFF_LOOP_OFF[language], show_alert=True)
        return
    await press.query.answer()
    language = logged.language
    step, question_id = match.group(1), int(match.group(2))
    if step == "":
        question = html.escape(shortened(logged.question, 300))
        keyboard = InlineKeyboardMarkup(
            [
                [
                    InlineKeyboardButton(
                        ticket_texts.SEND_BUTTON[language], callback_data=f"person-ok:{question_id}"
                    ),
                    InlineKeyboardButton(
                        ticket_texts.CANCEL_BUTTON[language],
                        callback_data=f"person-no:{question_id}",
                    ),
                ]
            ]
        )
        name = html.escape(learner.full_name)
        await context.bot.send_message(
            press.chat_id,
            ticket_texts.CONFIRM[language].format(question=question, name=name),
            parse_mode=ParseMode.HTML,
            reply_markup=keyboard,
        )
        return
    if step == "-no":
        await press.edit(ticket_texts.CANCELLED[language])
        return
    await _escalate(press, context, logged, learner.full_name)


async def _escalate(press: Press, context: Context, logged: Logged, name: str) -> None:
    found = context.services
    language = logged.language
    opened = await found.core.open_ticket(logged, press.chat_id, name)
    if opened is None:  # the staff loop was turned off since the button was shown
        await press.edit(ticket_texts.STAFF_LOOP_OFF[language])
        return
    if isinstance(opened, SlowDown):
        slow = labels.SLOW_DOWN[language].format(seconds=opened.seconds)
        await context.bot.send_message(press.chat_id, slow)
        return
    ticket = opened.ticket
    if not opened.created:
        state = ticket_texts.STATES[language][ticket.state]
        await press.edit(ticket_texts.ALREADY[language].format(ticket=ticket.id, state=state))
        return
    notifier = TelegramNotifier(context.bot, found.core)
    posted = await post_ticket(found.core.store, notifier, ticket)
    reply = ticket_texts.SENT if posted else ticket_texts.UNAVAILABLE
    await press.edit(reply[language].format(ticket=ticket.id))


async def private_reply(update: Update, context: Context) -> None:
    """A reply in a private chat: to a relayed staff answer, a follow-up on its ticket;
    otherwise an ordinary question."""
    incoming = Incoming.of(update)
    if not await _learner_follow_up(incoming, context):
        await curation.private_text(update, context)


async def _learner_follow_up(incoming: Incoming, context: Context) -> bool:
    replied = incoming.message.reply_to_message
    if replied is None:
        return False
    found = context.services
    hit = await found.core.store.tickets.by_message(incoming.chat.id, replied.message_id)
    if hit is None or hit[1] != "relay" or hit[0].learner_id != incoming.user.id:
        return False
    ticket = hit[0]
    text = incoming.message.text or ""
    learner = Person(telegram_id=incoming.user.id)
    await found.core.store.tickets.add_reply(ticket.id, learner, False, text)
    body = ticket_texts.FOLLOW_UP.format(ticket=ticket.id, text=html.escape(text))
    language = ticket.language
    chat = ticket.staff_chat_id
    if chat is None or staff_loop.is_wecom(chat):  # the workspace shows it under the ticket
        log.info("user %s followed up on ticket %s", incoming.user.id, ticket.id)
        sent_text = ticket_texts.FOLLOW_UP_SENT[language].format(ticket=ticket.id)
        await incoming.message.reply_html(sent_text)
        return True
    try:
        sent = await context.bot.send_message(chat, body, parse_mode=ParseMode.HTML)
    except TelegramError as exc:
        log.warning("ticket %s: follow-up not posted to the staff chat: %s", ticket.id, exc)
        await incoming.message.reply_html(
            ticket_texts.UNAVAILABLE[language].format(ticket=ticket.id)
        )
        return True
    await found.core.store.tickets.add_message(ticket.id, chat, sent.message_id, "announcement")
    log.info("user %s followed up on ticket %s", incoming.user.id, ticket.id)
    await incoming.message.reply_html(
        ticket_texts.FOLLOW_UP_SENT[language].format(ticket=ticket.id)
    )
    return True


async def my_tickets(update: Update, context: Context) -> None:
    incoming = Incoming.of(update)
    language = user_language(update)
    if not incoming.private:
        return
    rows = await context.services.core.store.tickets.of_learner(incoming.user.id)
    if not rows:
        await incoming.message.reply_text(ticket_texts.NO_TICKETS[language])
        return
    lines = [
        ticket_texts.MY_TICKET_LINE.format(
            ticket=row.id,
            state=ticket_texts.STATES[language][row.state],
            question=html.escape(shortened(row.question, 80)),
        )
        for row in rows
    ]
    await incoming.message.reply_html(ticket_texts.MY_TICKETS[language] + "\n".join(lines))


async def choose_branch(update: Update, context: Context) -> None:
    """/branch [part of a name]: the branches that have a staff chat, as buttons."""
    incoming = Incoming.of(update)
    language = user_language(update)
    names = await context.services.core.branches()
    if not names:
        await incoming.message.reply_text(labels.BRANCH_NONE[language])
        return
    search = " ".join(context.args or []).strip()
    matching = branches_matching(names, search)
    if not matching:
        reply = labels.BRANCH_NONE_MATCH[language].format(search=html.escape(search))
        await incoming.message.reply_html(reply)
        return
    shown = matching[:BRANCHES_LISTED]
    buttons = [
        [InlineKeyboardButton(name, callback_data=f"branch:{names.index(name)}")] for name in shown
    ]
    text = labels.BRANCH_PICK[language]
    if len(matching) > len(shown):
        more = ticket_texts.BRANCH_MORE[language].format(
            count=len(matching) - len(shown), example=html.escape(matching[-1][:4])
        )
        text = f"{text}\n\n{more}"
    await incoming.message.reply_html(text, reply_markup=InlineKeyboardMarkup(buttons))


async def branch_pressed(update: Update, context: Context) -> None:
    press = Press.of(update)
    language = user_language(update)
    names = await context.services.core.branches()
    match = _BRANCH.fullmatch(press.data)
    if match is None or int(match.group(1)) >= len(names):
        await press.query.answer(texts.EXPIRED[language])
        return
    branch = names[int(match.group(1))]
    await context.services.core.store.tickets.choose_branch(press.query.from_user.id, branch)
    await press.query.answer()
    await press.edit(ticket_texts.BRANCH_CHOSEN[language].format(branch=html.escape(branch)))


# The staff side
async def staff_chat_message(update: Update, context: Context) -> None:
    """A message in a staff chat: a staff member's reply to a ticket is relayed to its learner;
    anything else is what it would be in any group."""
    incoming, found = Incoming.of(update), context.services
    replied = incoming.message.reply_to_message
    hit = (
        await found.core.store.tickets.by_message(incoming.chat.id, replied.message_id)
        if replied is not None
        else None
    )
    if hit is None or hit[1] == "relay":
        await handlers.group_text(update, context)
        return
    if await found.core.roles.role(incoming.user.id, True) != "staff":
        log.info("ticket %s: reply from non-staff user %s ignored", hit[0].id, incoming.user.id)
        return
    await _relay(incoming, context, hit[0])


async def _relay(incoming: Incoming, context: Context, ticket: Ticket) -> None:
    """A staff member's reply in a staff chat: recorded as the web's answers are, then sent to
    a Telegram learner at once (a web learner's page fetches it)."""
    core = context.services.core
    staff = incoming.user.id
    text, author = incoming.message.text or "", await core.person(staff)
    answered = await staff_loop.answer_ticket(core.store, ticket, text, author)
    log.info("staff %s answered ticket %s in the staff chat", staff, ticket.id)
    notifier = TelegramNotifier(context.bot, core)
    sent = await deliver_now(core.store, notifier, answered.reply_id)
    channel = staff_loop.channel_of(ticket.learner_chat_id)
    confirmation = labels.answer_recorded(answered, sent, channel)
    await incoming.message.reply_html(
        html.escape(confirmation), reply_markup=keep_keyboard(answered.reply_id)
    )


async def open_tickets(update: Update, context: Context) -> None:
    """/tickets in a staff chat (staff and admins): its open tickets, oldest first."""
    incoming, found = Incoming.of(update), context.services
    if incoming.chat.id not in staff_chats(found):
        return
    if await found.core.roles.role(incoming.user.id, True) != "staff":
        return
    general = incoming.chat.id == found.core.settings.staff_chat_id
    rows = await found.core.store.tickets.open_tickets(None if general else incoming.chat.id)
    if not rows:
        await incoming.message.reply_text(ticket_texts.NO_OPEN_TICKETS)
        return
    now = datetime.now(UTC)
    lines = [
        ticket_texts.OPEN_TICKET_LINE.format(
            ticket=row.id,
            age=_age(now - aware(row.opened_at)),
            branch=html.escape(row.branch or ticket_texts.NO_BRANCH),
            question=html.escape(shortened(row.question, 80)),
        )
        for row in rows[:50]
    ]
    await incoming.message.reply_html(ticket_texts.OPEN_TICKETS + "\n".join(lines))


# The rounds' side: posting to staff chats, delivering answers written in the workspace
def _age(elapsed: timedelta) -> str:
    hours = elapsed.total_seconds() / 3600
    return f"{hours:.0f} h" if hours >= 1 else f"{elapsed.total_seconds() / 60:.0f} min"

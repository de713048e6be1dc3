"""Curated answers and the review of 👎 votes in Telegram: the button under a staff answer that
keeps it for similar questions, /curated (admins: list, show, edit, retire), /review (admins:
the 👎 queue, with a correction written as the admin's next message). The logic is in
`bot.services.curation` and the store, which the web console shares."""

from __future__ import annotations

import html
import logging
import re

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.constants import ParseMode

from bot.channels import labels
from bot.channels.telegram import curation_texts as say
from bot.channels.telegram import handlers, texts, uploads
from bot.channels.telegram.admin import admin_press, refuse_non_admin
from bot.channels.telegram.context import Context, Incoming, Press, client_language, user_language
from bot.channels.telegram.notifier import TelegramNotifier
from bot.channels.telegram.render import shortened
from bot.engine.results import Source
from bot.services import curation
from bot.services.rounds import Delivery, deliver_now
from bot.store.tables import aware

log = logging.getLogger(__name__)

PAGE = 8  # curated answers listed at once
_KEEP = re.compile(r"keep:(\d{1,18}):(public|staff)")
_CURATED = re.compile(r"cur:(show|edit|retire|page):(\d{1,18})")
_REVIEW = re.compile(r"rev:(write|right|skip):(\d{1,18})")


# Under a staff answer
def keep_keyboard(reply_id: int) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [
            [InlineKeyboardButton(say.KEEP_BUTTON, callback_data=f"keep:{reply_id}:public")],
            [InlineKeyboardButton(say.KEEP_STAFF_BUTTON, callback_data=f"keep:{reply_id}:staff")],
        ]
    )


async def keep_pressed(update: Update, context: Context) -> None:
    """ "Use for similar questions" (or staff only): staff and admins keep a reply as curated."""
    press, found = Press.of(update), context.services
    match = _KEEP.fullmatch(press.data)
    presser = press.query.from_user.id
    if match is None:
        await press.query.answer(texts.EXPIRED[user_language(update)])
        return
    if await found.core.roles.role(presser, True) != "staff":
        log.info("user %s, not staff, pressed a keep button", presser)
        await press.query.answer(say.STAFF_ONLY, show_alert=True)
        return
    reply_id, audience = int(match.group(1)), match.group(2)
    keeper = await found.core.person(presser)
    curated_id = await curation.save_reply(found.core.store, reply_id, audience, keeper)
    if curated_id is None:
        await press.query.answer(texts.EXPIRED[user_language(update)])
        return
    await press.query.answer()
    reply = await found.core.store.tickets.reply(reply_id)
    log.info("staff %s kept reply %s as curated answer %s", presser, reply_id, curated_id)
    text = say.KEPT.format(
        ticket=reply.ticket_id if reply else "?",
        curated=curated_id,
        audience=labels.AUDIENCE_NAMES[audience],
    )
    await press.edit(html.escape(text), keep_keyboard(reply_id))


# /curated
async def curated_command(update: Update, context: Context) -> None:
    incoming = Incoming.of(update)
    if not await admin_in_private(incoming, context):
        return
    await _send_page(context, incoming.chat.id, client_language(incoming.user), 0)


async def _send_page(context: Context, chat_id: int, language: str, offset: int) -> None:
    rows, total = await context.services.core.store.curated.page(offset, PAGE)
    if not rows:
        await context.bot.send_message(chat_id, say.CURATED["none"][language])
        return
    lines = [
        say.CURATED["page"][language].format(first=offset + 1, last=offset + len(rows), total=total)
    ]
    buttons = []
    for row in rows:
        lines.append(
            say.CURATED["line"][language].format(
                id=row.id,
                language=row.language,
                audience=labels.AUDIENCE_NAMES[row.audience],
                question=html.escape(shortened(row.question, 90)),
            )
        )
        buttons.append(
            [
                InlineKeyboardButton(f"#{row.id} {say.SHOW}", callback_data=f"cur:show:{row.id}"),
                InlineKeyboardButton(f"{say.EDIT} #{row.id}", callback_data=f"cur:edit:{row.id}"),
                InlineKeyboardButton(
                    f"{say.RETIRE} #{row.id}", callback_data=f"cur:retire:{row.id}"
                ),
            ]
        )
    pages = []
    if offset > 0:
        pages.append(
            InlineKeyboardButton(say.PREVIOUS, callback_data=f"cur:page:{max(0, offset - PAGE)}")
        )
    if offset + len(rows) < total:
        pages.append(InlineKeyboardButton(say.NEXT, callback_data=f"cur:page:{offset + PAGE}"))
    if pages:
        buttons.append(pages)
    await context.bot.send_message(
        chat_id,
        "\n".join(lines),
        parse_mode=ParseMode.HTML,
        reply_markup=InlineKeyboardMarkup(buttons),
    )


async def curated_pressed(update: Update, context: Context) -> None:
    pressed = await admin_press(update, context, _CURATED)
    if pressed is None:
        return
    press, action, number = pressed
    found, language, admin = context.services, user_language(update), press.query.from_user.id
    await press.query.answer()
    if action == "page":
        await _send_page(context, press.chat_id, language, number)
        return
    row = await found.core.store.curated.get(number)
    if row is None or row.retired_at is not None:
        await context.bot.send_message(press.chat_id, say.CURATED["gone"][language])
        return
    if action == "show":
        text = say.CURATED["show"][language].format(
            id=row.id,
            audience=labels.AUDIENCE_NAMES[row.audience],
            day=aware(row.changed_at).date().isoformat(),
            question=html.escape(row.question),
            answer=html.escape(row.answer),
        )
    elif action == "edit":
        await found.core.store.curated.await_text(admin, "edit", row.id)
        text = say.CURATED["edit"][language].format(id=row.id)
    else:
        retired = await found.core.store.curated.retire(row.id, await found.core.person(admin))
        log.info("admin %s retired curated answer %s", admin, row.id)
        text = say.CURATED["retired" if retired else "gone"][language].format(id=row.id)
    await context.bot.send_message(press.chat_id, text, parse_mode=ParseMode.HTML)


# /review
async def review_command(update: Update, context: Context) -> None:
    incoming = Incoming.of(update)
    if not await admin_in_private(incoming, context):
        return
    await _send_next_vote(context, incoming.chat.id, client_language(incoming.user))


async def _send_next_vote(context: Context, chat_id: int, language: str) -> None:
    found = context.services
    queue = await curation.review_queue(found.core.store, found.core.engine)
    if not queue:
        await context.bot.send_message(chat_id, say.REVIEW["empty"][language])
        return
    head = queue[0]
    vote = head.vote
    labels = [Source.from_metadata(item).label for item in vote.sources or []]
    text = say.REVIEW["item"][language].format(
        waiting=len(queue),
        similar=head.similar,
        skipped=say.REVIEW["skipped"][language] if head.skipped else "",
        question=html.escape(vote.question),
        answer=html.escape(shortened(vote.answer, 1500)),
        sources=html.escape("; ".join(labels)) or say.REVIEW["no_sources"][language],
        voter=vote.user_id,
        when=aware(vote.voted_at).isoformat(sep=" ", timespec="minutes"),
    )
    button = {
        action: InlineKeyboardButton(
            say.REVIEW[action][language], callback_data=f"rev:{action}:{vote.id}"
        )
        for action in ("write", "right", "skip")
    }
    keyboard = InlineKeyboardMarkup([[button["write"]], [button["right"], button["skip"]]])
    await context.bot.send_message(chat_id, text, parse_mode=ParseMode.HTML, reply_markup=keyboard)


async def review_pressed(update: Update, context: Context) -> None:
    pressed = await admin_press(update, context, _REVIEW)
    if pressed is None:
        return
    press, action, feedback_id = pressed
    found, language, admin = context.services, user_language(update), press.query.from_user.id
    vote = await found.core.store.curated.vote(feedback_id)
    if vote is None:
        await press.query.answer(texts.EXPIRED[language])
        return
    await press.query.answer()
    if action == "write":
        await found.core.store.curated.await_text(admin, "correct", feedback_id)
        prompt = say.REVIEW["write_prompt"][language].format(
            question=html.escape(shortened(vote.question, 200))
        )
        await context.bot.send_message(press.chat_id, prompt, parse_mode=ParseMode.HTML)
        return
    outcome = "right" if action == "right" else "skipped"
    reviewer = await found.core.person(admin)
    if not await found.core.store.curated.review(feedback_id, outcome, reviewer):
        await context.bot.send_message(press.chat_id, say.REVIEW["settled"][language])
    else:
        log.info("admin %s reviewed vote %s: %s", admin, feedback_id, outcome)
        if outcome == "right":
            await context.bot.send_message(press.chat_id, say.REVIEW["kept"][language])
    await _send_next_vote(context, press.chat_id, language)


# An admin's next message, when a button asked for it
async def private_text(update: Update, context: Context) -> None:
    """Text in a private chat: the new wording or the correction an admin was asked for, or
    else a question."""
    incoming, found = Incoming.of(update), context.services
    awaited = (
        await found.core.store.curated.take_awaited(incoming.user.id)
        if await found.core.roles.is_admin(incoming.user.id)
        else None
    )
    if awaited is None:
        await handlers.private_text(update, context)
        return
    purpose, target = awaited
    text = (incoming.message.text or "").strip()
    language = client_language(incoming.user)
    if purpose == "title":
        await uploads.add_pending(
            context, incoming.chat.id, incoming.user.id, target, text[:300], language
        )
        return
    if purpose == "edit":
        editor = await found.core.person(incoming.user.id)
        edited = await found.core.store.curated.edit(target, text, editor)
        log.info("admin %s edited curated answer %s", incoming.user.id, target)
        reply = say.CURATED["edited" if edited else "gone"][language].format(id=target)
        await incoming.message.reply_text(reply)
        return
    core = found.core
    corrected = await core.correct_vote(target, text, incoming.user.id, None)
    if corrected is None:
        await incoming.message.reply_text(say.REVIEW["settled"][language])
        return
    log.info(
        "admin %s corrected vote %s: curated answer %s",
        incoming.user.id,
        target,
        corrected.curated_id,
    )
    # A voter in Telegram gets it now (the rounds would, a little later); a web voter's page
    # fetches it.
    sent = await deliver_now(core.store, TelegramNotifier(context.bot, core), corrected.reply_id)
    delivery = say.REVIEW["web" if sent is None else _DELIVERY[sent]][language]
    await incoming.message.reply_text(
        say.REVIEW["corrected"][language].format(id=corrected.curated_id, delivery=delivery)
    )
    await _send_next_vote(context, incoming.chat.id, language)


_DELIVERY = {
    Delivery.SENT: "delivered",
    Delivery.UNREACHABLE: "undelivered",
    Delivery.LATER: "later",
}


async def admin_in_private(incoming: Incoming, context: Context) -> bool:
    """Admins only, in their private chat (the commands show what learners asked)."""
    if await refuse_non_admin(incoming, context):
        return False
    if not incoming.private:
        await incoming.message.reply_text(texts.PRIVATE_ONLY[client_language(incoming.user)])
        return False
    return True

"""Admins add documents in the chat: a file sent to the bot in a private chat is asked its
audience, its language and its title (buttons; a typed title works too), then written with its
metadata into knowledge/uploads/ and indexed with the progress message /reindex shows. A file
named like an earlier upload replaces it only when the admin says so."""

from __future__ import annotations

import asyncio
import html
import logging
import re
from pathlib import Path

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.constants import ParseMode
from telegram.error import TelegramError

from bot.channels.telegram import handlers, texts
from bot.channels.telegram.admin import admin_press, reindex_with_progress
from bot.channels.telegram.context import Context, Incoming, user_language
from bot.services.documents import UploadError, add_document, upload_exists, upload_name

log = logging.getLogger(__name__)

_UPLOAD = re.compile(r"up:(replace|cancel|public|staff|zh|en|name):(\d{1,18})")


async def document_sent(update: Update, context: Context) -> None:
    """A file in a private chat: an admin's is a document to add; anyone else's is not text."""
    incoming, found = Incoming.of(update), context.services
    document = incoming.message.document
    if (
        document is None
        or not incoming.private
        or not await found.core.roles.is_admin(incoming.user.id)
    ):
        await handlers.not_text(update, context)
        return
    language = user_language(update)
    limit = int(found.core.settings.web_upload_max_mb * 1_000_000)
    try:
        name = upload_name(document.file_name or "")
        if document.file_size and document.file_size > limit:
            raise UploadError("too_large", size=document.file_size / 1e6, limit=limit / 1e6)
    except UploadError as exc:
        await incoming.message.reply_text(texts.UPLOAD["refused"][language].format(reason=exc))
        return
    number = await found.core.store.uploads.pend(incoming.user.id, document.file_id, name)
    log.info("admin %s sent a document to add (%s)", incoming.user.id, name)
    step, choices = "audience", ("public", "staff")
    if upload_exists(found.core.settings, name):
        step, choices = "exists", ("replace", "cancel")
    await incoming.message.reply_html(
        texts.UPLOAD[step][language].format(name=html.escape(name)),
        reply_markup=_buttons(number, language, choices),
    )


def _buttons(number: int, language: str, choices: tuple[str, ...]) -> InlineKeyboardMarkup:
    names = texts.UPLOAD_BUTTONS[language]
    row = [InlineKeyboardButton(names[c], callback_data=f"up:{c}:{number}") for c in choices]
    return InlineKeyboardMarkup([row])


async def upload_pressed(update: Update, context: Context) -> None:
    pressed = await admin_press(update, context, _UPLOAD)
    if pressed is None:
        return
    press, choice, number = pressed
    found, language, admin = context.services, user_language(update), press.query.from_user.id
    uploads = found.core.store.uploads
    pending = await uploads.get(number, admin)
    if pending is None:
        await press.query.answer(texts.EXPIRED[language])
        return
    await press.query.answer()
    if choice == "cancel":
        await uploads.take(number, admin)
        await press.edit(texts.UPLOAD["cancelled"][language].format(name=html.escape(pending.name)))
    elif choice == "replace":
        await press.edit(
            texts.UPLOAD["audience"][language].format(name=html.escape(pending.name)),
            _buttons(number, language, ("public", "staff")),
        )
    elif choice in ("public", "staff"):
        await uploads.choose(number, admin, audience=choice)
        await press.edit(
            texts.UPLOAD["language"][language].format(name=html.escape(pending.name)),
            _buttons(number, language, ("zh", "en")),
        )
    elif choice in ("zh", "en"):
        await uploads.choose(number, admin, language=choice)
        await found.core.store.curated.await_text(admin, "title", number)
        stem = Path(pending.name).stem
        keyboard = InlineKeyboardMarkup(
            [[InlineKeyboardButton(f"“{stem[:40]}”", callback_data=f"up:name:{number}")]]
        )
        await press.edit(texts.UPLOAD["title"][language].format(name=html.escape(stem)), keyboard)
    else:
        await found.core.store.curated.take_awaited(admin)  # the button answered the question
        await add_pending(context, press.chat_id, admin, number, Path(pending.name).stem, language)


async def add_pending(
    context: Context, chat_id: int, admin: int, number: int, title: str, language: str
) -> None:
    """Fetch the pending upload's file from Telegram, add it and re-index."""
    found = context.services
    pending = await found.core.store.uploads.take(number, admin)
    if pending is None or pending.audience is None or pending.language is None:
        await context.bot.send_message(chat_id, texts.EXPIRED[language])
        return
    fields = {
        "title": title,
        "topic": "staff" if pending.audience == "staff" else "faq",
        "audience": pending.audience,
        "lang": pending.language,
        "status": "official",
        "source": f"sent to the bot by admin {admin}",
    }
    try:
        sent = await context.bot.get_file(pending.file_id)
        data = bytes(await sent.download_as_bytearray())
        path = await asyncio.to_thread(
            add_document, found.core.settings, pending.name, data, fields, True
        )
    except (UploadError, TelegramError) as exc:
        reply = texts.UPLOAD["refused"][language].format(reason=exc)
        await context.bot.send_message(chat_id, reply)
        return
    detail = f"{path} ({len(data)} bytes, in Telegram)"
    await found.core.store.web.record(await found.core.person(admin), "upload", detail)
    added = await context.bot.send_message(
        chat_id,
        texts.UPLOAD["added"][language].format(path=html.escape(path)),
        parse_mode=ParseMode.HTML,
    )
    await reindex_with_progress(added, context, language)

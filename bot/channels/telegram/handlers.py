"""Telegram handlers for learners and staff: questions, feedback, sources, courses, /new and
/register. Each parses the update, asks a service, renders and replies."""

from __future__ import annotations

import logging
import re

from telegram import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
    MessageEntity,
    Update,
    User,
)
from telegram.constants import ChatAction, ParseMode
from telegram.ext import ApplicationHandlerStop

from alliance.language import detect_language, has_chinese
from bot.channels import labels
from bot.channels.telegram import texts
from bot.channels.telegram.context import (
    Context,
    Incoming,
    Press,
    client_language,
    user_language,
)
from bot.channels.telegram.render import render_answer, render_sources
from bot.engine.results import audiences_for
from bot.services.asking import Asker, SlowDown, TooLong

log = logging.getLogger(__name__)


def reply_language(user: User, text: str) -> str:
    """Replies follow the question's language; with no words to go by, the user's client."""
    return detect_language(text) if re.search(r"\w", text) else client_language(user)


# Each update once
HANDLED_ELSEWHERE = "handled_elsewhere"  # bot_data: ids of updates another process is handling


async def claim_update(update: Update, context: Context) -> None:
    """First of all handlers: an update handled before (Telegram re-delivering it) stops here.
    One whose handling was cut short by a crash is handled again; one being handled by another
    replica now is marked for the webhook to ask Telegram to deliver it again later."""
    found = context.services
    if await found.core.claim(found.bot_id, update.update_id, found.polling_since):
        return
    if await found.core.store.update_finished(found.bot_id, update.update_id):
        log.warning("update %s was handled before; skipped", update.update_id)
    else:
        log.warning("update %s is being handled elsewhere; left for later", update.update_id)
        context.bot_data.setdefault(HANDLED_ELSEWHERE, set()).add(update.update_id)
    raise ApplicationHandlerStop


async def finish_update(update: Update, context: Context) -> None:
    """Last of all handlers, after the reply (or the error message) went out."""
    found = context.services
    await found.core.store.finish_update(found.bot_id, update.update_id)


# Greetings and commands
async def start(update: Update, context: Context) -> None:
    await Incoming.of(update).message.reply_html(texts.WELCOME[user_language(update)])


async def help_command(update: Update, context: Context) -> None:
    incoming = Incoming.of(update)
    language = user_language(update)
    text = texts.HELP[language]
    if await context.services.core.roles.is_admin(incoming.user.id):
        text += texts.ADMIN_HELP[language]
    text += "\n\n" + texts.EXAMPLES[language]
    await incoming.message.reply_html(text)


async def new_conversation(update: Update, context: Context) -> None:
    incoming = Incoming.of(update)
    await context.services.core.store.new_conversation(incoming.chat.id, incoming.user.id)
    await incoming.message.reply_text(texts.NEW_CONVERSATION[user_language(update)])


async def courses(update: Update, context: Context) -> None:
    incoming, found = Incoming.of(update), context.services
    filters_text = " ".join(context.args or [])
    language = "zh" if has_chinese(filters_text) else user_language(update)
    role = await found.core.roles.role(incoming.user.id, incoming.private)
    answer = await found.core.engine.courses(filters_text, role, language)
    for text in render_answer(answer):
        await incoming.message.reply_html(text)


async def register(update: Update, context: Context) -> None:
    incoming = Incoming.of(update)
    language = user_language(update)
    if not incoming.private:
        await incoming.message.reply_text(labels.REGISTER["private_only"][language])
        return
    if context.args is None or len(context.args) != 1:
        await incoming.message.reply_text(labels.REGISTER["usage"][language])
        return
    outcome, branch = await context.services.core.roles.register(incoming.user.id, context.args[0])
    reply = labels.REGISTER[outcome][language]
    await incoming.message.reply_text(reply.format(branch=branch))


async def link(update: Update, context: Context) -> None:
    """`/link CODE`: the code from a person's account page links their Telegram id to it."""
    incoming = Incoming.of(update)
    language = user_language(update)
    if not incoming.private:
        await incoming.message.reply_text(labels.LINK["private_only"][language])
        return
    if context.args is None or len(context.args) != 1 or len(context.args[0]) > 100:
        await incoming.message.reply_text(labels.LINK["usage"][language])
        return
    people = context.services.core.people
    account = await people.link_telegram(context.args[0], incoming.user.id)
    if account is None:
        await incoming.message.reply_text(labels.LINK["wrong"][language])
        return
    await incoming.message.reply_text(
        labels.LINK["linked"][language].format(
            app="Telegram", name=account.name, role=account.described
        )
    )


# Questions
async def private_text(update: Update, context: Context) -> None:
    incoming = Incoming.of(update)
    await _respond(incoming, context, incoming.message.text or "")


async def group_text(update: Update, context: Context) -> None:
    """In groups the bot speaks only when spoken to: a mention or a reply to one of its
    messages. Everything else in the group is not for it."""
    incoming = Incoming.of(update)
    message = incoming.message
    mentions = [
        text
        for text in message.parse_entities([MessageEntity.MENTION]).values()
        if text.lower() == f"@{context.bot.username}".lower()
    ]
    if not mentions and not _replies_to_bot(message, context):
        return
    question = message.text or ""
    for mention in mentions:
        question = question.replace(mention, " ")
    await _respond(incoming, context, question)


async def ask(update: Update, context: Context) -> None:
    incoming = Incoming.of(update)
    question = " ".join(context.args or [])
    if not question.strip():
        await incoming.message.reply_text(texts.ASK_WHAT[user_language(update)])
        return
    await _respond(incoming, context, question)


async def not_text(update: Update, context: Context) -> None:
    """Stickers, photos, voice, files: a short pointer to typing, where the bot was addressed."""
    incoming = Incoming.of(update)
    if incoming.private or _replies_to_bot(incoming.message, context):
        await incoming.message.reply_text(texts.TEXT_ONLY[user_language(update)])


def _replies_to_bot(message: Message, context: Context) -> bool:
    replied = message.reply_to_message
    return bool(replied and replied.from_user and replied.from_user.id == context.bot.id)


async def _respond(incoming: Incoming, context: Context, question: str) -> None:
    found = context.services
    message, user, chat = incoming.message, incoming.user, incoming.chat
    language = reply_language(user, question)
    role = await found.core.roles.role(user.id, incoming.private)
    per_minute = found.core.settings.user_questions_per_minute
    asker = Asker(
        user_id=user.id, chat_id=chat.id, role=role, pace_id=user.id, per_minute=per_minute
    )
    if len(question) <= found.core.settings.max_question_chars:
        await chat.send_action(ChatAction.TYPING)
    outcome = await found.core.ask(asker, question)
    if isinstance(outcome, TooLong):
        reply = labels.TOO_LONG[language].format(length=outcome.length, limit=outcome.limit)
        await message.reply_text(reply)
        return
    if isinstance(outcome, SlowDown):
        await message.reply_text(labels.SLOW_DOWN[language].format(seconds=outcome.seconds))
        return
    answer, question_id = outcome.answer, outcome.question_id
    parts = render_answer(answer)
    # In a private chat, with the staff loop on, every answer can be passed to a person.
    person = incoming.private and await found.core.staff_loop_on()
    for number, part in enumerate(parts, start=1):
        keyboard = (
            _answer_keyboard(question_id, answer.language, person) if number == len(parts) else None
        )
        await message.reply_text(part, parse_mode=ParseMode.HTML, reply_markup=keyboard)


def _answer_keyboard(question_id: int, language: str, person: bool) -> InlineKeyboardMarkup:
    row = [
        InlineKeyboardButton("👍", callback_data=f"vote:{question_id}:1"),
        InlineKeyboardButton("👎", callback_data=f"vote:{question_id}:-1"),
        InlineKeyboardButton(
            texts.SOURCES_BUTTON[language], callback_data=f"sources:{question_id}"
        ),
    ]
    if person:
        row.append(
            InlineKeyboardButton(
                texts.ASK_PERSON_BUTTON[language], callback_data=f"person:{question_id}"
            )
        )
    return InlineKeyboardMarkup([row])


# Buttons under answers
_VOTE = re.compile(r"vote:(\d{1,18}):(1|-1)")
_SOURCES = re.compile(r"sources:(\d{1,18})")


async def vote(update: Update, context: Context) -> None:
    press = Press.of(update)
    language = user_language(update)
    match = _VOTE.fullmatch(press.data)
    if match is None:
        await press.query.answer()
        return
    question_id, value = int(match.group(1)), int(match.group(2))
    voter = press.query.from_user.id
    recorded = await context.services.core.store.record_feedback(question_id, voter, value)
    log.info("user %s voted %+d on question %s", voter, value, question_id)
    await press.query.answer(labels.THANKS[language] if recorded else texts.EXPIRED[language])


async def stale_button(update: Update, context: Context) -> None:
    """Any other button press (an old or forged one): stop the client's spinner, do nothing."""
    await Press.of(update).query.answer()


async def show_sources(update: Update, context: Context) -> None:
    press = Press.of(update)
    language = user_language(update)
    match = _SOURCES.fullmatch(press.data)
    found = context.services
    logged = await found.core.store.logged(int(match.group(1))) if match else None
    if logged is None:
        await press.query.answer(texts.EXPIRED[language] if match else None)
        return
    # Only what the one pressing the button may read, whoever asked.
    role = await found.core.roles.role(press.query.from_user.id, press.private)
    allowed = audiences_for(role)
    cited = [item for item in logged.sources if item.get("audience") in allowed]
    await press.query.answer()
    for text in render_sources(cited) if cited else [labels.NO_SOURCES[logged.language]]:
        await context.bot.send_message(press.chat_id, text, parse_mode=ParseMode.HTML)

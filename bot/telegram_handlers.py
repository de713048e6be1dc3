"""Telegram handlers for learners and staff: questions, feedback, sources, courses, /new and
/register. Each parses the update, asks a service, renders and replies."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message, MessageEntity, Update
from telegram.constants import ChatAction, ChatType, ParseMode
from telegram.ext import ApplicationHandlerStop, ContextTypes

from alliance.language import detect_language, has_chinese
from alliance.settings import Settings
from bot import telegram_texts as texts
from bot.answers import audiences_for
from bot.engine import Engine
from bot.reindex import Reindexer
from bot.roles import Roles
from bot.store import Store
from bot.telegram_render import cited_passages, render_answer, render_sources

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Services:
    """What the handlers use, kept in `application.bot_data["services"]`."""

    settings: Settings
    engine: Engine
    store: Store
    roles: Roles
    reindexer: Reindexer
    # When this process began long polling. Telegram lets one process poll a bot at a time, so
    # an unfinished claim from before then was left by a process that is gone. None in webhook
    # mode, where replicas run side by side.
    polling_since: datetime | None = None


def services(context: ContextTypes.DEFAULT_TYPE) -> Services:
    return context.bot_data["services"]


def user_language(update: Update) -> str:
    """The language of the user's Telegram client: Chinese or English."""
    code = update.effective_user.language_code if update.effective_user else None
    return "zh" if (code or "").lower().startswith("zh") else "en"


def reply_language(update: Update, text: str) -> str:
    """Replies follow the question's language; with no words to go by, the user's client."""
    return detect_language(text) if re.search(r"\w", text) else user_language(update)


def _private(update: Update) -> bool:
    return update.effective_chat is not None and update.effective_chat.type == ChatType.PRIVATE


# Each update once
CLAIM_STALE_AFTER = timedelta(minutes=2)  # a claim this old without an answer was a crash


async def claim_update(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """First of all handlers: an update handled before (Telegram re-delivering it) stops here.
    One whose handling was cut short by a crash is handled again."""
    found = services(context)
    abandoned_before = datetime.now(UTC) - CLAIM_STALE_AFTER
    if found.polling_since is not None:
        abandoned_before = max(abandoned_before, found.polling_since)
    if not await found.store.claim_update(update.update_id, abandoned_before):
        log.info("update %s was handled before; skipped", update.update_id)
        raise ApplicationHandlerStop


async def finish_update(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Last of all handlers, after the reply (or the error message) went out."""
    await services(context).store.finish_update(update.update_id)


# Greetings and commands
async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await update.effective_message.reply_html(texts.WELCOME[user_language(update)])


async def help_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    language = user_language(update)
    text = texts.HELP[language]
    if services(context).roles.is_admin(update.effective_user.id):
        text += texts.ADMIN_HELP[language]
    text += "\n\n" + texts.EXAMPLES[language]
    await update.effective_message.reply_html(text)


async def new_conversation(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await services(context).store.new_conversation(
        update.effective_chat.id, update.effective_user.id
    )
    await update.effective_message.reply_text(texts.NEW_CONVERSATION[user_language(update)])


async def courses(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    found = services(context)
    filters_text = " ".join(context.args or [])
    language = "zh" if has_chinese(filters_text) else user_language(update)
    role = await found.roles.role(update.effective_user.id, _private(update))
    answer = await found.engine.courses(filters_text, role, language)
    for text in render_answer(answer):
        await update.effective_message.reply_html(text)


async def register(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    language = user_language(update)
    if not _private(update):
        await update.effective_message.reply_text(texts.REGISTER["private_only"][language])
        return
    if len(context.args or []) != 1:
        await update.effective_message.reply_text(texts.REGISTER["usage"][language])
        return
    outcome, branch = await services(context).roles.register(
        update.effective_user.id, context.args[0]
    )
    reply = texts.REGISTER[outcome][language]
    await update.effective_message.reply_text(reply.format(branch=branch))


# Questions
async def private_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await _respond(update, context, update.effective_message.text or "")


async def group_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """In groups the bot speaks only when spoken to: a mention or a reply to one of its
    messages. Everything else in the group is not for it."""
    message = update.effective_message
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
    await _respond(update, context, question)


async def ask(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    question = " ".join(context.args or [])
    if not question.strip():
        await update.effective_message.reply_text(texts.ASK_WHAT[user_language(update)])
        return
    await _respond(update, context, question)


async def not_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Stickers, photos, voice, files: a short pointer to typing, where the bot was addressed."""
    if _private(update) or _replies_to_bot(update.effective_message, context):
        await update.effective_message.reply_text(texts.TEXT_ONLY[user_language(update)])


def _replies_to_bot(message: Message, context: ContextTypes.DEFAULT_TYPE) -> bool:
    replied = message.reply_to_message
    return bool(replied and replied.from_user and replied.from_user.id == context.bot.id)


async def _respond(update: Update, context: ContextTypes.DEFAULT_TYPE, question: str) -> None:
    found = services(context)
    settings = found.settings
    message, user, chat = update.effective_message, update.effective_user, update.effective_chat
    language = reply_language(update, question)
    limit = settings.max_question_chars
    if len(question) > limit:
        reply = texts.TOO_LONG[language].format(length=len(question), limit=limit)
        await message.reply_text(reply)
        return
    wait = await found.store.take_question(user.id, settings.user_questions_per_minute)
    if wait:
        await message.reply_text(texts.SLOW_DOWN[language].format(seconds=max(1, round(wait))))
        return
    await chat.send_action(ChatAction.TYPING)
    role = await found.roles.role(user.id, _private(update))
    max_age = timedelta(seconds=settings.history_max_age_s)
    history = await found.store.history(chat.id, user.id, settings.history_turns, max_age)
    answer = await found.engine.answer(question, role, history)
    question_id = await found.store.log_question(
        user_id=user.id,
        chat_id=chat.id,
        question=question,
        answer=answer.answer,
        language=answer.language,
        abstained=answer.abstained,
        latency_ms=answer.latency_ms,
        sources=cited_passages(answer),
    )
    log.info(
        "answered user %s in chat %s in %.0f ms (role=%s, abstained=%s, sources=%d)",
        user.id,
        chat.id,
        answer.latency_ms,
        role,
        answer.abstained,
        len(answer.sources),
    )
    if settings.log_message_text:
        log.debug("user %s asked %r", user.id, question)
    parts = render_answer(answer)
    for number, part in enumerate(parts, start=1):
        keyboard = _answer_keyboard(question_id, answer.language) if number == len(parts) else None
        await message.reply_text(part, parse_mode=ParseMode.HTML, reply_markup=keyboard)


def _answer_keyboard(question_id: int, language: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton("👍", callback_data=f"vote:{question_id}:1"),
                InlineKeyboardButton("👎", callback_data=f"vote:{question_id}:-1"),
                InlineKeyboardButton(
                    texts.SOURCES_BUTTON[language], callback_data=f"sources:{question_id}"
                ),
            ]
        ]
    )


# Buttons under answers
_VOTE = re.compile(r"vote:(\d{1,18}):(1|-1)")
_SOURCES = re.compile(r"sources:(\d{1,18})")


async def vote(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    language = user_language(update)
    match = _VOTE.fullmatch(query.data or "")
    if match is None:
        await query.answer()
        return
    question_id, value = int(match.group(1)), int(match.group(2))
    recorded = await services(context).store.record_feedback(question_id, query.from_user.id, value)
    log.info("user %s voted %+d on question %s", query.from_user.id, value, question_id)
    await query.answer(texts.THANKS[language] if recorded else texts.EXPIRED[language])


async def stale_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Any other button press (an old or forged one): stop the client's spinner, do nothing."""
    await update.callback_query.answer()


async def show_sources(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    language = user_language(update)
    match = _SOURCES.fullmatch(query.data or "")
    found = services(context)
    logged = await found.store.logged(int(match.group(1))) if match else None
    if logged is None:
        await query.answer(texts.EXPIRED[language] if match else None)
        return
    # Only what the one pressing the button may read, whoever asked.
    role = await found.roles.role(query.from_user.id, _private(update))
    allowed = audiences_for(role)
    cited = [item for item in logged.sources if item.get("audience") in allowed]
    await query.answer()
    chat_id = query.message.chat.id if query.message else query.from_user.id
    for text in render_sources(cited) if cited else [texts.NO_SOURCES[logged.language]]:
        await context.bot.send_message(chat_id, text, parse_mode=ParseMode.HTML)

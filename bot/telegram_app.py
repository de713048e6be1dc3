"""The Telegram adapter: parse the update, ask the engine, render, reply. No retrieval here."""

import logging

from telegram import BotCommand, Update
from telegram.constants import ChatAction, ParseMode
from telegram.ext import (
    AIORateLimiter,
    Application,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from alliance.settings import Settings
from bot.answers import Role
from bot.engine import Engine
from bot.telegram_render import render_answer

log = logging.getLogger(__name__)

_WELCOME = {
    "en": (
        "Hello! I answer questions about the Chengdu–Chongqing RTVU Education Alliance: its "
        "charter, credit transfer (credit bank) and shared courses, from the alliance's "
        "documents, with sources.\n\nTry: <i>When was the alliance established?</i>\n"
        "In a group, use /ask followed by your question."
    ),
    "zh": (
        "您好！我根据联盟文件回答成渝地区双城经济圈广播电视大学教育联盟的相关问题：联盟章程、"
        "学分银行（学分认定）和共享课程，并注明出处。\n\n试试：<i>联盟是什么时候成立的？</i>\n"
        "在群组中，请使用 /ask 加上您的问题。"
    ),
}
_FAILED = {
    "en": "Sorry, something went wrong while answering. Please try again in a moment.",
    "zh": "抱歉，回答时出现错误，请稍后再试。",
}
_COMMANDS = {
    "en": [("start", "Welcome and examples"), ("help", "How to ask"), ("ask", "Ask a question")],
    "zh": [("start", "欢迎与示例"), ("help", "使用说明"), ("ask", "提问")],
}


def _language(update: Update) -> str:
    code = update.effective_user.language_code if update.effective_user else None
    return "zh" if (code or "").startswith("zh") else "en"


def _role(update: Update, settings: Settings) -> Role:
    user = update.effective_user
    return "staff" if user and user.id in settings.staff_user_ids else "learner"


async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await update.effective_message.reply_html(_WELCOME[_language(update)])


async def _answer(update: Update, context: ContextTypes.DEFAULT_TYPE, question: str) -> None:
    engine: Engine = context.bot_data["engine"]
    settings: Settings = context.bot_data["settings"]
    await update.effective_chat.send_action(ChatAction.TYPING)
    answer = await engine.answer(question, _role(update, settings))
    log.info(
        "answered user %s in %.0f ms (abstained=%s)",
        update.effective_user.id if update.effective_user else "?",
        answer.latency_ms,
        answer.abstained,
    )
    for text in render_answer(answer):
        await update.effective_message.reply_text(text, parse_mode=ParseMode.HTML)


async def private_question(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await _answer(update, context, update.effective_message.text or "")


async def ask(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    question = " ".join(context.args or [])
    if not question:
        await update.effective_message.reply_html(_WELCOME[_language(update)])
        return
    await _answer(update, context, question)


async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    log.error("update failed", exc_info=context.error)
    if isinstance(update, Update) and update.effective_message:
        await update.effective_message.reply_text(_FAILED[_language(update)])


async def _register_commands(app: Application) -> None:
    for language, commands in _COMMANDS.items():
        await app.bot.set_my_commands(
            [BotCommand(name, text) for name, text in commands],
            language_code=None if language == "en" else language,
        )


def build_app(settings: Settings, engine: Engine) -> Application:
    """The bot application with its handlers; services live in bot_data."""
    if settings.telegram_bot_token is None:
        raise ValueError("TELEGRAM_BOT_TOKEN is not set")
    app = (
        Application.builder()
        .token(settings.telegram_bot_token.get_secret_value())
        .base_url(settings.telegram_api_base_url)
        .rate_limiter(AIORateLimiter())
        .post_init(_register_commands)
        .build()
    )
    app.bot_data.update(engine=engine, settings=settings)
    app.add_handler(CommandHandler(["start", "help"], start))
    app.add_handler(CommandHandler("ask", ask))
    private_text = filters.TEXT & ~filters.COMMAND & filters.ChatType.PRIVATE
    app.add_handler(MessageHandler(private_text, private_question))
    app.add_error_handler(on_error)
    return app


def run_bot(settings: Settings, engine: Engine) -> None:
    """Long polling until interrupted."""
    log.info("starting the Telegram bot (long polling)")
    build_app(settings, engine).run_polling(allowed_updates=Update.ALL_TYPES)

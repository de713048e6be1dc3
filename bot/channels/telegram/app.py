"""The Telegram application: one factory that wires handlers to services, and the runner for
long polling or, when a webhook URL is set, webhook mode."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Sequence
from datetime import UTC, datetime

from telegram import BotCommand, BotCommandScopeChat, Update
from telegram.error import TelegramError
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    TypeHandler,
    filters,
)
from tornado.httpserver import HTTPServer

from alliance.errors import AllianceError
from alliance.settings import Settings
from bot.channels import health, labels
from bot.channels.telegram import admin, curation, escalation, gaps, handlers, texts, uploads
from bot.channels.telegram.context import (
    BotApplication,
    Context,
    Services,
    health_status,
    user_language,
)
from bot.channels.telegram.delivery import DeliveringRateLimiter
from bot.channels.telegram.notifier import TelegramNotifier
from bot.channels.telegram.ordering import PerChatInOrder
from bot.engine.answering import Engine
from bot.services.core import open_core

log = logging.getLogger(__name__)

# A 429 from Telegram is waited out (its retry_after) and the call retried, this many times.
MAX_RETRIES = 5
GROUP_MESSAGES_PER_MINUTE = 20  # Telegram's flood limit for one group (a staff chat)
# Updates handled at once: answers run in threads, so slow ones do not hold up the rest.
CONCURRENT_UPDATES = 64
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGABRT)  # python-telegram-bot's default


async def on_error(update: object, context: Context) -> None:
    """Log the traceback and tell the user; the bot carries on with the next update."""
    if update is None:  # long polling failed; python-telegram-bot tries again by itself
        log.warning("polling failed, retrying: %s", context.error)
        return
    if isinstance(context.error, AllianceError):  # understood: no traceback needed
        log.warning("update failed: %s", context.error)
    else:
        log.error("update failed", exc_info=context.error)
    if isinstance(update, Update) and update.effective_message:
        try:
            await update.effective_message.reply_text(labels.FAILED[user_language(update)])
        except TelegramError as exc:
            log.error("could not tell the user about the failure: %s", exc)


def file_base_url(base_url: str) -> str:
    """Where files are downloaded from, beside the Bot API: .../bot becomes .../file/bot."""
    root = base_url[: -len("/bot")] if base_url.endswith("/bot") else base_url.rstrip("/")
    return f"{root}/file/bot"


def build_app(settings: Settings, engine: Engine) -> BotApplication:
    """The bot application with its handlers. The store opens (and closes) with the
    application, on its event loop."""
    if settings.telegram_bot_token is None:
        raise ValueError("TELEGRAM_BOT_TOKEN is not set")
    app = (
        Application.builder()
        .token(settings.telegram_bot_token.get_secret_value())
        .base_url(settings.telegram_api_base_url)
        .base_file_url(file_base_url(settings.telegram_api_base_url))
        .context_types(ContextTypes(context=Context))
        .rate_limiter(
            DeliveringRateLimiter(
                overall_max_rate=settings.telegram_messages_per_second,
                # Telegram's 20 a minute per group, unless the bot's own limit is lifted (a
                # local Bot API server has neither).
                group_max_rate=GROUP_MESSAGES_PER_MINUTE
                if settings.telegram_messages_per_second
                else 0,
                max_retries=MAX_RETRIES,
            )
        )
        .concurrent_updates(PerChatInOrder(CONCURRENT_UPDATES))
        .post_init(lambda app: start_services(app, settings, engine))
        .post_shutdown(stop_services)
        .build()
    )
    private, groups = filters.ChatType.PRIVATE, filters.ChatType.GROUPS
    text = filters.UpdateType.MESSAGE & filters.TEXT & ~filters.COMMAND
    document = filters.UpdateType.MESSAGE & filters.Document.ALL
    staff_chats = [settings.staff_chat_id, *settings.branch_staff_chats.values()]
    in_staff_chat = filters.Chat(chat_id=[c for c in staff_chats if c is not None])
    app.add_handlers(
        [
            CommandHandler("start", handlers.start),
            CommandHandler("help", handlers.help_command),
            CommandHandler("ask", handlers.ask),
            CommandHandler("courses", handlers.courses),
            CommandHandler("new", handlers.new_conversation),
            CommandHandler("register", handlers.register),
            CommandHandler("link", handlers.link),
            CommandHandler("reindex", admin.reindex),
            CommandHandler("stats", admin.stats),
            CommandHandler("weblogin", admin.weblogin),
            CommandHandler("tickets", escalation.open_tickets),
            CommandHandler("mytickets", escalation.my_tickets),
            CommandHandler("branch", escalation.choose_branch),
            CommandHandler("curated", curation.curated_command),
            CommandHandler("review", curation.review_command),
            CommandHandler("gaps", gaps.gaps_command),
            MessageHandler(text & private & filters.REPLY, escalation.private_reply),
            MessageHandler(text & private, curation.private_text),
            MessageHandler(text & groups & in_staff_chat, escalation.staff_chat_message),
            MessageHandler(text & groups, handlers.group_text),
            MessageHandler(document & private, uploads.document_sent),
            MessageHandler(
                filters.UpdateType.MESSAGE & ~filters.TEXT & ~filters.StatusUpdate.ALL,
                handlers.not_text,
            ),
            CallbackQueryHandler(handlers.vote, pattern=r"^vote:"),
            CallbackQueryHandler(handlers.show_sources, pattern=r"^sources:"),
            CallbackQueryHandler(escalation.person_pressed, pattern=r"^person"),
            CallbackQueryHandler(escalation.branch_pressed, pattern=r"^branch:"),
            CallbackQueryHandler(curation.keep_pressed, pattern=r"^keep:"),
            CallbackQueryHandler(curation.curated_pressed, pattern=r"^cur:"),
            CallbackQueryHandler(curation.review_pressed, pattern=r"^rev:"),
            CallbackQueryHandler(uploads.upload_pressed, pattern=r"^up:"),
            CallbackQueryHandler(handlers.stale_button),
        ]
    )
    app.add_handler(TypeHandler(Update, handlers.claim_update), group=-1)
    app.add_handler(TypeHandler(Update, handlers.finish_update), group=1)
    app.add_error_handler(on_error)
    return app


async def start_services(app: BotApplication, settings: Settings, engine: Engine) -> None:
    core_scope = contextlib.AsyncExitStack()
    app.bot_data["core_scope"] = core_scope
    core = await core_scope.enter_async_context(open_core(settings, engine))
    app.bot_data["services"] = Services(
        core=core,
        bot_id=app.bot.id,  # known once the application is initialised (getMe)
        polling_since=None if settings.telegram_webhook_url else datetime.now(UTC),
    )
    await _register_commands(app, settings)
    rounds = core.rounds(TelegramNotifier(app.bot, core))
    app.bot_data["ticket_rounds"] = asyncio.create_task(rounds.keep_running(), name="rounds")
    if not settings.telegram_webhook_url:
        # Long polling has no server of its own: /healthz and /metrics on one for the purpose.
        app.bot_data["health_server"] = health.listen(settings, health_status(app), lambda: core)


async def stop_services(app: BotApplication) -> None:
    server: HTTPServer | None = app.bot_data.get("health_server")
    if server is not None:
        server.stop()
    rounds: asyncio.Task[None] | None = app.bot_data.get("ticket_rounds")
    if rounds is not None:
        rounds.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await rounds
    core_scope: contextlib.AsyncExitStack | None = app.bot_data.get("core_scope")
    if core_scope is not None:
        await core_scope.aclose()


async def _register_commands(app: BotApplication, settings: Settings) -> None:
    """The command menu in English (the default) and Chinese; admins also see theirs."""
    for language, commands in texts.COMMANDS.items():
        code = None if language == "en" else language
        await app.bot.set_my_commands(
            [BotCommand(name, text) for name, text in commands], language_code=code
        )
        admin_commands = commands + texts.ADMIN_COMMANDS[language]
        for admin_id in settings.admin_user_ids:
            try:
                await app.bot.set_my_commands(
                    [BotCommand(name, text) for name, text in admin_commands],
                    scope=BotCommandScopeChat(admin_id),
                    language_code=code,
                )
            except TelegramError as exc:  # an admin who never opened a chat with the bot
                log.warning("no command menu for admin %s: %s", admin_id, exc)


def run_bot(settings: Settings, engine: Engine) -> None:
    """Serve until interrupted: long polling, or webhook mode when a webhook URL is set."""
    app = build_app(settings, engine)
    if settings.telegram_webhook_url:
        from bot.channels.telegram.webhook import run_webhook

        run_webhook(app, settings)
        return
    log.info("starting the Telegram bot (long polling)")
    poll(app)


def poll(app: BotApplication, stop_signals: Sequence[int] | None = STOP_SIGNALS) -> None:
    """Long polling, every kind of update, retrying Telegram until it answers; until a stop
    signal, or `app.stop_running()` (with none, as off the main thread, where signals cannot be
    caught)."""
    app.run_polling(
        allowed_updates=Update.ALL_TYPES, bootstrap_retries=-1, stop_signals=stop_signals
    )
